import { loadConfig } from '../../config/config';
import { openDatabase } from '../../platform/database/database';
import { createLogger } from '../../platform/logging/logger';
import { ENTITIES } from '../entities';

/** `npm run migrate` (up: apply pending) and `npm run migrate:revert` (down: undo the last one). */
async function main() {
  const direction = process.argv[2] ?? 'up';
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrationsRun: false, entities: ENTITIES, logger });
  try {
    if (direction === 'down') {
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      logger.info('reverted the last migration');
    } else {
      const applied = await db.dataSource.runMigrations({ transaction: 'each' });
      logger.info({ applied: applied.map((m) => m.name) }, applied.length ? 'migrations applied' : 'nothing to migrate');
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(`migrate failed: ${(err as Error).message}`);
  process.exit(1);
});
