import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { useFastTimestamps } from './timestamps';

/**
 * migrations/ lives at the repository root. From source (swc) this file is server/src/platform/database;
 * compiled, it is server/dist/server/src/platform/database and the migrations sit in server/dist/migrations.
 */
export function migrationsDir(): string {
  const compiled = path.resolve(__dirname, '../../../../migrations');
  const source = path.resolve(__dirname, '../../../../migrations');
  return fs.existsSync(compiled) ? compiled : source;
}

export function migrationGlob(): string {
  const ext = __filename.endsWith('.ts') ? 'ts' : 'js';
  return path.join(migrationsDir(), `*.${ext}`);
}

export interface DataSourceSettings {
  url: string;
  /** The application's entities (the composition root's registry). */
  entities: MixedList<Function | string | EntitySchema>;
  poolSize?: number;
  applicationName?: string;
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  useFastTimestamps();
  const options: DataSourceOptions = {
    type: 'postgres',
    url: settings.url,
    entities: settings.entities,
    migrations: [migrationGlob()],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; uuid-ossp would need a superuser to install.
    uuidExtension: 'pgcrypto',
    logging: false,
    poolSize: settings.poolSize ?? 10,
    applicationName: settings.applicationName ?? 'streamspace',
    extra: {
      // Fail fast when the database is down, so /readyz answers instead of hanging.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    },
  };
  return new DataSource(options);
}

/** SQL the entities would still need after all migrations ran; empty means no drift. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sqlInMemory = await dataSource.driver.createSchemaBuilder().log();
  return sqlInMemory.upQueries.map((q) => q.query);
}
