import type { DataSource } from 'typeorm';
import type { MonitoringConfig } from '../../config/config';
import { pingDatabase } from '../../platform/database/database';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { AppMetrics } from '../../platform/http/metrics';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { QuotaService } from '../quotas/quota.service';
import { DependencyWatchdog } from './dependency-watchdog';
import { metricsRetentionJob } from './jobs/metrics-retention.job';
import { metricsSamplerJob } from './jobs/metrics-sampler.job';
import { MetricsSampler } from './metrics-sampler';
import { MonitoringService, type DependencyProbes } from './monitoring.service';

export interface CreateMonitoringOptions {
  config: MonitoringConfig;
  dataSource: DataSource;
  pubSub: AppPubSub;
  audit: AuditService;
  metrics: AppMetrics;
  cluster: ClusterConnection | null;
  quotas: QuotaService;
  jobs: JobRunner;
  /** This replica's name (alerts about its own dependencies carry it). */
  identity: string;
  /** Time limit of each probe. */
  probeTimeoutMs: number;
  logger: Logger;
  cleanup: CleanupStack;
  /** Tests: other probes (e.g. a PostgreSQL that is down) and a fixed clock. */
  probes?: DependencyProbes;
  now?: () => Date;
}

/**
 * Monitoring: the shipped alert rules are seeded, the leader's sampler and retention jobs registered, and this
 * replica's dependency watchdog started (stopped on the cleanup stack, webhooks in flight awaited).
 */
export async function createMonitoring(options: CreateMonitoringOptions): Promise<MonitoringService> {
  const { config, dataSource, cluster, logger } = options;
  const probes: DependencyProbes = options.probes ?? {
    postgres: () => pingDatabase(dataSource, options.probeTimeoutMs).then(() => true, () => false),
    apiserver: cluster ? () => cluster.ping(options.probeTimeoutMs).then(() => true, () => false) : null,
  };
  const monitoring = new MonitoringService({
    dataSource,
    pubSub: options.pubSub,
    audit: options.audit,
    logger,
    config,
    sampler: new MetricsSampler({ dataSource, metrics: options.metrics, cluster, quotas: options.quotas, logger: logger.child({ component: 'monitoring' }) }),
    probes,
    identity: options.identity,
    now: options.now,
  });
  await monitoring.seedRules();
  options.jobs.register(metricsSamplerJob(monitoring, config.intervalMs));
  options.jobs.register(metricsRetentionJob(monitoring));
  const watchdog = new DependencyWatchdog(monitoring, config.intervalMs, logger.child({ component: 'monitoring' }));
  await options.cleanup.start(
    'dependency watchdog',
    () => watchdog.start(),
    async () => {
      await watchdog.stop();
      await monitoring.webhooks.settled();
    },
  );
  return monitoring;
}
