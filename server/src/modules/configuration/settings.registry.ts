import { parseDurationMs, type AppConfig } from '../../config/config';
import { parseQuantity, QUANTITY_PATTERN } from '../templates/quantity';

/**
 * The runtime settings admins may change without a restart (`updateSetting`). Each one has a default from
 * the loaded configuration (environment variables stay the bootstrap); a row in the `configuration` table
 * overrides it. Adding a setting means one entry here; the API, the admin page and the audit log follow.
 */

/** How a value is written and checked; the admin console picks its input from this. */
export enum SettingValueKind {
  INTEGER = 'INTEGER',
  CPU = 'CPU',
  MEMORY = 'MEMORY',
  TEXT = 'TEXT',
  BOOLEAN = 'BOOLEAN',
  DURATION = 'DURATION',
  CHOICE = 'CHOICE',
  QUANTITY = 'QUANTITY',
}

/** Where the admin console shows a setting. */
export enum SettingGroup {
  ROUTING = 'ROUTING',
  STORAGE = 'STORAGE',
  RESOURCES = 'RESOURCES',
  SESSIONS = 'SESSIONS',
  FEATURES = 'FEATURES',
  QUOTAS = 'QUOTAS',
  PORTAL = 'PORTAL',
}

/** The kinds of session objects a setting shapes: a dry-run refusal of one of them is reported on these settings. */
export type SessionObjectKind = 'Deployment' | 'Service' | 'Ingress' | 'PersistentVolumeClaim' | 'NetworkPolicy';

export interface SettingDefinition<T = unknown> {
  key: string;
  /** Short name for the admin console. */
  label: string;
  description: string;
  kind: SettingValueKind;
  /** The rule a value must follow, in words (also the message of a refused value). */
  rule: string;
  /** The environment variable that gives the default. */
  envVariable: string;
  group: SettingGroup;
  /** CHOICE: the values allowed. */
  choices?: readonly string[];
  /** Values never shown in clear in a version's diff or the audit log. */
  secret?: boolean;
  /** Session objects whose shape follows this setting (checked by the dry run). */
  affects?: readonly SessionObjectKind[];
  defaultFrom(config: AppConfig): T;
  /** The normalized value, or null when `value` breaks the rule. */
  parse(value: unknown): T | null;
}

export const SETTING_KEYS = {
  QUOTA_MAX_SESSIONS: 'quota.maxSessions',
  QUOTA_MAX_RUNNING_SESSIONS: 'quota.maxRunningSessions',
  QUOTA_CPU: 'quota.cpu',
  QUOTA_MEMORY: 'quota.memory',
  PORTAL_ANNOUNCEMENT: 'portal.announcement',
  ROUTING_MODE: 'routing.mode',
  ROUTING_APPS_DOMAIN: 'routing.appsDomain',
  ROUTING_HOST: 'routing.host',
  ROUTING_INGRESS_CLASS: 'routing.ingressClass',
  ROUTING_TLS_SECRET: 'routing.tlsSecret',
  STORAGE_HOME_SIZE: 'storage.homeSize',
  STORAGE_CLASS: 'storage.storageClass',
  RESOURCES_DEFAULT_CPU: 'resources.defaultCpu',
  RESOURCES_DEFAULT_MEMORY: 'resources.defaultMemory',
  RESOURCES_MAX_CPU: 'resources.maxCpu',
  RESOURCES_MAX_MEMORY: 'resources.maxMemory',
  SESSIONS_IDLE_TIMEOUT: 'sessions.idleTimeout',
  SESSIONS_MAX_DURATION: 'sessions.maxDuration',
  SESSIONS_HEARTBEAT_INTERVAL: 'sessions.heartbeatInterval',
  FEATURE_SHARING: 'features.sharing',
  FEATURE_CATALOG: 'features.catalogBrowsing',
  FEATURE_INTERNET_EGRESS: 'features.internetEgress',
} as const;

export const ANNOUNCEMENT_MAX_LENGTH = 500;
const MAX_QUOTA_COUNT = 10_000;

/** A whole number in [0, max]: a JSON number, or a string of digits as in the environment. */
/** NUL, or a UTF-16 surrogate that is not half of a pair. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what it looks for
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function parseCount(value: unknown): number | null {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_QUOTA_COUNT ? n : null;
}

/** A non-negative amount in base units (cores, bytes): a JSON number, or a Kubernetes quantity such as 500m or 16Gi. */
function parseAmount(value: unknown, integer: boolean): number | null {
  const n = typeof value === 'string' ? parseQuantity(value.trim()) : typeof value === 'number' ? value : null;
  if (n === null || !Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) return null;
  return integer ? Math.round(n) : Math.round(n * 1000) / 1000;
}

