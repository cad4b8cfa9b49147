import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable the server reads, validated once at start.
 * A bad value stops the process with a message that names the variable (see ConfigError),
 * so a typo in a Helm value never turns into a half-working server.
 */

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const intFromEnv = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

/** Durations such as 30s, 5m, 1h (the same shape the CRDs use). */
const durationFromEnv = z
  .string()
  .regex(/^[0-9]+(ms|s|m|h)$/, { message: 'expected a duration such as 500ms, 30s, 5m or 1h' })
  .transform(parseDurationMs);

export function parseDurationMs(value: string): number {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid duration "${value}"`);
  const n = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return n * unit;
}

const postgresUrl = z
  .string()
  .url({ message: 'expected a URL such as postgres://user:password@host:5432/streamspace' })
  .refine((v) => /^postgres(ql)?:\/\//.test(v), { message: 'expected a postgres:// or postgresql:// URL' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const CLUSTER_MODES = ['auto', 'in-cluster', 'kubeconfig', 'local', 'none'] as const;

/** The table of variables: the README's configuration table mirrors it (a test keeps them in step). */
export const envSchema = z.object({
  PORT: intFromEnv(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  STREAMSPACE_DATA_DIR: z.string().min(1).default('.streamspace'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  STREAMSPACE_MIGRATIONS_RUN: booleanFromEnv.default(true),
  STREAMSPACE_GRAPHQL_INTROSPECTION: booleanFromEnv.default(true),
  STREAMSPACE_GRAPHQL_IDE: booleanFromEnv.default(true),
  STREAMSPACE_GRAPHQL_MAX_DEPTH: intFromEnv(2, 100).default(20),
  STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: intFromEnv(10, 1_000_000).default(2000),
  STREAMSPACE_CLUSTER: z.enum(CLUSTER_MODES, { message: `expected one of ${CLUSTER_MODES.join(', ')}` }).default('auto'),
  STREAMSPACE_SHUTDOWN_TIMEOUT: durationFromEnv.default(10_000),
  STREAMSPACE_DB_HEALTH_TIMEOUT: durationFromEnv.default(2_000),
  STREAMSPACE_COMMIT: z.string().optional(),
  STREAMSPACE_BUILD_DATE: z.string().optional(),
});

export type Env = z.input<typeof envSchema>;

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  migrationsRun: boolean;
  graphql: {
    introspection: boolean;
    ide: boolean;
    maxDepth: number;
    maxComplexity: number;
  };
  cluster: (typeof CLUSTER_MODES)[number];
  shutdownTimeoutMs: number;
  dbHealthTimeoutMs: number;
  build: { commit?: string; buildDate?: string };
}

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string; value?: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}${p.value !== undefined ? `="${p.value}"` : ''}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Variables whose values must never be echoed in an error (they may carry credentials). */
const SECRET_VARIABLES = new Set(['DATABASE_URL']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  // Empty strings count as unset, so `FOO=` in a .env file means "use the default".
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        return {
          variable,
          message: issue.message,
          value: SECRET_VARIABLES.has(variable) ? undefined : raw[variable],
        };
      }),
    );
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(cwd, e.STREAMSPACE_DATA_DIR),
    logLevel: e.LOG_LEVEL,
    migrationsRun: e.STREAMSPACE_MIGRATIONS_RUN,
    graphql: {
      introspection: e.STREAMSPACE_GRAPHQL_INTROSPECTION,
      ide: e.STREAMSPACE_GRAPHQL_IDE,
      maxDepth: e.STREAMSPACE_GRAPHQL_MAX_DEPTH,
      maxComplexity: e.STREAMSPACE_GRAPHQL_MAX_COMPLEXITY,
    },
    cluster: e.STREAMSPACE_CLUSTER,
    shutdownTimeoutMs: e.STREAMSPACE_SHUTDOWN_TIMEOUT,
    dbHealthTimeoutMs: e.STREAMSPACE_DB_HEALTH_TIMEOUT,
    build: { commit: e.STREAMSPACE_COMMIT, buildDate: e.STREAMSPACE_BUILD_DATE },
  };
}
