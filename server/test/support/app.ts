import 'reflect-metadata';
import { Writable } from 'node:stream';
import { createApp, type App, type CreateAppOptions } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase } from './postgres';

export interface TestApp extends App {
  /** Every JSON line the app logged. */
  logs: Record<string, unknown>[];
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
  wsUrl: string;
}

/**
 * Starts the real application (Express, Apollo, graphql-ws) on a free loopback port against a fresh
 * database on the test PostgreSQL. `env` overrides configuration variables; `options.cleanup` is the stack the
 * app's parts register their release on (a test's own, to watch it or to fail a step); `options.logLevel` (default
 * debug) is what `logs` collects (benches pass warn: logging every request costs more than the request).
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: Pick<CreateAppOptions, 'cleanup'> & { logLevel?: 'debug' | 'info' | 'warn' | 'error' } = {},
): Promise<TestApp> {
  const databaseUrl = env.DATABASE_URL ?? (await createTestDatabase('app'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    STREAMSPACE_CLUSTER: 'none',
    // Local mode keeps to kwok nodes unless a test asks for the real node (it costs an image import and a kubelet).
    STREAMSPACE_LOCAL_REAL_NODE: 'off',
    // The bootstrap admin every test can sign in as (test/support/auth.ts).
    STREAMSPACE_ADMIN_USERNAME: 'admin',
    STREAMSPACE_ADMIN_PASSWORD: 'admin-password-for-tests',
    // Several apps may run at once (replica tests): each session gateway on a free port.
    STREAMSPACE_GATEWAY_PORT: '0',
    ...env,
    DATABASE_URL: databaseUrl,
  } as NodeJS.ProcessEnv);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const app = await createApp(config, { cleanup: options.cleanup, logger: createLogger(options.logLevel ?? 'debug', sink) });
  const url = app.url.replace('localhost', '127.0.0.1');
  return {
    ...app,
    url,
    logs,
    wsUrl: url.replace('http', 'ws') + '/graphql',
    async gql(query, variables, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
  };
}
