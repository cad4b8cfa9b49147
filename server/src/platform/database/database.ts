import path from 'node:path';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import type { Logger } from '../logging/logger';
import { createDataSource } from './data-source';
import { startPostgres, type PostgresServer } from './postgres-server';

export interface Database {
  dataSource: DataSource;
  /** Where the data lives, for the log and /readyz (never includes credentials). */
  description: string;
  /** Present when the server runs its own PostgreSQL (no DATABASE_URL). */
  embedded?: PostgresServer;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  migrationsRun: boolean;
  /** The application's entities (the composition root's registry). */
  entities: MixedList<Function | string | EntitySchema>;
  logger: Logger;
  /** How long to keep retrying an unreachable external database at start-up. */
  connectTimeoutMs?: number;
}

export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'postgres (unparseable URL)';
  }
}

/**
 * Opens the database: DATABASE_URL when given, else a real PostgreSQL of our own whose data lives
 * in STREAMSPACE_DATA_DIR/postgres and survives restarts. Runs pending migrations when configured.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { logger } = options;
  let embedded: PostgresServer | undefined;
  let url = options.databaseUrl;
  let description: string;
  if (url) {
    description = describeUrl(url);
  } else {
    const dir = path.join(options.dataDir, 'postgres');
    logger.info({ dir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
    embedded = await startPostgres({ dir, persistent: true, log: (line) => logger.debug({ postgres: line }, 'postgres') });
    url = embedded.url;
    description = `embedded PostgreSQL in ${dir} (127.0.0.1:${embedded.port})`;
  }

  const dataSource = createDataSource({ url, entities: options.entities });
  const deadline = Date.now() + (options.connectTimeoutMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.initialize();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await embedded?.stop();
        throw new Error(`Cannot connect to the database at ${description}: ${(err as Error).message}`, { cause: err });
      }
      logger.warn({ attempt, err: (err as Error).message, database: description }, 'database not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
  logger.info({ database: description }, 'connected to the database');

  if (options.migrationsRun) {
    // Replicas starting together take turns (a session-level advisory lock on a connection of its own): the first
    // applies the migrations, the others find the schema up to date instead of racing to create the same tables.
    const lock = dataSource.createQueryRunner();
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK]);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.info({ applied: applied.map((m) => m.name) }, applied.length ? 'migrations applied' : 'database schema is up to date');
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]).catch(() => undefined);
      await lock.release();
    }
  }

  return {
    dataSource,
    description,
    embedded,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

const MIGRATION_LOCK = 'streamspace:migrations';

/** Readiness: a trivial query with a timeout, so a dead database answers quickly. */
export async function pingDatabase(dataSource: DataSource, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dataSource.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
