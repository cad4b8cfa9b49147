import type { AppConfig } from '../../config/config';
import { parseQuantity } from '../templates/quantity';

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
}

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

function countSetting(key: string, label: string, description: string, envVariable: string, pick: (c: AppConfig) => number): SettingDefinition<number> {
  return {
    key,
    label,
    description,
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
    kind: SettingValueKind.TEXT,
    rule: `a text of at most ${ANNOUNCEMENT_MAX_LENGTH} characters (may be empty), without NUL or unpaired surrogate characters`,
    envVariable: 'STREAMSPACE_PORTAL_ANNOUNCEMENT',
    defaultFrom: (c) => c.portalAnnouncement ?? '',
    // PostgreSQL's jsonb cannot hold NUL or an unpaired surrogate (`\ud800`): such a text is not one it can keep.
    parse: (v) => (typeof v === 'string' && v.trim().length <= ANNOUNCEMENT_MAX_LENGTH && !UNSTORABLE_TEXT.test(v) ? v.trim() : null),
  },
];

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

export function settingDefinition(key: string): SettingDefinition | undefined {
  return BY_KEY.get(key);
}
