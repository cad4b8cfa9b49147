import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ClusterWorkloadKindEnum {
  Deployment = 'Deployment',
  StatefulSet = 'StatefulSet',
}
registerEnumType(ClusterWorkloadKindEnum, {
  name: 'ClusterWorkloadKind',
  description: 'Workload kinds the admin console can scale and restart.',
  valuesConfig: {
    Deployment: { description: 'apps/v1 Deployment.' },
    StatefulSet: { description: 'apps/v1 StatefulSet.' },
  },
});

@ObjectType('NodeTaint', { description: 'A taint of a node (spec.taints).' })
export class NodeTaintType {
  @Field({ description: 'Taint key.' })
  key!: string;

  @Field(() => String, { nullable: true, description: 'Taint value, if any.' })
  value!: string | null;

  @Field({ description: 'NoSchedule, PreferNoSchedule or NoExecute.' })
  effect!: string;
}

export enum DrainPhaseEnum {
  CORDONED = 'CORDONED',
  EVICTING = 'EVICTING',
  WAITING = 'WAITING',
  DRAINED = 'DRAINED',
  INCOMPLETE = 'INCOMPLETE',
}
registerEnumType(DrainPhaseEnum, {
  name: 'ClusterNodeDrainPhase',
  description: 'Where a node drain is.',
  valuesConfig: {
    CORDONED: { description: 'The node is cordoned and its pods are listed; evictions start next.' },
    EVICTING: { description: 'Asking the Eviction API to evict the pods (retrying those a PodDisruptionBudget blocks).' },
    WAITING: { description: 'Every eviction was accepted; waiting for the pods to be gone.' },
    DRAINED: { description: 'Done: every evictable pod is gone (DaemonSet and mirror pods stay, as with kubectl drain).' },
    INCOMPLETE: { description: 'Done, but some pods are still on the node: blocked by a PodDisruptionBudget, not managed by a controller, or failed. The node stays cordoned.' },
  },
});

export enum DrainPodStateEnum {
  PENDING = 'PENDING',
  EVICTED = 'EVICTED',
  GONE = 'GONE',
  BLOCKED = 'BLOCKED',
  SKIPPED = 'SKIPPED',
  FAILED = 'FAILED',
}
registerEnumType(DrainPodStateEnum, {
  name: 'ClusterNodeDrainPodState',
  description: 'What a drain did with one pod.',
  valuesConfig: {
    PENDING: { description: 'Not evicted yet.' },
    EVICTED: { description: 'The Eviction API accepted the eviction; the pod is terminating.' },
    GONE: { description: 'The pod no longer exists.' },
    BLOCKED: { description: 'The Eviction API refused: evicting it now would violate a PodDisruptionBudget (retried until the timeout, never forced).' },
    SKIPPED: { description: 'Left alone: a DaemonSet or mirror pod, or a pod no controller would re-create (unless force).' },
    FAILED: { description: 'The eviction failed for another reason; see message.' },
  },
});

@ObjectType('ClusterNodeDrainPod', { description: 'One pod of a node being drained.' })
export class DrainPodType {
  @Field({ description: 'Namespace of the pod.' })
  namespace!: string;

  @Field({ description: 'Name of the pod.' })
  name!: string;

  @Field(() => DrainPodStateEnum, { description: 'What the drain did with it so far.' })
  state!: DrainPodStateEnum;

  @Field(() => String, { nullable: true, description: 'Why it was blocked, skipped or failed (the API server\'s message).' })
  message!: string | null;
}

@ObjectType('ClusterNodeDrainProgress', { description: 'A snapshot of a node drain: every pod with its state, and the phase.' })
export class DrainProgressType {
  @Field({ description: 'The node.' })
  node!: string;

  @Field(() => DrainPhaseEnum, { description: 'Where the drain is; DRAINED and INCOMPLETE are the last event.' })
  phase!: DrainPhaseEnum;

  @Field(() => [DrainPodType], { description: 'The pods that were on the node when the drain started, by namespace and name.' })
  pods!: DrainPodType[];

  @Field(() => Int, { description: 'Pods gone or evicted so far.' })
  evicted!: number;

  @Field(() => Int, { description: 'Pods a PodDisruptionBudget blocks right now.' })
  blocked!: number;

  @Field(() => String, { nullable: true, description: 'A summary for the last event.' })
  message!: string | null;
}

