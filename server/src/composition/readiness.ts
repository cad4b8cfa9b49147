import { pingDatabase } from '../platform/database/database';
import type { ReadinessCheck } from '../platform/http/health.routes';
import type { AppServices } from './services';

/** What /readyz checks: the database answers, and the Kubernetes API server answers /version (when there is a cluster). */
export function readinessChecks({ database, cluster, config }: Pick<AppServices, 'database' | 'cluster' | 'config'>): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    {
      name: 'database',
      check: async () => {
        await pingDatabase(database.dataSource, config.dbHealthTimeoutMs);
        return { target: database.description };
      },
    },
  ];
  if (cluster) {
    checks.push({
      name: 'kubernetes',
      // Says whether the cluster is simulated.
      check: async () => {
        const version = await cluster.ping();
        return { target: cluster.description, mode: cluster.mode, simulated: cluster.simulated, version: version.gitVersion };
      },
    });
  }
  return checks;
}
