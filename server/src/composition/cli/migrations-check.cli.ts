import { findMigrationDrift } from '../../platform/database/migrations-check';
import { ENTITIES } from '../entities';

/**
 * `npm run migrations:check`: fails when the entities would still need changes after every
 * migration ran, i.e. someone changed an entity without writing a migration.
 */
async function main() {
  const pending = await findMigrationDrift(ENTITIES);
  if (pending.length) {
    console.error('migrations:check: the entities differ from what the migrations create. Pending SQL:');
    for (const q of pending) console.error(`  ${q};`);
    console.error('Run `npm run migration:generate -- <Name>` and commit the new file in migrations/.');
    process.exit(1);
  }
  console.log('migrations:check: the migrations match the entities.');
}

main().catch((err) => {
  console.error(`migrations:check failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
