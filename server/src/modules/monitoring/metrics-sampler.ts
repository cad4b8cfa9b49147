import { CoreV1Api } from '@kubernetes/client-node';
import type { Counter, Histogram } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AppMetrics } from '../../platform/http/metrics';
import type { ClusterConnection } from '../../platform/kube/cluster';
import { kubeGetJson } from '../../platform/kube/kube-http';
import type { Logger } from '../../platform/logging/logger';
import type { QuotaService } from '../quotas/quota.service';
import { cpuMillicores, memoryBytes } from '../cluster/cluster-quantity';
import { meanBetween, nodeSeriesName, ratePerSecond, SESSION_PHASES } from './series';

/** What the sampler reads of the process's own counters between two samples. */
interface CounterReadings {
  at: number;
  heartbeats: number;
  gatewayRequests: number;
  gatewayBytes: number;
  jobRuns: number;
  jobFailures: number;
  catalogSyncs: number;
  catalogSyncFailures: number;
  reconcile: { sum: number; count: number };
  startup: { sum: number; count: number };
}

async function counterTotal(counter: Counter<string>, match: (labels: Record<string, unknown>) => boolean = () => true): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => match(v.labels)).reduce((sum, v) => sum + v.value, 0);
}

async function histogramTotals(histogram: Histogram<string>): Promise<{ sum: number; count: number }> {
  const { values } = await histogram.get();
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
}

export interface MetricsSamplerDeps {
  dataSource: DataSource;
  metrics: AppMetrics;
  cluster: ClusterConnection | null;
  quotas: QuotaService;
  logger: Logger;
}

/**
 * Reads the platform's series at one moment: gauges from PostgreSQL (sessions by phase, connections, failed
 * repositories, quota use) and the API server (nodes), rates and averages from this process's own counters
 * since the previous reading (the leader runs the reconciler and the jobs, so those are the platform's).
 * A source that fails leaves its series out of this sample; the probes say why.
 */
export class MetricsSampler {
  private previous: CounterReadings | undefined;

  constructor(private readonly deps: MetricsSamplerDeps) {}

