import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType('ClusterNodeUsage', { description: 'What a node uses now, from the metrics API (metrics.k8s.io NodeMetrics).' })
export class ClusterNodeUsageType {
  @Field(() => Float, { description: 'CPU in use, in millicores (1000 = one core), averaged over the window.' })
  cpuMillicores!: number;

  @Field(() => Float, { description: 'Memory in use (working set), in bytes.' })
  memoryBytes!: number;

  @Field(() => Float, { nullable: true, description: 'CPU in use as a percentage of the node\'s allocatable CPU (null when the node reports none).' })
  cpuPercent!: number | null;

  @Field(() => Float, { nullable: true, description: 'Memory in use as a percentage of the node\'s allocatable memory (null when the node reports none).' })
  memoryPercent!: number | null;

  @Field(() => Date, { nullable: true, description: 'When the figures were measured.' })
  timestamp!: Date | null;

  @Field(() => Float, { nullable: true, description: 'Seconds the CPU figure is averaged over.' })
  windowSeconds!: number | null;
}

@ObjectType('ClusterContainerUsage', { description: 'What one container of a pod uses now.' })
export class ClusterContainerUsageType {
  @Field({ description: 'Container name.' })
  name!: string;

  @Field(() => Float, { description: 'CPU in use, in millicores.' })
  cpuMillicores!: number;

  @Field(() => Float, { description: 'Memory in use (working set), in bytes.' })
  memoryBytes!: number;
}

@ObjectType('ClusterPodUsage', { description: 'What a pod uses now, from the metrics API (metrics.k8s.io PodMetrics).' })
export class ClusterPodUsageType {
  @Field({ description: 'Namespace of the pod.' })
  namespace!: string;

  @Field({ description: 'Pod name.' })
  name!: string;

  @Field(() => Float, { description: 'CPU in use by all its containers, in millicores.' })
  cpuMillicores!: number;

  @Field(() => Float, { description: 'Memory in use by all its containers (working set), in bytes.' })
  memoryBytes!: number;

  @Field(() => Date, { nullable: true, description: 'When the figures were measured.' })
  timestamp!: Date | null;

  @Field(() => Float, { nullable: true, description: 'Seconds the CPU figure is averaged over.' })
  windowSeconds!: number | null;

  @Field(() => [ClusterContainerUsageType], { description: 'Per container.' })
  containers!: ClusterContainerUsageType[];
}

@ObjectType('ClusterPodUsageList', { description: 'Pod usage, or why the cluster cannot give it.' })
export class ClusterPodUsageListType {
  @Field(() => [ClusterPodUsageType], { description: 'Pods the metrics API reports, by namespace and name (empty when unavailable).' })
  pods!: ClusterPodUsageType[];

  @Field(() => String, {
    nullable: true,
    description: 'Null when the metrics API answered; otherwise why it gave nothing (not served, its server down, not allowed).',
  })
  unavailableReason!: string | null;
}
