import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { ClusterPods } from './cluster-pods.service';
import { ClusterResources } from './cluster-resources.service';
import type { PlatformGuard } from './cluster-guard';
import { ClusterWatchCache } from './cluster-watch-cache';

/**
 * The admin's view of the cluster (`services.clusterAdmin`): `resources` (nodes, namespaces, list/get/apply/delete/
 * watch of the allow-listed kinds) and `pods` (logs, exec, shells). Both use only the cluster's KubeConfig.
 */
export class ClusterService {
  readonly resources: ClusterResources;
  readonly pods: ClusterPods;
  private readonly cache: ClusterWatchCache | null;

  constructor(deps: { kubeConfig: KubeConfig | null; audit: AuditService; guard: PlatformGuard; logger?: Logger }) {
    this.cache = deps.kubeConfig ? new ClusterWatchCache({ kubeConfig: deps.kubeConfig, logger: deps.logger }) : null;
    this.resources = new ClusterResources({ ...deps, cache: this.cache });
    this.pods = new ClusterPods({ ...deps, resources: this.resources });
  }

  /** Stops the watch caches. */
  async stop(): Promise<void> {
    await this.cache?.stop();
  }
}