  async read(nowMs: number, probes: { postgres: boolean; apiserver: boolean }): Promise<Map<string, number>> {
    const values = new Map<string, number>();
    values.set('postgres_up', probes.postgres ? 1 : 0);
    if (this.deps.cluster) values.set('apiserver_up', probes.apiserver ? 1 : 0);
    if (probes.postgres) await this.readDatabase(values).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'metrics sampler: could not read the database series'));
    if (this.deps.cluster && probes.apiserver) await this.readNodes(values).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'metrics sampler: could not list the nodes'));
    // A cluster without the metrics API is normal (no metrics-server): its node usage series are simply not sampled.
    if (this.deps.cluster && probes.apiserver) await this.readNodeUsage(values).catch((err: Error) => this.deps.logger.debug({ err: err.message }, 'metrics sampler: no node usage from the metrics API'));
    await this.readCounters(nowMs, values);
    this.exportGauges(values);
    return values;
  }

  private async readDatabase(values: Map<string, number>) {
    const { dataSource } = this.deps;
    const phases = (await dataSource.query('SELECT phase, count(*)::int AS n FROM sessions GROUP BY phase')) as { phase: string; n: number }[];
    for (const phase of SESSION_PHASES) values.set(`sessions_${phase.toLowerCase()}`, phases.find((p) => p.phase === phase)?.n ?? 0);
    const [failed] = (await dataSource.query("SELECT count(*)::int AS n FROM sessions WHERE phase = 'Failed' AND state = 'running'")) as { n: number }[];
    values.set('sessions_failed_to_start', failed.n);
    const [open] = (await dataSource.query('SELECT count(*)::int AS n FROM connections WHERE disconnected_at IS NULL')) as { n: number }[];
    values.set('connections_active', open.n);
    const [repos] = (await dataSource.query("SELECT count(*)::int AS n FROM repositories WHERE status = 'Failed'")) as { n: number }[];
    values.set('catalog_repositories_failed', repos.n);
    values.set('quota_usage_max_ratio', await this.quotaUsage());
  }

  /** The highest share of maxSessions or maxRunningSessions any user has in use (0 with no sessions). */
  private async quotaUsage(): Promise<number> {
    const rows = (await this.deps.dataSource.query(
      `SELECT u.quota, count(*)::int AS sessions, count(*) FILTER (WHERE s.state = 'running')::int AS running
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.state <> 'terminated'
        GROUP BY u.id, u.quota`,
    )) as { quota: Record<string, unknown> | null; sessions: number; running: number }[];
    let max = 0;
    for (const row of rows) {
      const limits = this.deps.quotas.effective(row.quota);
      if (limits.maxSessions > 0) max = Math.max(max, row.sessions / limits.maxSessions);
      if (limits.maxRunningSessions > 0) max = Math.max(max, row.running / limits.maxRunningSessions);
    }
    return max;
  }

  private async readNodes(values: Map<string, number>) {
    const core = this.deps.cluster!.kubeConfig.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    values.set('nodes_total', nodes.items.length);
    values.set('nodes_not_ready', nodes.items.filter((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True').length);
  }

  /** Per-node CPU and memory in use, from metrics.k8s.io NodeMetrics (series.ts NODE_SERIES). */
  private async readNodeUsage(values: Map<string, number>) {
    const list = await kubeGetJson<{ items?: { metadata?: { name?: string }; usage?: Record<string, string> }[] }>(
      this.deps.cluster!.kubeConfig,
      '/apis/metrics.k8s.io/v1beta1/nodes',
      { idleTimeoutMs: 10_000 },
    );
    for (const item of list.items ?? []) {
      const node = item.metadata?.name ?? '';
      const cpu = cpuMillicores(item.usage?.cpu);
      const memory = memoryBytes(item.usage?.memory);
      const cpuSeries = nodeSeriesName('node_cpu_millicores', node);
      const memorySeries = nodeSeriesName('node_memory_bytes', node);
      if (cpuSeries && cpu !== null) values.set(cpuSeries, cpu);
      if (memorySeries && memory !== null) values.set(memorySeries, memory);
    }
  }

  private async readCounters(nowMs: number, values: Map<string, number>) {
    const m = this.deps.metrics;
    const current: CounterReadings = {
      at: nowMs,
      heartbeats: await counterTotal(m.heartbeats),
      gatewayRequests: await counterTotal(m.gatewayRequests),
      gatewayBytes: await counterTotal(m.gatewayBytes),
      jobRuns: await counterTotal(m.jobRuns),
      jobFailures: await counterTotal(m.jobRuns, (l) => l.outcome === 'failure'),
      catalogSyncs: await counterTotal(m.catalogSyncs),
      catalogSyncFailures: await counterTotal(m.catalogSyncs, (l) => l.outcome === 'failure'),
      reconcile: await histogramTotals(m.reconcileDuration),
      startup: await histogramTotals(m.sessionStartupDuration),
    };
    const prev = this.previous;
    this.previous = current;
    if (!prev) return;
    const seconds = (current.at - prev.at) / 1000;
    const rate = (name: string, key: Exclude<keyof CounterReadings, 'at' | 'reconcile' | 'startup'>) => {
      const r = ratePerSecond(prev[key], current[key], seconds);
      if (r !== undefined) values.set(name, r);
    };
    rate('heartbeats_per_second', 'heartbeats');
    rate('gateway_requests_per_second', 'gatewayRequests');
    rate('gateway_bytes_per_second', 'gatewayBytes');
    rate('job_runs', 'jobRuns');
    rate('job_failures', 'jobFailures');
    rate('catalog_syncs', 'catalogSyncs');
    rate('catalog_sync_failures', 'catalogSyncFailures');
    const reconcile = meanBetween(prev.reconcile, current.reconcile);
    if (reconcile !== undefined) values.set('reconcile_seconds', reconcile);
    const startup = meanBetween(prev.startup, current.startup);
    if (startup !== undefined) values.set('session_startup_seconds', startup);
  }

  /** The platform-wide gauges also go to /metrics (this replica samples them while it leads). */
  private exportGauges(values: Map<string, number>) {
    const m = this.deps.metrics;
    for (const phase of SESSION_PHASES) {
      const v = values.get(`sessions_${phase.toLowerCase()}`);
      if (v !== undefined) m.sessionsByPhase.set({ phase }, v);
    }
    const open = values.get('connections_active');
    if (open !== undefined) m.activeConnections.set(open);
  }
}