/** A host name a session Ingress rule may carry (optional :port kept for URLs), or '' for none. */
function parseHost(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim().toLowerCase();
  if (v === '') return '';
  if (v.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[1-9][0-9]{0,4})?$/.test(v) || /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/.test(v)) return null;
  return v;
}

/** A DNS-1123 subdomain (the names of IngressClasses, Secrets, StorageClasses), or '' for none. */
function parseObjectName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '') return '';
  return v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v) ? v : null;
}

/** Milliseconds as the shortest exact duration text (90000 -> 90s, 1800000 -> 30m). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Milliseconds of a duration text such as 30s, 15m or 8h (what the CRDs use). */
export function durationMs(text: string): number {
  return parseDurationMs(text);
}

/** A duration text (at least `minMs`, at most 366 days), or '' when `optional`. */
function parseDuration(value: unknown, minMs: number, optional: boolean): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '') return optional ? '' : null;
  if (!/^[0-9]{1,7}(s|m|h)$/.test(v)) return null;
  const ms = durationMs(v);
  return ms >= minMs && ms <= 366 * 24 * 3_600_000 ? v : null;
}

function booleanSetting(key: string, label: string, description: string, envVariable: string, pick: (c: AppConfig) => boolean): SettingDefinition<boolean> {
  return {
    key,
    label,
    description,
    group: SettingGroup.FEATURES,
    kind: SettingValueKind.BOOLEAN,
    rule: 'true or false',
    envVariable,
    defaultFrom: pick,
    parse: (v) => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null),
  };
}

function countSetting(key: string, label: string, description: string, envVariable: string, pick: (c: AppConfig) => number): SettingDefinition<number> {
  return {
    key,
    label,
    description,
    group: SettingGroup.QUOTAS,
    kind: SettingValueKind.INTEGER,
    rule: `a whole number from 0 to ${MAX_QUOTA_COUNT}`,
    envVariable,
    defaultFrom: pick,
    parse: parseCount,
  };
}

