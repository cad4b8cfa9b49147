/**
 * The shipped alert rules and the one evaluation rule. A rule fires while its series' latest value is beyond its
 * threshold and resolves when it is not; a rule with no value this sample keeps its state (no data is no verdict),
 * except the dependency rules, whose series every probe writes.
 */
export type Comparator = 'above' | 'below';
export type Severity = 'warning' | 'critical';

export interface RuleDefinition {
  id: string;
  series: string;
  comparator: Comparator;
  threshold: number;
  severity: Severity;
  description: string;
}

/** Rules whose series are dependency probes: every replica evaluates them itself (they must fire while the dependency is down). */
export const DEPENDENCY_RULES = new Set(['postgres-unreachable', 'apiserver-unreachable']);

export const DEFAULT_RULES: readonly RuleDefinition[] = [
  { id: 'node-not-ready', series: 'nodes_not_ready', comparator: 'above', threshold: 0, severity: 'critical', description: 'A node of the cluster is NotReady.' },
  { id: 'sessions-failing-to-start', series: 'sessions_failed_to_start', comparator: 'above', threshold: 0, severity: 'warning', description: 'Sessions failed to start (phase Failed while meant to run).' },
  { id: 'catalog-sync-failing', series: 'catalog_repositories_failed', comparator: 'above', threshold: 0, severity: 'warning', description: 'The last sync of a catalog repository failed.' },
  { id: 'quota-nearly-exhausted', series: 'quota_usage_max_ratio', comparator: 'above', threshold: 0.9, severity: 'warning', description: 'A user has used more than the threshold share of a session quota.' },
  { id: 'postgres-unreachable', series: 'postgres_up', comparator: 'below', threshold: 1, severity: 'critical', description: 'PostgreSQL does not answer.' },
  { id: 'apiserver-unreachable', series: 'apiserver_up', comparator: 'below', threshold: 1, severity: 'critical', description: 'The Kubernetes API server does not answer.' },
];

export function breached(comparator: Comparator | string, value: number, threshold: number): boolean {
  return comparator === 'below' ? value < threshold : value > threshold;
}

export type Transition = 'fired' | 'resolved' | null;

/** What one new value does to a rule in `state`: fire it, resolve it, or nothing. */
export function transition(rule: { enabled: boolean; comparator: string; threshold: number }, state: 'ok' | 'firing', value: number | undefined): Transition {
  if (!rule.enabled) return state === 'firing' ? 'resolved' : null;
  if (value === undefined) return null;
  const bad = breached(rule.comparator, value, rule.threshold);
  if (bad && state === 'ok') return 'fired';
  if (!bad && state === 'firing') return 'resolved';
  return null;
}

export function alertMessage(rule: { description: string; comparator: string; threshold: number; series: string }, value: number): string {
  return `${rule.description} (${rule.series} = ${formatNumber(value)}, ${rule.comparator} ${formatNumber(rule.threshold)})`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '');
}
