import fs from 'node:fs';
import path from 'node:path';
import { migrationsDir } from '../../platform/database/data-source';
import { withScratchDatabase } from '../../platform/database/scratch-database';
import { ENTITIES } from '../entities';

/**
 * `npm run migration:generate -- AddFavorites`: writes migrations/<timestamp>-add-favorites.ts with the
 * SQL that turns the current migrations' schema into the entities' schema, with a matching down().
 */
async function main() {
  const name = process.argv[2];
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    console.error('usage: npm run migration:generate -- <PascalCaseName>');
    process.exit(2);
  }
  const { up, down } = await withScratchDatabase(async (ds) => {
    await ds.runMigrations({ transaction: 'each' });
    const log = await ds.driver.createSchemaBuilder().log();
    return { up: log.upQueries, down: log.downQueries.reverse() };
  }, { entities: ENTITIES });
  if (!up.length) {
    console.log('No changes: the migrations already match the entities.');
    return;
  }
  const ts = Date.now();
  const q = (s: string) => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
  const call = (x: { query: string; parameters?: unknown[] }) =>
    `    await queryRunner.query(${q(x.query)}${x.parameters?.length ? `, ${JSON.stringify(x.parameters)}` : ''});`;
  const body = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${ts} implements MigrationInterface {
  name = '${name}${ts}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${up.map(call).join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${down.map(call).join('\n')}
  }
}
`;
  const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  const file = path.join(migrationsDir(), `${ts}-${kebab}.ts`);
  fs.writeFileSync(file, body);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(`migration:generate failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