export const SETTINGS: readonly SettingDefinition[] = [
  countSetting(
    SETTING_KEYS.QUOTA_MAX_SESSIONS,
    'Default max sessions',
    'Sessions a user may have at once, in any state except terminated, unless the user has their own quota.',
    'STREAMSPACE_QUOTA_MAX_SESSIONS',
    (c) => c.quotas.maxSessions,
  ),
  countSetting(
    SETTING_KEYS.QUOTA_MAX_RUNNING_SESSIONS,
    'Default max running sessions',
    'Sessions a user may have running at once, unless the user has their own quota.',
    'STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS',
    (c) => c.quotas.maxRunningSessions,
  ),
  {
    key: SETTING_KEYS.QUOTA_CPU,
    label: 'Default total CPU',
    description: "CPU cores across a user's running sessions, unless the user has their own quota.",
    group: SettingGroup.QUOTAS,
    kind: SettingValueKind.CPU,
    rule: 'a CPU quantity of at least 0, such as 8, 2.5 or 500m',
    envVariable: 'STREAMSPACE_QUOTA_CPU',
    defaultFrom: (c) => c.quotas.cpu,
    parse: (v) => parseAmount(v, false),
  },
  {
    key: SETTING_KEYS.QUOTA_MEMORY,
    label: 'Default total memory',
    description: "Bytes of memory across a user's running sessions, unless the user has their own quota.",
    group: SettingGroup.QUOTAS,
    kind: SettingValueKind.MEMORY,
    rule: 'a memory quantity of at least 0, such as 16Gi, 512Mi or a number of bytes',
    envVariable: 'STREAMSPACE_QUOTA_MEMORY',
    defaultFrom: (c) => c.quotas.memory,
    parse: (v) => parseAmount(v, true),
  },
  {
    key: SETTING_KEYS.PORTAL_ANNOUNCEMENT,
    label: 'Portal announcement',
    description: 'A short text shown as a dismissible banner at the top of the user portal; empty for none.',
    group: SettingGroup.PORTAL,
    kind: SettingValueKind.TEXT,
    rule: `a text of at most ${ANNOUNCEMENT_MAX_LENGTH} characters (may be empty), without NUL or unpaired surrogate characters`,
    envVariable: 'STREAMSPACE_PORTAL_ANNOUNCEMENT',
    defaultFrom: (c) => c.portalAnnouncement ?? '',
    // PostgreSQL's jsonb cannot hold NUL or an unpaired surrogate (`\ud800`): such a text is not one it can keep.
    parse: (v) => (typeof v === 'string' && v.trim().length <= ANNOUNCEMENT_MAX_LENGTH && !UNSTORABLE_TEXT.test(v) ? v.trim() : null),
  },
  {
    key: SETTING_KEYS.ROUTING_MODE,
    label: 'Session routing',
    description:
      'How a session is exposed by its own Ingress, around the gateway (used only when the gateway is off): none (no Ingress; a ClusterIP Service only when the gateway is off), ' +
      'host (<session>.<apps domain>) or path (<host>/sessions/<session>/).',
    group: SettingGroup.ROUTING,
    kind: SettingValueKind.CHOICE,
    choices: ['none', 'host', 'path'],
    rule: 'one of none, host or path',
    envVariable: 'STREAMSPACE_SESSION_INGRESS',
    affects: ['Ingress'],
    defaultFrom: (c) => c.sessions.ingress.mode,
    parse: (v) => (typeof v === 'string' && ['none', 'host', 'path'].includes(v.trim()) ? v.trim() : null),
  },
  {
    key: SETTING_KEYS.ROUTING_APPS_DOMAIN,
    label: 'Apps domain (host routing)',
    description: 'Host routing: each session is reached at <session>.<this domain> (a wildcard DNS name); may end in :port.',
    group: SettingGroup.ROUTING,
    kind: SettingValueKind.TEXT,
    rule: 'a DNS domain such as apps.example.com, optionally with :port (not an IP address); empty for none',
    envVariable: 'STREAMSPACE_SESSION_DOMAIN',
    affects: ['Ingress'],
    defaultFrom: (c) => c.sessions.ingress.domain ?? '',
    parse: parseHost,
  },
  {
    key: SETTING_KEYS.ROUTING_HOST,
    label: 'Sessions host (path routing)',
    description: 'Path routing: the one host sessions share, each under /sessions/<session>/; may end in :port.',
    group: SettingGroup.ROUTING,
    kind: SettingValueKind.TEXT,
    rule: 'a host name such as streamspace.example.com, optionally with :port (not an IP address); empty for none',
    envVariable: 'STREAMSPACE_SESSION_HOST',
    affects: ['Ingress'],
    defaultFrom: (c) => c.sessions.ingress.host ?? '',
    parse: parseHost,
  },
  {
    key: SETTING_KEYS.ROUTING_INGRESS_CLASS,
    label: 'Ingress class',
    description: 'The IngressClass of session Ingresses; empty for the cluster default.',
    group: SettingGroup.ROUTING,
    kind: SettingValueKind.TEXT,
    rule: 'a Kubernetes object name (lower-case letters, digits, - and ., at most 253 characters); empty for the cluster default',
    envVariable: 'STREAMSPACE_SESSION_INGRESS_CLASS',
    affects: ['Ingress'],
    defaultFrom: (c) => c.sessions.ingress.className ?? '',
    parse: parseObjectName,
  },
  {
    key: SETTING_KEYS.ROUTING_TLS_SECRET,
    label: 'TLS Secret',
    description: 'Name of the Secret (in the sessions namespace) holding the certificate of session Ingresses; empty for plain HTTP.',
    group: SettingGroup.ROUTING,
    kind: SettingValueKind.TEXT,
    rule: 'a Kubernetes object name (lower-case letters, digits, - and ., at most 253 characters); empty for none',
    envVariable: 'STREAMSPACE_SESSION_TLS_SECRET',
    affects: ['Ingress'],
    defaultFrom: (c) => c.sessions.ingress.tlsSecret ?? '',
    parse: parseObjectName,
  },
  {
    key: SETTING_KEYS.STORAGE_HOME_SIZE,
    label: 'Home volume size',
    description: "Size requested for a user's persistent home volume when it is created (existing volumes keep their size).",
    group: SettingGroup.STORAGE,
    kind: SettingValueKind.QUANTITY,
    rule: 'a storage quantity above zero, such as 10Gi or 500Mi',
    envVariable: 'STREAMSPACE_HOME_SIZE',
    affects: ['PersistentVolumeClaim'],
    defaultFrom: (c) => c.sessions.home.size,
    parse: (v) => {
      const text = typeof v === 'string' ? v.trim() : null;
      const n = text && QUANTITY_PATTERN.test(text) ? parseQuantity(text) : null;
      return n !== null && n > 0 && n <= 2 ** 60 && !/^[+-]/.test(text!) ? text : null;
    },
  },
  {
    key: SETTING_KEYS.STORAGE_CLASS,
    label: 'Storage class',
    description: 'StorageClass of new home volumes; empty for the cluster default.',
    group: SettingGroup.STORAGE,
    kind: SettingValueKind.TEXT,
    rule: 'a Kubernetes object name (lower-case letters, digits, - and ., at most 253 characters); empty for the cluster default',
    envVariable: 'STREAMSPACE_HOME_STORAGE_CLASS',
    affects: ['PersistentVolumeClaim'],
    defaultFrom: (c) => c.sessions.home.storageClass ?? '',
    parse: parseObjectName,
  },
  {
    key: SETTING_KEYS.RESOURCES_DEFAULT_CPU,
    label: 'Default CPU per session',
    description: 'CPU a session requests when neither the session nor its template sets resources; 0 for none.',
    group: SettingGroup.RESOURCES,
    kind: SettingValueKind.CPU,
    rule: 'a CPU quantity of at least 0, such as 1, 0.5 or 500m',
    envVariable: 'STREAMSPACE_SESSION_DEFAULT_CPU',
    affects: ['Deployment'],
    defaultFrom: (c) => c.policies.defaultCpu,
    parse: (v) => parseAmount(v, false),
  },
  {
    key: SETTING_KEYS.RESOURCES_DEFAULT_MEMORY,
    label: 'Default memory per session',
    description: 'Memory a session requests when neither the session nor its template sets resources; 0 for none.',
    group: SettingGroup.RESOURCES,
    kind: SettingValueKind.MEMORY,
    rule: 'a memory quantity of at least 0, such as 2Gi or 512Mi',
    envVariable: 'STREAMSPACE_SESSION_DEFAULT_MEMORY',
    affects: ['Deployment'],
    defaultFrom: (c) => c.policies.defaultMemory,
    parse: (v) => parseAmount(v, true),
  },
  {
    key: SETTING_KEYS.RESOURCES_MAX_CPU,
    label: 'Max CPU per session',
    description: 'Most CPU one session may request or be limited to; a session asking for more is refused. 0 for no maximum.',
    group: SettingGroup.RESOURCES,
    kind: SettingValueKind.CPU,
    rule: 'a CPU quantity of at least 0, such as 4 or 1500m (0: no maximum)',
    envVariable: 'STREAMSPACE_SESSION_MAX_CPU',
    affects: ['Deployment'],
    defaultFrom: (c) => c.policies.maxCpu,
    parse: (v) => parseAmount(v, false),
  },
  {
    key: SETTING_KEYS.RESOURCES_MAX_MEMORY,
    label: 'Max memory per session',
    description: 'Most memory one session may request or be limited to; a session asking for more is refused. 0 for no maximum.',
    group: SettingGroup.RESOURCES,
    kind: SettingValueKind.MEMORY,
    rule: 'a memory quantity of at least 0, such as 8Gi (0: no maximum)',
    envVariable: 'STREAMSPACE_SESSION_MAX_MEMORY',
    affects: ['Deployment'],
    defaultFrom: (c) => c.policies.maxMemory,
    parse: (v) => parseAmount(v, true),
  },
  {
    key: SETTING_KEYS.SESSIONS_IDLE_TIMEOUT,
    label: 'Default idle timeout',
    description: 'A session without connections for this long is hibernated, unless the session or its template sets its own idleTimeout.',
    group: SettingGroup.SESSIONS,
    kind: SettingValueKind.DURATION,
    rule: 'a duration of at least 1m, such as 30m or 2h',
    envVariable: 'STREAMSPACE_IDLE_TIMEOUT',
    defaultFrom: (c) => formatDuration(c.connections.defaultIdleTimeoutMs),
    parse: (v) => parseDuration(v, 60_000, false),
  },
  {
    key: SETTING_KEYS.SESSIONS_MAX_DURATION,
    label: 'Max session duration',
    description: 'New sessions end (terminated) after this long; a session asking for a longer maxSessionDuration is refused. Empty for no limit.',
    group: SettingGroup.SESSIONS,
    kind: SettingValueKind.DURATION,
    rule: 'a duration of at least 1m, such as 8h; empty for no limit',
    envVariable: 'STREAMSPACE_SESSION_MAX_DURATION',
    defaultFrom: (c) => (c.policies.maxSessionDurationMs === null ? '' : formatDuration(c.policies.maxSessionDurationMs)),
    parse: (v) => parseDuration(v, 60_000, true),
  },
  {
    key: SETTING_KEYS.SESSIONS_HEARTBEAT_INTERVAL,
    label: 'Heartbeat interval',
    description: 'How often clients send a heartbeat per connection (told in connectSession); shorter than the heartbeat timeout.',
    group: SettingGroup.SESSIONS,
    kind: SettingValueKind.DURATION,
    rule: 'a duration of at least 1s, such as 30s, shorter than the heartbeat timeout (STREAMSPACE_HEARTBEAT_TIMEOUT)',
    envVariable: 'STREAMSPACE_HEARTBEAT_INTERVAL',
    defaultFrom: (c) => formatDuration(c.connections.heartbeatIntervalMs),
    parse: (v) => parseDuration(v, 1000, false),
  },
  booleanSetting(SETTING_KEYS.FEATURE_SHARING, 'Sharing allowed', 'Owners may share their sessions with other users and groups; when off, new shares are refused (existing ones stay until removed).', 'STREAMSPACE_FEATURE_SHARING', (c) => c.policies.sharing),
  booleanSetting(SETTING_KEYS.FEATURE_CATALOG, 'Users may browse the catalog', 'Users see the template catalog; when off, only admins do.', 'STREAMSPACE_FEATURE_CATALOG', (c) => c.policies.catalogBrowsing),
  {
    ...booleanSetting(
      SETTING_KEYS.FEATURE_INTERNET_EGRESS,
      'Internet egress for sessions',
      'Session pods may open connections to the internet; when off, a NetworkPolicy lets them reach only addresses inside the cluster and DNS.',
      'STREAMSPACE_FEATURE_INTERNET_EGRESS',
      (c) => c.policies.internetEgress,
    ),
    affects: ['NetworkPolicy'],
  },
];

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

