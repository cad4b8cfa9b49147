/**
 * The platform's sampled series: what each one means and how a range read condenses it. Gauges are values at the
 * sampling time (averaged per bucket); rates are per second over the last sampling interval (averaged per bucket,
 * which is the rate over the bucket since the intervals are equal); durations are averages over the interval.
 */
export type SeriesKind = 'gauge' | 'rate' | 'duration';

export interface SeriesDefinition {
  name: string;
  kind: SeriesKind;
  unit: string;
  description: string;
}

export const SESSION_PHASES = ['Pending', 'Running', 'Hibernated', 'Failed', 'Terminated'] as const;

export const SERIES: readonly SeriesDefinition[] = [
  ...SESSION_PHASES.map((phase) => ({ name: `sessions_${phase.toLowerCase()}`, kind: 'gauge' as const, unit: 'sessions', description: `Sessions in phase ${phase}.` })),
  { name: 'sessions_failed_to_start', kind: 'gauge', unit: 'sessions', description: 'Sessions meant to run whose phase is Failed (start-up failed: image, template, timeout).' },
  { name: 'connections_active', kind: 'gauge', unit: 'connections', description: 'Open connections to sessions.' },
  { name: 'heartbeats_per_second', kind: 'rate', unit: '1/s', description: 'Heartbeats received per second (the leader replica).' },
  { name: 'gateway_requests_per_second', kind: 'rate', unit: '1/s', description: 'Requests and WebSocket upgrades through the session gateway per second (the leader replica).' },
  { name: 'gateway_bytes_per_second', kind: 'rate', unit: 'B/s', description: 'Bytes relayed by the session gateway per second, both directions (the leader replica).' },
  { name: 'reconcile_seconds', kind: 'duration', unit: 's', description: 'Average duration of a session reconcile over the interval.' },
  { name: 'session_startup_seconds', kind: 'duration', unit: 's', description: 'Average time from creation to Running of sessions that started in the interval.' },
  { name: 'job_runs', kind: 'rate', unit: '1/s', description: 'Background job runs per second.' },
  { name: 'job_failures', kind: 'rate', unit: '1/s', description: 'Failed background job runs per second.' },
  { name: 'catalog_syncs', kind: 'rate', unit: '1/s', description: 'Catalog repository syncs per second.' },
  { name: 'catalog_sync_failures', kind: 'rate', unit: '1/s', description: 'Failed catalog repository syncs per second.' },
  { name: 'catalog_repositories_failed', kind: 'gauge', unit: 'repositories', description: 'Repositories whose last sync failed.' },
  { name: 'nodes_total', kind: 'gauge', unit: 'nodes', description: 'Nodes of the cluster.' },
  { name: 'nodes_not_ready', kind: 'gauge', unit: 'nodes', description: 'Nodes whose Ready condition is not True.' },
  { name: 'quota_usage_max_ratio', kind: 'gauge', unit: 'ratio', description: "The highest share of a per-user session limit in use by any user (1 = a user's quota is exhausted)." },
  { name: 'postgres_up', kind: 'gauge', unit: 'bool', description: '1 when PostgreSQL answered the probe, else 0.' },
  { name: 'apiserver_up', kind: 'gauge', unit: 'bool', description: '1 when the Kubernetes API server answered the probe, else 0.' },
];

export const SERIES_BY_NAME = new Map(SERIES.map((s) => [s.name, s]));

/**
 * Per-node usage from the metrics API (metrics.k8s.io), one series per node and figure: `node_cpu_millicores/<node>`
 * and `node_memory_bytes/<node>`. Only while the cluster serves the API. The series column holds the longest family
 * and the longest node name Kubernetes allows (a 253-character DNS subdomain).
 */
export const NODE_SERIES = {
  node_cpu_millicores: { kind: 'gauge', unit: 'millicores', description: 'CPU in use on node %s, in millicores (metrics.k8s.io).' },
  node_memory_bytes: { kind: 'gauge', unit: 'B', description: 'Memory in use (working set) on node %s, in bytes (metrics.k8s.io).' },
} as const satisfies Record<string, Omit<SeriesDefinition, 'name'>>;
export type NodeSeriesFamily = keyof typeof NODE_SERIES;
/** Kubernetes' limit of a node name (a DNS-1123 subdomain). */
const MAX_NODE_NAME = 253;
/** The width of metric_samples.series: the longest family, '/', the longest node name. */
export const MAX_SERIES_NAME = 300;
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The series of one node's figure, or undefined for a name no Kubernetes node can have. */
export function nodeSeriesName(family: NodeSeriesFamily, node: string): string | undefined {
  return node.length <= MAX_NODE_NAME && NODE_NAME.test(node) ? `${family}/${node}` : undefined;
}

/** A series' definition: one of SERIES, or a per-node usage series; undefined for a name that is neither. */
export function seriesDefinition(name: string): SeriesDefinition | undefined {
  const fixed = SERIES_BY_NAME.get(name);
  if (fixed) return fixed;
  const slash = name.indexOf('/');
  if (slash < 0 || name.length > MAX_SERIES_NAME) return undefined;
  const family = name.slice(0, slash);
  const node = name.slice(slash + 1);
  if (!Object.hasOwn(NODE_SERIES, family) || node.length > MAX_NODE_NAME || !NODE_NAME.test(node)) return undefined;
  const def = NODE_SERIES[family as NodeSeriesFamily];
  return { name, kind: def.kind, unit: def.unit, description: def.description.replace('%s', node) };
}

export type MetricRange = 'HOUR' | 'DAY';

/** How far back a range reads and how wide its buckets are (60 points an hour, 96 a day). */
export const RANGES: Record<MetricRange, { spanMs: number; bucketMs: number }> = {
  HOUR: { spanMs: 60 * 60_000, bucketMs: 60_000 },
  DAY: { spanMs: 24 * 60 * 60_000, bucketMs: 15 * 60_000 },
};

/** The per-second rate of a counter between two readings; a counter that went down (process restart) counts from 0. */
export function ratePerSecond(previous: number | undefined, current: number, seconds: number): number | undefined {
  if (previous === undefined || !(seconds > 0)) return undefined;
  const delta = current >= previous ? current - previous : current;
  return delta / seconds;
}

/** The mean of the observations added between two readings of a histogram's sum and count (undefined when none). */
export function meanBetween(previous: { sum: number; count: number } | undefined, current: { sum: number; count: number }): number | undefined {
  if (!previous) return undefined;
  const count = current.count >= previous.count ? current.count - previous.count : current.count;
  const sum = current.count >= previous.count ? current.sum - previous.sum : current.sum;
  return count > 0 ? sum / count : undefined;
}
