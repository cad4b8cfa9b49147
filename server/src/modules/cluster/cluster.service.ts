import type { KubeConfig } from '@kubernetes/client-node';
import type { AuditService } from '../audit/audit.service';
import { ClusterPods } from './cluster-pods.service';
import { ClusterResources } from './cluster-resources.service';
import type { PlatformGuard } from './cluster-guard';

/**
 * The admin's view of the cluster (`services.clusterAdmin`): `resources` (nodes, namespaces, list/get/apply/delete/
 * watch of the allow-listed kinds) and `pods` (logs, exec, shells). Both use only the cluster's KubeConfig.
 */
export class ClusterService {
  readonly resources: ClusterResources;
  readonly pods: ClusterPods;

  constructor(deps: { kubeConfig: KubeConfig | null; audit: AuditService; guard: PlatformGuard }) {
    this.resources = new ClusterResources(deps);
    this.pods = new ClusterPods({ ...deps, resources: this.resources });
  }
}
