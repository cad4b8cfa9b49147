import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { MonitoringService } from '../monitoring.service';

/** Samples every series into PostgreSQL and evaluates the alert rules (leader only), every STREAMSPACE_MONITORING_INTERVAL. */
export function metricsSamplerJob(monitoring: MonitoringService, intervalMs: number): JobDefinition {
  return {
    name: 'metrics-sampler',
    intervalMs,
    async run({ logger }) {
      const result = await monitoring.sample();
      logger.debug({ series: result.values.size, alerts: result.changed.length }, 'metrics sampled');
    },
  };
}
