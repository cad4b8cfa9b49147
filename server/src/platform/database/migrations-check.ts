import type { EntitySchema, MixedList } from 'typeorm';
import { pendingSchemaChanges } from './data-source';
import { withScratchDatabase } from './cli/with-database';

/**
 * Applies every migration to an empty real PostgreSQL and returns the SQL the entities would still
 * need: empty means the migrations and the entities agree. `entities` lets a test simulate a change.
 */
export async function findMigrationDrift(entities?: MixedList<Function | string | EntitySchema>): Promise<string[]> {
  return withScratchDatabase(
    async (ds) => {
      await ds.runMigrations({ transaction: 'each' });
      return pendingSchemaChanges(ds);
    },
    { entities },
  );
}
