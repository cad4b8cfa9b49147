import type { EntitySchema, MixedList } from 'typeorm';
import { pendingSchemaChanges } from './data-source';
import { withScratchDatabase } from './scratch-database';

/**
 * Applies every migration to an empty real PostgreSQL and returns the SQL the entities would still
 * need: empty means the migrations and the entities agree. `entities`: the app's registry (a test adds one to simulate a change).
 */
export async function findMigrationDrift(entities: MixedList<Function | string | EntitySchema>): Promise<string[]> {
  return withScratchDatabase(
    async (ds) => {
      await ds.runMigrations({ transaction: 'each' });
      return pendingSchemaChanges(ds);
    },
    { entities },
  );
}
