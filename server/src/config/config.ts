import path from 'node:path';
import { z } from 'zod';
import { checkKnownHosts } from '../modules/catalog/git-url';

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

const httpUrl = z
  .string()
  .url({ message: 'expected an http:// or https:// URL' })
  .refine((v) => /^https?:\/\//.test(v), { message: 'expected an http:// or https:// URL' });

const commaList = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** Origins such as https://streamspace.example.com (scheme, host, optional port; no path). */
const originList = commaList.pipe(
  z.array(z.string().refine((v) => /^https?:\/\/[^/\s]+$/.test(v), { message: 'expected origins such as https://streamspace.example.com' })),
);

const usernameFromEnv = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: 'expected lower-case letters, digits, dot, dash or underscore' });

/** Kubernetes-style quantities: 4, 500m (CPU cores), 8Gi, 512Mi (bytes). */
const quantityFromEnv = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, { message: 'expected a quantity such as 4, 500m, 8Gi or 512Mi' })
  .transform(parseSimpleQuantity);

/** Parses the subset of Kubernetes quantities accepted in configuration into base units. */
export function parseSimpleQuantity(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (!m) throw new Error(`invalid quantity "${value}"`);
  const factor: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * factor[m[2] ?? ''];
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const CLUSTER_MODES = ['auto', 'in-cluster', 'kubeconfig', 'local', 'none'] as const;

/** The table of variables: the README's configuration table mirrors it (a test keeps them in step). */
/** A dotted IPv4 address, with an optional :port. */
const IPV4_HOST = /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/;

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
  STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: intFromEnv(10, 1_000_000).default(10_000),
  STREAMSPACE_GRAPHQL_MAX_ALIASES: intFromEnv(1, 1000).default(15),
  STREAMSPACE_GRAPHQL_MAX_DIRECTIVES: intFromEnv(1, 1000).default(50),
  STREAMSPACE_TRUST_PROXY: z
    .string()
    .transform((v) => (v.trim() === 'none' ? [] : v.split(',').map((x) => x.trim()).filter(Boolean)))
    .pipe(z.array(z.string().regex(/^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/, { message: 'expected none, or a comma-separated list of loopback, linklocal, uniquelocal, IP addresses or CIDRs' })))
    .default(['loopback']),
  STREAMSPACE_GRAPHQL_WS_MAX_PAYLOAD: intFromEnv(1024, 64 * 1024 * 1024).default(1024 * 1024),
  STREAMSPACE_GRAPHQL_WS_ANONYMOUS_TIMEOUT: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(60_000),
  STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER: intFromEnv(1, 10_000).default(20),
  STREAMSPACE_GRAPHQL_WS_MAX_SUBSCRIPTIONS_PER_USER: intFromEnv(1, 100_000).default(50),
  STREAMSPACE_CLUSTER: z.enum(CLUSTER_MODES, { message: `expected one of ${CLUSTER_MODES.join(', ')}` }).default('auto'),
  /** Kubeconfig file(s) for STREAMSPACE_CLUSTER=auto|kubeconfig, separated by ':' as kubectl reads them. */
  KUBECONFIG: z.string().optional(),
  STREAMSPACE_SHUTDOWN_TIMEOUT: durationFromEnv.default(10_000),
  STREAMSPACE_DB_HEALTH_TIMEOUT: durationFromEnv.default(2_000),
  STREAMSPACE_METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  STREAMSPACE_GIT_ALLOW_FILE: booleanFromEnv.default(false),
  STREAMSPACE_GIT_TIMEOUT: durationFromEnv.default(300_000),
  STREAMSPACE_GIT_SSH_KNOWN_HOSTS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      try {
        return checkKnownHosts(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  STREAMSPACE_CATALOG_MAX_FILE_SIZE: intFromEnv(1024, 64 * 1024 * 1024).default(1024 * 1024),
  STREAMSPACE_CATALOG_MAX_FILES: intFromEnv(1, 1_000_000).default(20_000),
  STREAMSPACE_CATALOG_REPOSITORY: z
    .string()
    .regex(/^((https|ssh|file):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/, { message: 'expected an https://, ssh:// or user@host:path Git URL' })
    .optional(),
  STREAMSPACE_CATALOG_REPOSITORY_BRANCH: z.string().regex(/^[A-Za-z0-9._/-]+$/, { message: 'expected a branch name' }).default('main'),
  STREAMSPACE_COMMIT: z.string().optional(),
  STREAMSPACE_BUILD_DATE: z.string().optional(),
  // Identity and access (docs/identity.md).
  STREAMSPACE_PUBLIC_URL: httpUrl.optional(),
  STREAMSPACE_TRUSTED_ORIGINS: originList.default([]),
  STREAMSPACE_ADMIN_USERNAME: usernameFromEnv.default('admin'),
  STREAMSPACE_ADMIN_PASSWORD: z.string().min(8, { message: 'must be at least 8 characters' }).optional(),
  STREAMSPACE_ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
  STREAMSPACE_JWT_SIGNING_KEY: z
    .string()
    .refine((v) => /-----BEGIN PRIVATE KEY-----/.test(v), { message: 'expected a PKCS#8 PEM private key (EC P-256, Ed25519 or RSA)' })
    .optional(),
  STREAMSPACE_ACCESS_TOKEN_TTL: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(15 * 60_000),
  STREAMSPACE_REFRESH_TOKEN_TTL: durationFromEnv.pipe(z.number().min(60_000, { message: 'must be at least 1m' })).default(30 * 24 * 3_600_000),
  STREAMSPACE_REFRESH_ABSOLUTE_LIFETIME: durationFromEnv.pipe(z.number().min(60_000, { message: 'must be at least 1m' })).default(30 * 24 * 3_600_000),
  STREAMSPACE_COOKIE_SECURE: z.enum(['auto', 'true', 'false'], { message: 'expected auto, true or false' }).default('auto'),
  STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: intFromEnv(1, 100_000).default(30),
  STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: intFromEnv(1, 100_000).default(10),
  STREAMSPACE_LOGIN_RATE_LIMIT_WINDOW: durationFromEnv.default(15 * 60_000),
  STREAMSPACE_OIDC_ISSUER: httpUrl.optional(),
  STREAMSPACE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  STREAMSPACE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  STREAMSPACE_OIDC_REDIRECT_URL: httpUrl.optional(),
  STREAMSPACE_OIDC_SCOPES: z.string().min(1).default('openid profile email'),
  STREAMSPACE_OIDC_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
  STREAMSPACE_OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  STREAMSPACE_OIDC_ADMIN_GROUPS: commaList.default([]),
  STREAMSPACE_OIDC_OPERATOR_GROUPS: commaList.default([]),
  STREAMSPACE_OIDC_AUDITOR_GROUPS: commaList.default([]),
  STREAMSPACE_OIDC_SYNC_GROUPS: booleanFromEnv.default(false),
  STREAMSPACE_OIDC_POST_LOGIN_REDIRECT: z.string().regex(/^\/[^/\\]?/, { message: 'expected a path on this server, such as / or /admin/' }).default('/'),
  STREAMSPACE_QUOTA_MAX_SESSIONS: intFromEnv(0, 10_000).default(10),
  STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: intFromEnv(0, 10_000).default(3),
  STREAMSPACE_QUOTA_CPU: quantityFromEnv.default(8),
  STREAMSPACE_QUOTA_MEMORY: quantityFromEnv.default(16 * 2 ** 30),
  STREAMSPACE_PORTAL_ANNOUNCEMENT: z.string().max(500, { message: 'must be at most 500 characters' }).default(''),
  // Sessions and templates.
  STREAMSPACE_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name (DNS label)' }).max(63).default('streamspace'),
  STREAMSPACE_PLATFORM_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name (DNS label)' }).max(63).optional(),
  STREAMSPACE_INSTALL_CRDS: booleanFromEnv.default(true),
  STREAMSPACE_LEADER_ELECTION: booleanFromEnv.default(true),
  STREAMSPACE_LEADER_LEASE_DURATION: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(15_000),
  STREAMSPACE_RECONCILE_RESYNC: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(5 * 60_000),
  STREAMSPACE_SESSION_STARTUP_TIMEOUT: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(5 * 60_000),
  STREAMSPACE_SESSION_INGRESS: z.enum(['none', 'host', 'path'], { message: 'expected none, host or path' }).default('none'),
  // An optional :port is kept in session URLs (an ingress controller on a non-standard port), never in Ingress rules.
  // Ingress rules take DNS names only: an IP address would make every session's Ingress fail validation.
  STREAMSPACE_SESSION_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[1-9][0-9]{0,4})?$/, { message: 'expected a DNS domain such as apps.example.com (optionally with :port)' })
    .refine((v) => !IPV4_HOST.test(v), { message: 'an IP address cannot be an Ingress host; use a DNS name' })
    .optional(),
  STREAMSPACE_SESSION_HOST: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[1-9][0-9]{0,4})?$/, { message: 'expected a host name such as streamspace.example.com (optionally with :port)' })
    .refine((v) => !IPV4_HOST.test(v), { message: 'an IP address cannot be an Ingress host; use a DNS name (localhost works for local tests)' })
    .optional(),
  STREAMSPACE_SESSION_INGRESS_CLASS: z.string().min(1).optional(),
  STREAMSPACE_SESSION_TLS_SECRET: z.string().min(1).optional(),
  STREAMSPACE_HOME_SIZE: z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, { message: 'expected a size such as 10Gi' }).default('10Gi'),
  STREAMSPACE_HOME_STORAGE_CLASS: z.string().min(1).optional(),
  // Session policies and feature flags: defaults admins may override at runtime (modules/configuration).
  STREAMSPACE_SESSION_DEFAULT_CPU: quantityFromEnv.optional(),
  STREAMSPACE_SESSION_DEFAULT_MEMORY: quantityFromEnv.optional(),
  STREAMSPACE_SESSION_MAX_CPU: quantityFromEnv.optional(),
  STREAMSPACE_SESSION_MAX_MEMORY: quantityFromEnv.optional(),
  STREAMSPACE_SESSION_MAX_DURATION: durationFromEnv.pipe(z.number().min(60_000, { message: 'must be at least 1m' })).optional(),
  STREAMSPACE_FEATURE_SHARING: booleanFromEnv.default(true),
  STREAMSPACE_FEATURE_CATALOG: booleanFromEnv.default(true),
  STREAMSPACE_FEATURE_INTERNET_EGRESS: booleanFromEnv.default(true),
  STREAMSPACE_LOCAL_REAL_NODE: z.enum(['auto', 'off'], { message: 'expected auto or off' }).default('auto'),
  STREAMSPACE_SESSION_NODE_SELECTOR: z
    .string()
    .regex(/^([A-Za-z0-9][-A-Za-z0-9_./]*=[-A-Za-z0-9_.]*)(,[A-Za-z0-9][-A-Za-z0-9_./]*=[-A-Za-z0-9_.]*)*$/, {
      message: 'expected key=value[,key=value...] such as streamspace.io/real-node=true',
    })
    .optional(),
  // Connections, idle hibernation, autoscaling, pub/sub.
  // Unset: 30s, or half the timeout when that is shorter (so a short timeout alone stays consistent).
  STREAMSPACE_HEARTBEAT_INTERVAL: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).optional(),
  STREAMSPACE_HEARTBEAT_TIMEOUT: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(60_000),
  STREAMSPACE_REAPER_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(15_000),
  STREAMSPACE_IDLE_TIMEOUT: durationFromEnv.pipe(z.number().min(1000, { message: 'must be at least 1s' })).default(30 * 60_000),
  STREAMSPACE_HIBERNATION_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(30_000),
  STREAMSPACE_AUTOSCALER_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(15_000),
  STREAMSPACE_AUTOSCALE_COOLDOWN: durationFromEnv.default(5 * 60_000),
  STREAMSPACE_PUBSUB: z.enum(['postgres', 'memory'], { message: 'expected postgres or memory' }).default('postgres'),
  // Monitoring: sampled series and alerts (modules/monitoring/README.md).
  STREAMSPACE_MONITORING_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(30_000),
  STREAMSPACE_MONITORING_RETENTION: durationFromEnv.pipe(z.number().min(60 * 60_000, { message: 'must be at least 1h' })).default(7 * 24 * 60 * 60_000),
  STREAMSPACE_ALERT_WEBHOOK_URL: z.string().url({ message: 'expected an http(s) URL' }).regex(/^https?:\/\//, { message: 'expected an http(s) URL' }).optional(),
  STREAMSPACE_ALERT_WEBHOOK_TIMEOUT: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(5_000),
  // Session gateway (modules/gateway/README.md).
  STREAMSPACE_GATEWAY_MODE: z.enum(['host', 'path', 'off'], { message: 'expected host, path or off' }).default('host'),
  STREAMSPACE_GATEWAY_PORT: intFromEnv(0, 65535).default(8081),
  STREAMSPACE_APPS_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[1-9][0-9]{0,4})?$/, { message: 'expected a DNS domain such as apps.example.com (optionally with :port)' })
    .refine((v) => !IPV4_HOST.test(v), { message: 'sessions need host names under a DNS domain, not an IP address' })
    .optional(),
  STREAMSPACE_APPS_SCHEME: z.enum(['http', 'https'], { message: 'expected http or https' }).optional(),
  STREAMSPACE_GATEWAY_TICKET_TTL: durationFromEnv
    .pipe(z.number().min(1000, { message: 'must be at least 1s' }).max(60_000, { message: 'must be at most 60s (tickets are short-lived)' }))
    .default(30_000),
  STREAMSPACE_GATEWAY_RECHECK_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(15_000),
  STREAMSPACE_SESSION_NETWORK_POLICY: z.enum(['gateway', 'off'], { message: 'expected gateway or off' }).optional(),
  STREAMSPACE_GATEWAY_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name (DNS label)' }).max(63).optional(),
  STREAMSPACE_GATEWAY_ACTIVITY_INTERVAL: durationFromEnv.pipe(z.number().min(100, { message: 'must be at least 100ms' })).default(5_000),
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
    maxAliases: number;
    maxDirectives: number;
    ws: { maxPayload: number; anonymousTimeoutMs: number; maxSocketsPerUser: number; maxSubscriptionsPerUser: number };
  };
  cluster: (typeof CLUSTER_MODES)[number];
  /** Local mode: also run the real node where the machine can (auto), or keep every node simulated (off). */
  localRealNode: 'auto' | 'off';
  /** KUBECONFIG as given (unresolved list of files); undefined means ~/.kube/config. */
  kubeconfig: string | undefined;
  /**
   * Namespace of the platform's own pods and Secret: the admin console refuses exec, logs, apply and delete there
   * (an exec into the platform's pod would read its ServiceAccount token). Unset: in a cluster, the pod's own
   * namespace; out of a cluster, none.
   */
  platformNamespace: string | undefined;
  shutdownTimeoutMs: number;
  dbHealthTimeoutMs: number;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>` (or an admin's access token). */
  metricsToken: string | undefined;
  /** Proxies whose X-Forwarded-For is believed (Express 'trust proxy'); empty: none. */
  trustProxy: string[];
  build: { commit?: string; buildDate?: string };
  /** Identity and access. */
  auth: AuthConfig;
  /** Default per-user quotas; admins override them per user, and the defaults at runtime (modules/configuration). */
  quotas: QuotaLimits;
  /** Default text of the portal's announcement banner ('' for none); admins change it at runtime. */
  portalAnnouncement: string;
  /** Template catalog. */
  catalog: CatalogConfig;
  /** Sessions, templates and the reconciler. */
  sessions: SessionsConfig;
  /** Connection tracking, idle hibernation, autoscaling and cross-replica pub/sub. */
  connections: ConnectionsConfig;
  /** The session gateway. */
  gateway: GatewayConfig;
  /** Session resource defaults and maximums, session lifetime and feature flags; admins override them at runtime. */
  policies: PoliciesConfig;
  /** Names of the variables the environment set (the rest took their built-in default); absent: unknown. */
  environment?: ReadonlySet<string>;
  /** Sampled series, retention and alert delivery. */
  monitoring: MonitoringConfig;
}

export interface PoliciesConfig {
  /** CPU cores a session requests when neither it nor its template sets resources (0: none). */
  defaultCpu: number;
  /** Bytes of memory a session requests when neither it nor its template sets resources (0: none). */
  defaultMemory: number;
  /** Most CPU cores one session may request or be limited to (0: no maximum). */
  maxCpu: number;
  /** Most bytes of memory one session may request or be limited to (0: no maximum). */
  maxMemory: number;
  /** Longest a session may live before it is terminated (null: no limit). */
  maxSessionDurationMs: number | null;
  /** Owners may share sessions with users and groups. */
  sharing: boolean;
  /** Users (not only admins) may browse the template catalog. */
  catalogBrowsing: boolean;
  /** Session pods may reach the internet (off: egress only to the cluster and DNS). */
  internetEgress: boolean;
}

export interface MonitoringConfig {
  /** How often the leader samples the platform's series (and evaluates the alert rules); each replica probes its dependencies as often. */
  intervalMs: number;
  /** Samples older than this are deleted. */
  retentionMs: number;
  /** Where firing/resolved alerts are POSTed when their rule names no webhook of its own. */
  webhookUrl: string | undefined;
  webhookTimeoutMs: number;
}

export interface GatewayConfig {
  /** host: each session on its own subdomain of the apps domain; path: /s/<host id>/ on the apps host; off: no gateway. */
  mode: 'host' | 'path' | 'off';
  /** Port the gateway listens on (0: a free port; the apps domain then defaults to apps.localhost:<that port>). */
  port: number;
  /** host[:port] of the apps domain as browsers reach it; undefined: apps.localhost:<listening port>. */
  appsDomain: string | undefined;
  /** Scheme of session URLs; https also marks the gateway cookie Secure. */
  appsScheme: 'http' | 'https';
  ticketTtlMs: number;
  /** Safety net besides the events: every open proxied socket's access is checked again this often. */
  recheckIntervalMs: number;
  /** Traffic of one connection counts as activity at most this often (one batched heartbeat). */
  activityIntervalMs: number;
}

export interface ConnectionsConfig {
  /** How often clients are asked to send a heartbeat (connectSession answers it). */
  heartbeatIntervalMs: number;
  /** A connection without a heartbeat for this long is ended by the reaper. */
  heartbeatTimeoutMs: number;
  reaperIntervalMs: number;
  /** Idle timeout when neither the session nor its template sets one. */
  defaultIdleTimeoutMs: number;
  hibernationIntervalMs: number;
  autoscalerIntervalMs: number;
  /** Least time between two replica changes of one session (scale-ups are immediate). */
  autoscaleCooldownMs: number;
  /** postgres: LISTEN/NOTIFY so subscribers on every replica get every event; memory: this process only. */
  pubsub: 'postgres' | 'memory';
}

export interface SessionsConfig {
  /** Namespace of Sessions, Templates and session workloads. */
  namespace: string;
  /** Create or update the CRDs at start. */
  installCrds: boolean;
  /** Off: this replica always leads (a single replica). */
  leaderElection: boolean;
  leaseDurationMs: number;
  resyncIntervalMs: number;
  defaultStartupTimeoutMs: number;
  ingress: { mode: 'none' | 'host' | 'path'; domain?: string; host?: string; className?: string; tlsSecret?: string };
  home: { size: string; storageClass?: string };
  /** Node labels session pods must match; they also tolerate NoSchedule taints with the same key and value. */
  nodeSelector?: Record<string, string>;
  /** Per-session NetworkPolicy: only pods labelled stream.streamspace.io/gateway=true in this namespace may connect. */
  networkPolicy: { gatewayNamespace: string } | null;
  /** The gateway serves sessions (STREAMSPACE_GATEWAY_MODE is not off): it reaches their pods by address. */
  throughGateway?: boolean;
}

export interface CatalogConfig {
  /** Accept file:// repository URLs (development and tests only). */
  gitAllowFile: boolean;
  /** A git command that prints nothing for this long is stopped. */
  gitTimeoutMs: number;
  /** Platform-wide pinned ssh host keys (known_hosts lines) trusted for every ssh repository, '' when none. */
  gitSshKnownHosts: string;
  /** Largest template, icon or README file read from a repository, in bytes. */
  maxFileSize: number;
  /** Most template files read from one repository; the rest are skipped with an error. */
  maxFiles: number;
  /** Added on first start when there is no repository yet (the admin's choice of catalog). */
  defaultRepository: { url: string; branch: string } | undefined;
}

export interface AuthConfig {
  /** External base URL (e.g. https://streamspace.example.com); its origin is trusted for CORS and CSRF. */
  publicUrl: string | undefined;
  /** Origins allowed to call the API from a browser (CORS) and to use the refresh cookie (CSRF). */
  trustedOrigins: string[];
  adminUsername: string;
  adminPassword: string | undefined;
  /** Where a generated bootstrap admin password is written (mode 0600); never to the log. */
  adminPasswordFile: string;
  /** PKCS#8 PEM; when unset a key is generated and kept in the database. */
  signingKeyPem: string | undefined;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  /** A sign-in's refresh tokens are not exchanged after this long from the sign-in, however often they rotated. */
  refreshAbsoluteLifetimeMs: number;
  cookieSecure: 'auto' | 'true' | 'false';
  loginRateLimit: { perIp: number; perUsername: number; windowMs: number };
  /** Present when OIDC login is configured (issuer, client id and secret all set). */
  oidc: OidcConfig | undefined;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUrl: string | undefined;
  scopes: string[];
  usernameClaim: string;
  groupsClaim: string;
  adminGroups: string[];
  /** Members become operators (unless an admin group also lists them). */
  operatorGroups: string[];
  /** Members become auditors (unless an admin or operator group also lists them). */
  auditorGroups: string[];
  /** Keep memberships of StreamSpace groups named like the user's IdP groups in step with the claim at each sign-in. */
  syncGroups: boolean;
  postLoginRedirect: string;
}

export interface QuotaLimits {
  maxSessions: number;
  maxRunningSessions: number;
  /** CPU cores across running sessions. */
  cpu: number;
  /** Bytes of memory across running sessions. */
  memory: number;
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
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'STREAMSPACE_ADMIN_PASSWORD', 'STREAMSPACE_JWT_SIGNING_KEY', 'STREAMSPACE_OIDC_CLIENT_SECRET', 'STREAMSPACE_METRICS_TOKEN']);

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
  const oidcSet = (['STREAMSPACE_OIDC_ISSUER', 'STREAMSPACE_OIDC_CLIENT_ID', 'STREAMSPACE_OIDC_CLIENT_SECRET'] as const).filter((k) => e[k]);
  if (oidcSet.length > 0 && oidcSet.length < 3) {
    throw new ConfigError(
      (['STREAMSPACE_OIDC_ISSUER', 'STREAMSPACE_OIDC_CLIENT_ID', 'STREAMSPACE_OIDC_CLIENT_SECRET'] as const)
        .filter((k) => !e[k])
        .map((variable) => ({ variable, message: `required when ${oidcSet.join(' and ')} ${oidcSet.length > 1 ? 'are' : 'is'} set` })),
    );
  }
  if (e.STREAMSPACE_HEARTBEAT_INTERVAL !== undefined && e.STREAMSPACE_HEARTBEAT_INTERVAL >= e.STREAMSPACE_HEARTBEAT_TIMEOUT) {
    throw new ConfigError([
      { variable: 'STREAMSPACE_HEARTBEAT_INTERVAL', message: `must be shorter than STREAMSPACE_HEARTBEAT_TIMEOUT (${e.STREAMSPACE_HEARTBEAT_TIMEOUT / 1000}s), or every connection would be reaped between two heartbeats` },
    ]);
  }
  if (e.STREAMSPACE_SESSION_INGRESS === 'host' && !e.STREAMSPACE_SESSION_DOMAIN) {
    throw new ConfigError([{ variable: 'STREAMSPACE_SESSION_DOMAIN', message: 'required when STREAMSPACE_SESSION_INGRESS=host' }]);
  }
  if (e.STREAMSPACE_SESSION_INGRESS === 'path' && !e.STREAMSPACE_SESSION_HOST) {
    throw new ConfigError([{ variable: 'STREAMSPACE_SESSION_HOST', message: 'required when STREAMSPACE_SESSION_INGRESS=path' }]);
  }
  const appsScheme = e.STREAMSPACE_APPS_SCHEME ?? (!e.STREAMSPACE_APPS_DOMAIN || /(^|\.)localhost(:\d+)?$/.test(e.STREAMSPACE_APPS_DOMAIN) ? 'http' : 'https');
  if (e.STREAMSPACE_GATEWAY_MODE !== 'off') {
    // Sessions must never share an origin with the platform: a session's script could then read the portal's
    // cookies and call its API as whoever is looking at the session.
    const platformHost = e.STREAMSPACE_PUBLIC_URL ? new URL(e.STREAMSPACE_PUBLIC_URL).host : `localhost:${e.PORT}`;
    const appsHost = e.STREAMSPACE_APPS_DOMAIN ?? `apps.localhost:${e.STREAMSPACE_GATEWAY_PORT}`;
    const bare = (h: string) => h.toLowerCase().replace(/:(80|443)$/, '');
    if (bare(appsHost) === bare(platformHost)) {
      throw new ConfigError([
        {
          variable: 'STREAMSPACE_APPS_DOMAIN',
          value: e.STREAMSPACE_APPS_DOMAIN,
          message: `must differ from the platform's host (${platformHost}): sessions on the platform's origin could act as the platform (mode ${e.STREAMSPACE_GATEWAY_MODE})`,
        },
      ]);
    }
  }
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
      maxAliases: e.STREAMSPACE_GRAPHQL_MAX_ALIASES,
      maxDirectives: e.STREAMSPACE_GRAPHQL_MAX_DIRECTIVES,
      ws: {
        maxPayload: e.STREAMSPACE_GRAPHQL_WS_MAX_PAYLOAD,
        anonymousTimeoutMs: e.STREAMSPACE_GRAPHQL_WS_ANONYMOUS_TIMEOUT,
        maxSocketsPerUser: e.STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER,
        maxSubscriptionsPerUser: e.STREAMSPACE_GRAPHQL_WS_MAX_SUBSCRIPTIONS_PER_USER,
      },
    },
    cluster: e.STREAMSPACE_CLUSTER,
    localRealNode: e.STREAMSPACE_LOCAL_REAL_NODE,
    kubeconfig: e.KUBECONFIG,
    platformNamespace: e.STREAMSPACE_PLATFORM_NAMESPACE,
    shutdownTimeoutMs: e.STREAMSPACE_SHUTDOWN_TIMEOUT,
    dbHealthTimeoutMs: e.STREAMSPACE_DB_HEALTH_TIMEOUT,
    metricsToken: e.STREAMSPACE_METRICS_TOKEN,
    trustProxy: e.STREAMSPACE_TRUST_PROXY,
    build: { commit: e.STREAMSPACE_COMMIT, buildDate: e.STREAMSPACE_BUILD_DATE },
    sessions: {
      namespace: e.STREAMSPACE_NAMESPACE,
      installCrds: e.STREAMSPACE_INSTALL_CRDS,
      leaderElection: e.STREAMSPACE_LEADER_ELECTION,
      leaseDurationMs: e.STREAMSPACE_LEADER_LEASE_DURATION,
      resyncIntervalMs: e.STREAMSPACE_RECONCILE_RESYNC,
      defaultStartupTimeoutMs: e.STREAMSPACE_SESSION_STARTUP_TIMEOUT,
      ingress: {
        mode: e.STREAMSPACE_SESSION_INGRESS,
        domain: e.STREAMSPACE_SESSION_DOMAIN,
        host: e.STREAMSPACE_SESSION_HOST,
        className: e.STREAMSPACE_SESSION_INGRESS_CLASS,
        tlsSecret: e.STREAMSPACE_SESSION_TLS_SECRET,
      },
      home: { size: e.STREAMSPACE_HOME_SIZE, storageClass: e.STREAMSPACE_HOME_STORAGE_CLASS },
      nodeSelector: e.STREAMSPACE_SESSION_NODE_SELECTOR
        ? Object.fromEntries(e.STREAMSPACE_SESSION_NODE_SELECTOR.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
        : undefined,
      // Unset: follows the gateway (a policy admitting only the gateway would cut off an Ingress when the gateway is off).
      networkPolicy: (e.STREAMSPACE_SESSION_NETWORK_POLICY ?? (e.STREAMSPACE_GATEWAY_MODE === 'off' ? 'off' : 'gateway')) === 'gateway' ? { gatewayNamespace: e.STREAMSPACE_GATEWAY_NAMESPACE ?? e.STREAMSPACE_NAMESPACE } : null,
      throughGateway: e.STREAMSPACE_GATEWAY_MODE !== 'off',
    },
    connections: {
      heartbeatIntervalMs: e.STREAMSPACE_HEARTBEAT_INTERVAL ?? Math.max(1000, Math.min(30_000, Math.floor(e.STREAMSPACE_HEARTBEAT_TIMEOUT / 2))),
      heartbeatTimeoutMs: e.STREAMSPACE_HEARTBEAT_TIMEOUT,
      reaperIntervalMs: e.STREAMSPACE_REAPER_INTERVAL,
      defaultIdleTimeoutMs: e.STREAMSPACE_IDLE_TIMEOUT,
      hibernationIntervalMs: e.STREAMSPACE_HIBERNATION_INTERVAL,
      autoscalerIntervalMs: e.STREAMSPACE_AUTOSCALER_INTERVAL,
      autoscaleCooldownMs: e.STREAMSPACE_AUTOSCALE_COOLDOWN,
      pubsub: e.STREAMSPACE_PUBSUB,
    },
    monitoring: {
      intervalMs: e.STREAMSPACE_MONITORING_INTERVAL,
      retentionMs: e.STREAMSPACE_MONITORING_RETENTION,
      webhookUrl: e.STREAMSPACE_ALERT_WEBHOOK_URL,
      webhookTimeoutMs: e.STREAMSPACE_ALERT_WEBHOOK_TIMEOUT,
    },
    gateway: {
      mode: e.STREAMSPACE_GATEWAY_MODE,
      port: e.STREAMSPACE_GATEWAY_PORT,
      appsDomain: e.STREAMSPACE_APPS_DOMAIN,
      appsScheme,
      ticketTtlMs: e.STREAMSPACE_GATEWAY_TICKET_TTL,
      recheckIntervalMs: e.STREAMSPACE_GATEWAY_RECHECK_INTERVAL,
      activityIntervalMs: e.STREAMSPACE_GATEWAY_ACTIVITY_INTERVAL,
    },
    catalog: {
      gitAllowFile: e.STREAMSPACE_GIT_ALLOW_FILE,
      gitTimeoutMs: e.STREAMSPACE_GIT_TIMEOUT,
      gitSshKnownHosts: e.STREAMSPACE_GIT_SSH_KNOWN_HOSTS,
      maxFileSize: e.STREAMSPACE_CATALOG_MAX_FILE_SIZE,
      maxFiles: e.STREAMSPACE_CATALOG_MAX_FILES,
      defaultRepository: e.STREAMSPACE_CATALOG_REPOSITORY ? { url: e.STREAMSPACE_CATALOG_REPOSITORY, branch: e.STREAMSPACE_CATALOG_REPOSITORY_BRANCH } : undefined,
    },
    auth: {
      publicUrl: e.STREAMSPACE_PUBLIC_URL?.replace(/\/+$/, ''),
      trustedOrigins: e.STREAMSPACE_TRUSTED_ORIGINS,
      adminUsername: e.STREAMSPACE_ADMIN_USERNAME,
      adminPassword: e.STREAMSPACE_ADMIN_PASSWORD,
      adminPasswordFile: path.resolve(cwd, e.STREAMSPACE_ADMIN_PASSWORD_FILE ?? path.join(e.STREAMSPACE_DATA_DIR, 'bootstrap-admin-password')),
      signingKeyPem: e.STREAMSPACE_JWT_SIGNING_KEY,
      accessTokenTtlMs: e.STREAMSPACE_ACCESS_TOKEN_TTL,
      refreshTokenTtlMs: e.STREAMSPACE_REFRESH_TOKEN_TTL,
      refreshAbsoluteLifetimeMs: e.STREAMSPACE_REFRESH_ABSOLUTE_LIFETIME,
      cookieSecure: e.STREAMSPACE_COOKIE_SECURE,
      loginRateLimit: {
        perIp: e.STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP,
        perUsername: e.STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME,
        windowMs: e.STREAMSPACE_LOGIN_RATE_LIMIT_WINDOW,
      },
      oidc:
        e.STREAMSPACE_OIDC_ISSUER && e.STREAMSPACE_OIDC_CLIENT_ID && e.STREAMSPACE_OIDC_CLIENT_SECRET
          ? {
              issuer: e.STREAMSPACE_OIDC_ISSUER,
              clientId: e.STREAMSPACE_OIDC_CLIENT_ID,
              clientSecret: e.STREAMSPACE_OIDC_CLIENT_SECRET,
              redirectUrl: e.STREAMSPACE_OIDC_REDIRECT_URL,
              scopes: e.STREAMSPACE_OIDC_SCOPES.split(/[\s,]+/).filter(Boolean),
              usernameClaim: e.STREAMSPACE_OIDC_USERNAME_CLAIM,
              groupsClaim: e.STREAMSPACE_OIDC_GROUPS_CLAIM,
              adminGroups: e.STREAMSPACE_OIDC_ADMIN_GROUPS,
              operatorGroups: e.STREAMSPACE_OIDC_OPERATOR_GROUPS,
              auditorGroups: e.STREAMSPACE_OIDC_AUDITOR_GROUPS,
              syncGroups: e.STREAMSPACE_OIDC_SYNC_GROUPS,
              postLoginRedirect: e.STREAMSPACE_OIDC_POST_LOGIN_REDIRECT,
            }
          : undefined,
    },
    portalAnnouncement: e.STREAMSPACE_PORTAL_ANNOUNCEMENT.trim(),
    policies: {
      defaultCpu: e.STREAMSPACE_SESSION_DEFAULT_CPU ?? 0,
      defaultMemory: e.STREAMSPACE_SESSION_DEFAULT_MEMORY ?? 0,
      maxCpu: e.STREAMSPACE_SESSION_MAX_CPU ?? 0,
      maxMemory: e.STREAMSPACE_SESSION_MAX_MEMORY ?? 0,
      maxSessionDurationMs: e.STREAMSPACE_SESSION_MAX_DURATION ?? null,
      sharing: e.STREAMSPACE_FEATURE_SHARING,
      catalogBrowsing: e.STREAMSPACE_FEATURE_CATALOG,
      internetEgress: e.STREAMSPACE_FEATURE_INTERNET_EGRESS,
    },
    environment: new Set(Object.keys(raw)),
    quotas: {
      maxSessions: e.STREAMSPACE_QUOTA_MAX_SESSIONS,
      maxRunningSessions: e.STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS,
      cpu: e.STREAMSPACE_QUOTA_CPU,
      memory: e.STREAMSPACE_QUOTA_MEMORY,
    },
  };
}
