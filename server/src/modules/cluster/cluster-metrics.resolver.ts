import { Arg, Authorized, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Access } from '../../platform/graphql/authorization';
import { checkNamespace, kindOf } from './cluster-checks';
import { cpuMillicores, memoryBytes, percentOf } from './cluster-quantity';
import type { ClusterService } from './cluster.service';
import { ClusterNodeUsageType, ClusterPodUsageListType } from './dto/cluster-metrics.type';
import { ClusterNodeType } from './dto/cluster.type';

/** A node missing from an answered NodeMetrics list: metrics-server has not scraped its kubelet (yet). */
export const NODE_NOT_SCRAPED =
  'the metrics API has no figures for this node: its metrics server has not scraped the node\'s kubelet yet, cannot reach it, or got no usable figures from it (an idle simulated node reports none)';

/**
 * Usage of nodes (fields of ClusterNode) and pods from the metrics API (cluster-metrics.ts). One NodeMetrics list
 * serves every node of a query. When the API gives nothing the usage is null and `usageUnavailableReason` says why.
 */
@Resolver(() => ClusterNodeType)
export class ClusterMetricsResolver {
  constructor(readonly deps: { clusterAdmin: ClusterService }) {}

  @Authorized(...Access.AUDIT_READ)
  @FieldResolver(() => ClusterNodeUsageType, {
    nullable: true,
    description: 'CPU and memory in use now, from the metrics API (metrics.k8s.io); null when it has none (see usageUnavailableReason).',
  })
  async usage(@Root() node: ClusterNodeType): Promise<ClusterNodeUsageType | null> {
    const answer = await this.deps.clusterAdmin.metrics.nodeUsage();
    const usage = answer.ok ? answer.value.get(node.name) : undefined;
    if (!usage) return null;
    const allocatable = (name: string) => node.allocatable.find((q) => q.name === name)?.value;
    return {
      cpuMillicores: usage.cpuMillicores,
      memoryBytes: usage.memoryBytes,
      cpuPercent: percentOf(usage.cpuMillicores, cpuMillicores(allocatable('cpu'))),
      memoryPercent: percentOf(usage.memoryBytes, memoryBytes(allocatable('memory'))),
      timestamp: usage.timestamp,
      windowSeconds: usage.windowSeconds,
    };
  }

  @Authorized(...Access.AUDIT_READ)
  @FieldResolver(() => String, {
    nullable: true,
    description: 'Null when `usage` has figures; otherwise why not: the metrics API is not served, its server does not answer, the platform may not read it, or it has not scraped this node.',
  })
  async usageUnavailableReason(@Root() node: ClusterNodeType): Promise<string | null> {
    const answer = await this.deps.clusterAdmin.metrics.nodeUsage();
    if (!answer.ok) return answer.reason;
    return answer.value.has(node.name) ? null : NODE_NOT_SCRAPED;
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => ClusterPodUsageListType, {
    description: 'CPU and memory in use by pods now, from the metrics API (metrics.k8s.io PodMetrics); an empty list with the reason when it has none.',
  })
  async clusterPodUsage(
    @Arg('namespace', () => String, { nullable: true, description: 'Only this namespace (omit for every namespace).' }) namespace?: string | null,
  ): Promise<ClusterPodUsageListType> {
    const ns = checkNamespace(kindOf('Pod'), namespace, false);
    const answer = await this.deps.clusterAdmin.metrics.podUsage(ns);
    return answer.ok ? { pods: answer.value, unavailableReason: null } : { pods: [], unavailableReason: answer.reason };
  }
}
