import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../../src/platform/database/postgres-server';

/**
 * One real PostgreSQL per mocha run, started on first use on a free port in a temp dir
 * (postgres.hooks.ts stops it). Each test file gets its own database, so tests never share rows.
 */
let shared: Promise<PostgresServer> | undefined;

export function getTestPostgres(): Promise<PostgresServer> {
  shared ??= startPostgres({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-test-pg-')), persistent: false });
  return shared;
}

export async function stopTestPostgres(): Promise<void> {
  if (!shared) return;
  const pg = await shared;
  shared = undefined;
  await pg.stop();
}

let counter = 0;

/** A fresh, empty database on the shared server; returns its URL. */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const pg = await getTestPostgres();
  const name = `${prefix}_${process.pid}_${++counter}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}
