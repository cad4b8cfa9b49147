import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../../platform/graphql/pagination';
import type { ClusterKind } from '../cluster-kinds';
import type { KubeObject } from '../cluster-manifest';
import { NodeTaintType } from './cluster-operations.type';

/** GraphQL enum of the allow-listed kinds (values spelled as Kubernetes spells the kind). */
export enum ClusterResourceKindEnum {
  Pod = 'Pod',
  Deployment = 'Deployment',
  StatefulSet = 'StatefulSet',
  Service = 'Service',
  ConfigMap = 'ConfigMap',
  Secret = 'Secret',
  Namespace = 'Namespace',
  Node = 'Node',
  Ingress = 'Ingress',
  PersistentVolumeClaim = 'PersistentVolumeClaim',
  PodDisruptionBudget = 'PodDisruptionBudget',
  Event = 'Event',
  Session = 'Session',
  Template = 'Template',
  TemplateRepository = 'TemplateRepository',
  Connection = 'Connection',
}
registerEnumType(ClusterResourceKindEnum, {
  name: 'ClusterResourceKind',
  description: 'Kinds the admin cluster API can read and change (a fixed allow-list).',
  valuesConfig: {
    Pod: { description: 'core/v1 Pod.' },
    Deployment: { description: 'apps/v1 Deployment.' },
    StatefulSet: { description: 'apps/v1 StatefulSet.' },
    Service: { description: 'core/v1 Service.' },
    ConfigMap: { description: 'core/v1 ConfigMap.' },
    Secret: { description: 'core/v1 Secret (values are never returned: only keys and sizes).' },
    Namespace: { description: 'core/v1 Namespace (cluster-scoped).' },
    Node: { description: 'core/v1 Node (cluster-scoped).' },
    Ingress: { description: 'networking.k8s.io/v1 Ingress.' },
    PersistentVolumeClaim: { description: 'core/v1 PersistentVolumeClaim.' },
    PodDisruptionBudget: { description: 'policy/v1 PodDisruptionBudget (what a node drain respects).' },
    Event: { description: 'core/v1 Event.' },
    Session: { description: 'stream.streamspace.io/v1alpha1 Session.' },
    Template: { description: 'stream.streamspace.io/v1alpha1 Template.' },
    TemplateRepository: { description: 'stream.streamspace.io/v1alpha1 TemplateRepository.' },
    Connection: { description: 'stream.streamspace.io/v1alpha1 Connection.' },
  },
});

export enum ClusterChangeTypeEnum {
  ADDED = 'ADDED',
  MODIFIED = 'MODIFIED',
  DELETED = 'DELETED',
}
registerEnumType(ClusterChangeTypeEnum, {
  name: 'ClusterChangeType',
  description: 'What happened to a watched object.',
  valuesConfig: {
    ADDED: { description: 'Created (or first seen).' },
    MODIFIED: { description: 'Changed.' },
    DELETED: { description: 'Deleted.' },
  },
});

export enum PodExecStreamEnum {
  STDOUT = 'STDOUT',
  STDERR = 'STDERR',
  EXIT = 'EXIT',
}
registerEnumType(PodExecStreamEnum, {
  name: 'PodExecStream',
  description: 'Which output of a command an exec event carries.',
  valuesConfig: {
    STDOUT: { description: 'Standard output.' },
    STDERR: { description: 'Standard error.' },
    EXIT: { description: 'The command ended; see exitCode and data (the API server status message).' },
  },
});

@ObjectType('SecretKey', { description: 'One key of a Secret: its name and size, never its value.' })
export class SecretKeyType {
  @Field({ description: 'The key.' })
  key!: string;

  @Field(() => Int, { description: 'Size of the decoded value in bytes.' })
  size!: number;
}

@ObjectType('ClusterResource', { description: 'One Kubernetes object of an allow-listed kind. Secret values are never included.' })
export class ClusterResourceType {
  @Field(() => ClusterResourceKindEnum, { description: 'Kind of the object.' })
  kind!: ClusterKind;

  @Field({ description: 'apiVersion of the object, e.g. apps/v1.' })
  apiVersion!: string;

  @Field({ description: 'metadata.name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'metadata.namespace (null for cluster-scoped kinds).' })
  namespace!: string | null;

  @Field(() => String, { nullable: true, description: 'metadata.uid.' })
  uid!: string | null;

  @Field(() => String, { nullable: true, description: 'metadata.resourceVersion; an edited YAML carrying it fails with CONFLICT if the object changed since.' })
  resourceVersion!: string | null;

  @Field(() => Date, { nullable: true, description: 'metadata.creationTimestamp.' })
  createdAt!: Date | null;

  @Field(() => GraphQLJSONObject, { description: 'metadata.labels.' })
  labels!: Record<string, string>;

  @Field(() => GraphQLJSONObject, { description: 'metadata.annotations (a Secret\'s last-applied-configuration is redacted).' })
  annotations!: Record<string, string>;

  @Field(() => String, { nullable: true, description: 'A one-line state: pod phase, deployment ready replicas, node readiness, event type and reason.' })
  status!: string | null;

  @Field(() => [SecretKeyType], { nullable: true, description: 'For a Secret: its keys and value sizes (never the values); null for other kinds.' })
  secretKeys!: SecretKeyType[] | null;

  @Field(() => [String], { nullable: true, description: 'For a Pod: its container names (init containers first); null for other kinds.' })
  containers!: string[] | null;

  /** The sanitized object, for the `yaml` field resolver. */
  object!: KubeObject;
}

@ObjectType('ClusterResourceEdge', { description: 'One ClusterResource in a page, with its cursor.' })
export class ClusterResourceEdgeType {
  @Field(() => ClusterResourceType, { description: 'The object.' })
  node!: ClusterResourceType;

  @Field({ description: 'Opaque cursor of this edge.' })
  cursor!: string;
}

@ObjectType('ClusterResourceConnection', {
  description: 'A page of objects in the API server\'s order (namespace, then name), paged with the API server\'s continue tokens.',
})
export class ClusterResourceConnectionType {
  @Field(() => [ClusterResourceEdgeType], { description: 'The items of this page.' })
  edges!: ClusterResourceEdgeType[];

  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo!: PageInfo;

  @Field(() => Int, {
    nullable: true,
    description: 'Number of objects in the whole list when the API server knows it (it does not with a label selector on a partial list).',
  })
  totalCount!: number | null;
}

@ObjectType('ResourceQuantity', { description: 'A named Kubernetes quantity, e.g. cpu = 4 or memory = 16Gi.' })
export class ResourceQuantityType {
  @Field({ description: 'Resource name (cpu, memory, pods, ephemeral-storage, ...).' })
  name!: string;

  @Field({ description: 'Quantity as Kubernetes writes it.' })
  value!: string;
}

@ObjectType('NodeCondition', { description: 'One condition reported for a node (Ready, MemoryPressure, ...).' })
export class NodeConditionType {
  @Field({ description: 'Condition type.' })
  type!: string;

  @Field({ description: 'True, False or Unknown.' })
  status!: string;

  @Field(() => String, { nullable: true, description: 'Machine-readable reason of the last transition.' })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'Human-readable details.' })
  message!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the status last changed.' })
  lastTransitionTime!: Date | null;
}

