/** The console's charts: which sampled series each one draws, with a label per line. */
export interface ChartGroup {
  title: string
  unit: string
  lines: { series: string; label: string }[]
}

export const CHART_GROUPS: readonly ChartGroup[] = [
  {
    title: 'Sessions by phase',
    unit: 'sessions',
    lines: [
      { series: 'sessions_running', label: 'Running' },
      { series: 'sessions_pending', label: 'Pending' },
      { series: 'sessions_hibernated', label: 'Hibernated' },
      { series: 'sessions_failed', label: 'Failed' },
    ],
  },
  { title: 'Connections', unit: 'connections', lines: [{ series: 'connections_active', label: 'Open connections' }] },
  { title: 'Heartbeats', unit: 'per second', lines: [{ series: 'heartbeats_per_second', label: 'Heartbeats/s' }] },
  {
    title: 'Session gateway',
    unit: 'per second',
    lines: [
      { series: 'gateway_requests_per_second', label: 'Requests/s' },
      { series: 'gateway_bytes_per_second', label: 'Bytes/s' },
    ],
  },
  {
    title: 'Durations',
    unit: 'seconds',
    lines: [
      { series: 'reconcile_seconds', label: 'Reconcile (mean)' },
      { series: 'session_startup_seconds', label: 'Start-up (mean)' },
    ],
  },
  {
    title: 'Background jobs',
    unit: 'per second',
    lines: [
      { series: 'job_runs', label: 'Runs/s' },
      { series: 'job_failures', label: 'Failures/s' },
    ],
  },
  {
    title: 'Catalog',
    unit: 'per second / repositories',
    lines: [
      { series: 'catalog_syncs', label: 'Syncs/s' },
      { series: 'catalog_sync_failures', label: 'Failed syncs/s' },
      { series: 'catalog_repositories_failed', label: 'Failed repositories' },
    ],
  },
  {
    title: 'Nodes',
    unit: 'nodes',
    lines: [
      { series: 'nodes_total', label: 'Nodes' },
      { series: 'nodes_not_ready', label: 'NotReady' },
    ],
  },
  {
    title: 'Quota and dependencies',
    unit: 'ratio / up',
    lines: [
      { series: 'quota_usage_max_ratio', label: 'Highest quota use' },
      { series: 'postgres_up', label: 'PostgreSQL up' },
      { series: 'apiserver_up', label: 'API server up' },
    ],
  },
]

export const ALL_SERIES = [...new Set(CHART_GROUPS.flatMap((g) => g.lines.map((l) => l.series)))]
