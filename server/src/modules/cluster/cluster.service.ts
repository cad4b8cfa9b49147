import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { ClusterDiscovery } from './cluster-discovery.service';
import { ClusterNodeMaintenance } from './cluster-drain';
import { ClusterMetrics } from './cluster-metrics';
import { ClusterPods } from './cluster-pods.service';
import { ClusterResources } from './cluster-resources.service';
import type { PlatformGuard } from './cluster-guard';
import { kindInfo } from './cluster-kinds';
import { ClusterWatchCache } from './cluster-watch-cache';
import { ClusterWorkloads } from './cluster-workloads.service';

/**
 * The admin's view of the cluster (`services.clusterAdmin`): `resources` (nodes, namespaces, list/get/apply/delete/
 * watch of the allow-listed kinds), `pods` (logs, exec, shells), `nodes` (cordon, drain) and `workloads` (scale,
 * restart, rollout history and undo, pod restart, service endpoints, events), `discovery` (read-only browsing of
 * every kind the API server offers) and `metrics` (node and pod usage from metrics.k8s.io, when the cluster serves it). All use only the cluster's KubeConfig.
 */
export class ClusterService {
  readonly resources: ClusterResources;
  readonly pods: ClusterPods;
  readonly nodes: ClusterNodeMaintenance;
  readonly workloads: ClusterWorkloads;
  readonly discovery: ClusterDiscovery;
  readonly metrics: ClusterMetrics;
  private readonly cache: ClusterWatchCache | null;

  constructor(deps: { kubeConfig: KubeConfig | null; audit: AuditService; guard: PlatformGuard; logger?: Logger }) {
    this.cache = deps.kubeConfig ? new ClusterWatchCache({ kubeConfig: deps.kubeConfig, logger: deps.logger }) : null;
    this.resources = new ClusterResources({ ...deps, cache: this.cache });
    this.pods = new ClusterPods({ ...deps, resources: this.resources });
    this.nodes = new ClusterNodeMaintenance(deps);
    this.workloads = new ClusterWorkloads({ ...deps, resources: this.resources });
    this.discovery = new ClusterDiscovery(deps);
    this.metrics = new ClusterMetrics(deps);
  }

  /**
   * Starts the watch cache of a kind's admin lists (Pods, Nodes) now rather than at its first list, and resolves
   * once it serves them (false: the kind is not cached, or there is no cluster).
   */
  async warmCache(kind: string): Promise<boolean> {
    const info = kindInfo(kind);
    return info && this.cache ? this.cache.whenSynced(info) : false;
  }

  /** Stops the watch caches. */
  async stop(): Promise<void> {
    await this.cache?.stop();
  }
}
