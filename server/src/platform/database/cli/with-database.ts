import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { startPostgres } from '../postgres-server';

/**
 * Runs `fn` against DATABASE_URL when set, else against a throw-away real PostgreSQL
 * (used by migrations:check and migration:generate, which must start from an empty schema).
 */
export async function withScratchDatabase<T>(fn: (ds: DataSource) => Promise<T>, opts: { useEnvUrl?: boolean } = {}): Promise<T> {
  const envUrl = opts.useEnvUrl ? process.env.DATABASE_URL : undefined;
  const pg = envUrl ? undefined : await startPostgres({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-pg-')), persistent: false });
  const ds = createDataSource({ url: envUrl ?? pg!.url, poolSize: 2 });
  try {
    await ds.initialize();
    return await fn(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await pg?.stop();
  }
}