@ObjectType('ClusterDeploymentRevision', { description: 'One revision of a Deployment: a ReplicaSet it owns (kubectl rollout history).' })
export class DeploymentRevisionType {
  @Field(() => Int, { description: 'Revision number (deployment.kubernetes.io/revision).' })
  revision!: number;

  @Field({ description: 'The ReplicaSet of this revision.' })
  replicaSet!: string;

  @Field({ description: 'Whether this is the Deployment\'s current revision.' })
  current!: boolean;

  @Field(() => Int, { description: 'Pods the ReplicaSet wants.' })
  replicas!: number;

  @Field(() => Int, { description: 'Ready pods of the ReplicaSet.' })
  readyReplicas!: number;

  @Field(() => [String], { description: 'Container images of the revision\'s pod template.' })
  images!: string[];

  @Field(() => String, { nullable: true, description: 'kubernetes.io/change-cause annotation, when set.' })
  changeCause!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the ReplicaSet was created.' })
  createdAt!: Date | null;
}

@ObjectType('ClusterServicePort', { description: 'One port of a Service.' })
export class ServicePortType {
  @Field(() => String, { nullable: true, description: 'Port name.' })
  name!: string | null;

  @Field({ description: 'TCP, UDP or SCTP.' })
  protocol!: string;

  @Field(() => Int, { description: 'Port of the Service.' })
  port!: number;

  @Field(() => String, { nullable: true, description: 'Port (number or name) on the pods.' })
  targetPort!: string | null;

  @Field(() => Int, { nullable: true, description: 'Node port (NodePort and LoadBalancer services).' })
  nodePort!: number | null;
}

@ObjectType('ClusterServiceEndpoint', { description: 'One endpoint of a Service (from its EndpointSlices).' })
export class ServiceEndpointType {
  @Field(() => [String], { description: 'Addresses of the endpoint.' })
  addresses!: string[];

  @Field({ description: 'Whether the endpoint is ready (conditions.ready; unknown counts as ready).' })
  ready!: boolean;

  @Field({ description: 'Whether the endpoint is terminating.' })
  terminating!: boolean;

  @Field(() => String, { nullable: true, description: 'The pod behind it (targetRef), when it is a pod.' })
  podName!: string | null;

  @Field(() => String, { nullable: true, description: 'Node the endpoint runs on.' })
  nodeName!: string | null;

  @Field(() => [String], { description: 'Ports of its EndpointSlice, as name:port/protocol.' })
  ports!: string[];
}

@ObjectType('ClusterServiceEndpoints', { description: 'A Service with its ports and the endpoints its EndpointSlices list.' })
export class ServiceEndpointsType {
  @Field({ description: 'Namespace of the Service.' })
  namespace!: string;

  @Field({ description: 'Name of the Service.' })
  name!: string;

  @Field({ description: 'ClusterIP, NodePort, LoadBalancer or ExternalName.' })
  type!: string;

  @Field(() => String, { nullable: true, description: 'spec.clusterIP.' })
  clusterIp!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'spec.selector (empty when the Service has none).' })
  selector!: Record<string, string>;

  @Field(() => [ServicePortType], { description: 'spec.ports.' })
  ports!: ServicePortType[];

  @Field(() => [ServiceEndpointType], { description: 'Endpoints of every EndpointSlice of the Service.' })
  endpoints!: ServiceEndpointType[];
}

@ObjectType('ClusterEvent', { description: 'A Kubernetes event (core/v1).' })
export class ClusterEventType {
  @Field({ description: 'Namespace of the event.' })
  namespace!: string;

  @Field(() => String, { nullable: true, description: 'Normal or Warning.' })
  type!: string | null;

  @Field(() => String, { nullable: true, description: 'Machine-readable reason (Scheduled, Killing, FailedScheduling, ...).' })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'Human-readable message.' })
  message!: string | null;

  @Field(() => String, { nullable: true, description: 'Kind of the object it is about.' })
  objectKind!: string | null;

  @Field(() => String, { nullable: true, description: 'Name of the object it is about.' })
  objectName!: string | null;

  @Field(() => Int, { description: 'How many times it happened (1 when not counted).' })
  count!: number;

  @Field(() => Date, { nullable: true, description: 'When it last happened.' })
  lastSeen!: Date | null;

  @Field(() => String, { nullable: true, description: 'Component that reported it.' })
  source!: string | null;
}
