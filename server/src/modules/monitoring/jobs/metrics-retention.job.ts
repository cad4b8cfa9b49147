import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { MonitoringService } from '../monitoring.service';

/** Deletes samples older than STREAMSPACE_MONITORING_RETENTION (leader only, every 10 minutes). */
export function metricsRetentionJob(monitoring: MonitoringService): JobDefinition {
  return {
    name: 'metrics-retention',
    intervalMs: 10 * 60_000,
    async run({ logger }) {
      const deleted = await monitoring.deleteOldSamples();
      if (deleted) logger.info({ deleted }, 'old metric samples deleted');
    },
  };
}
