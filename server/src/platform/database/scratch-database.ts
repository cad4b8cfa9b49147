import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { createDataSource } from './data-source';
import { startPostgres } from './postgres-server';

/** Runs `fn` against a throw-away real PostgreSQL (migrations must start from an empty schema). */
export async function withScratchDatabase<T>(
  fn: (ds: DataSource) => Promise<T>,
  opts: { entities: MixedList<Function | string | EntitySchema> },
): Promise<T> {
  const pg = await startPostgres({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-pg-')), persistent: false });
  const ds = createDataSource({ url: pg.url, poolSize: 2, entities: opts.entities });
  try {
    await ds.initialize();
    return await fn(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await pg.stop();
  }
}