export function settingDefinition(key: string): SettingDefinition | undefined {
  return BY_KEY.get(key);
}

/** A problem of one setting, for field-level errors. */
export interface SettingProblem {
  key: string;
  message: string;
}

/**
 * Rules across settings, checked on the whole effective set a change would produce: host routing needs an apps
 * domain, path routing a host, the heartbeat must come before the timeout, a default must fit the maximum.
 */
export function crossCheck(values: ReadonlyMap<string, unknown>, config: AppConfig): SettingProblem[] {
  const get = <T>(key: string) => values.get(key) as T;
  const problems: SettingProblem[] = [];
  const mode = get<string>(SETTING_KEYS.ROUTING_MODE);
  if (mode === 'host' && !get<string>(SETTING_KEYS.ROUTING_APPS_DOMAIN)) {
    problems.push({ key: SETTING_KEYS.ROUTING_APPS_DOMAIN, message: 'Host routing needs an apps domain' });
  }
  if (mode === 'path' && !get<string>(SETTING_KEYS.ROUTING_HOST)) {
    problems.push({ key: SETTING_KEYS.ROUTING_HOST, message: 'Path routing needs a sessions host' });
  }
  const heartbeat = get<string>(SETTING_KEYS.SESSIONS_HEARTBEAT_INTERVAL);
  if (heartbeat && durationMs(heartbeat) >= config.connections.heartbeatTimeoutMs) {
    problems.push({
      key: SETTING_KEYS.SESSIONS_HEARTBEAT_INTERVAL,
      message: `The heartbeat interval must be shorter than the heartbeat timeout (${formatDuration(config.connections.heartbeatTimeoutMs)}), or every connection would be ended between two heartbeats`,
    });
  }
  for (const [def, max, what] of [
    [SETTING_KEYS.RESOURCES_DEFAULT_CPU, SETTING_KEYS.RESOURCES_MAX_CPU, 'CPU'],
    [SETTING_KEYS.RESOURCES_DEFAULT_MEMORY, SETTING_KEYS.RESOURCES_MAX_MEMORY, 'memory'],
  ] as const) {
    const d = get<number>(def);
    const m = get<number>(max);
    if (m > 0 && d > m) problems.push({ key: def, message: `The default ${what} per session must not be more than the maximum per session` });
  }
  return problems;
}