@ObjectType('ClusterNode', { description: 'A node of the cluster with its capacity and conditions.' })
export class ClusterNodeType {
  @Field({ description: 'Node name.' })
  name!: string;

  @Field({ description: 'Whether the Ready condition is True.' })
  ready!: boolean;

  @Field({ description: 'Whether the node is cordoned (spec.unschedulable).' })
  unschedulable!: boolean;

  @Field(() => String, { nullable: true, description: 'Kubelet version the node reports (kwok reports a simulated one).' })
  kubeletVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'First InternalIP address.' })
  internalIp!: string | null;

  @Field(() => [ResourceQuantityType], { description: 'status.capacity: total resources of the node.' })
  capacity!: ResourceQuantityType[];

  @Field(() => [ResourceQuantityType], { description: 'status.allocatable: resources available to pods.' })
  allocatable!: ResourceQuantityType[];

  @Field(() => [NodeConditionType], { description: 'status.conditions.' })
  conditions!: NodeConditionType[];

  @Field(() => GraphQLJSONObject, { description: 'metadata.labels.' })
  labels!: Record<string, string>;

  @Field(() => [NodeTaintType], { description: 'spec.taints (a cordoned node also carries node.kubernetes.io/unschedulable).' })
  taints!: NodeTaintType[];

  @Field(() => Date, { nullable: true, description: 'metadata.creationTimestamp.' })
  createdAt!: Date | null;
}

@ObjectType('ClusterNamespace', { description: 'A namespace of the cluster.' })
export class ClusterNamespaceType {
  @Field({ description: 'Namespace name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Active or Terminating.' })
  phase!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'metadata.labels.' })
  labels!: Record<string, string>;

  @Field(() => Date, { nullable: true, description: 'metadata.creationTimestamp.' })
  createdAt!: Date | null;
}

@ObjectType('ClusterResourceChange', { description: 'A change of a watched object.' })
export class ClusterResourceChangeType {
  @Field(() => ClusterChangeTypeEnum, { description: 'What happened.' })
  type!: ClusterChangeTypeEnum;

  @Field(() => ClusterResourceType, { description: 'The object after the change (as last seen, for DELETED).' })
  resource!: ClusterResourceType;
}

@ObjectType('PodLogChunk', { description: 'Log lines of a followed container, as they arrive.' })
export class PodLogChunkType {
  @Field(() => [String], { description: 'Complete lines, oldest first, without line breaks.' })
  lines!: string[];
}

@ObjectType('PodExecOutput', { description: 'Output of a command run in a container, as it arrives, then its end.' })
export class PodExecOutputType {
  @Field(() => PodExecStreamEnum, { description: 'Which stream this is, or EXIT at the end.' })
  stream!: PodExecStreamEnum;

  @Field({ description: 'Text of the output (UTF-8); for EXIT, the status message of the API server.' })
  data!: string;

  @Field(() => Int, { nullable: true, description: 'For EXIT: the exit code (0 on success), when known.' })
  exitCode!: number | null;
}

export enum PodShellEventKindEnum {
  READY = 'READY',
  OUTPUT = 'OUTPUT',
  EXIT = 'EXIT',
}
registerEnumType(PodShellEventKindEnum, {
  name: 'PodShellEventKind',
  description: 'What a pod shell event carries.',
  valuesConfig: {
    READY: { description: 'The shell is attached; send input with podShellInput(shellId) over the same graphql-ws connection.' },
    OUTPUT: { description: 'Terminal output (stdout and stderr share the TTY).' },
    EXIT: { description: 'The shell ended; data is the API server status message.' },
  },
});

@ObjectType('PodShellEvent', { description: 'An event of an interactive shell (TTY) in a container.' })
export class PodShellEventType {
  @Field({ description: 'Id of this shell, for podShellInput.' })
  shellId!: string;

  @Field(() => PodShellEventKindEnum, { description: 'What this event is.' })
  kind!: PodShellEventKindEnum;

  @Field({ description: 'Terminal output (OUTPUT) or the status message (EXIT); empty for READY.' })
  data!: string;

  @Field(() => Int, { nullable: true, description: 'For EXIT: the exit code, when known.' })
  exitCode!: number | null;
}
