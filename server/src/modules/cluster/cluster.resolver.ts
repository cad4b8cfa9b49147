import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Access, Role, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs } from '../../platform/graphql/pagination';
import { resolverOf } from '../../platform/graphql/schema';
import { kindInfo } from './cluster-kinds';
import { toYaml } from './cluster-manifest';
import type { ClusterService } from './cluster.service';
import { toClusterNode } from './cluster-resources.service';
import {
  ClusterEventType,
  ClusterWorkloadKindEnum,
  DeploymentRevisionType,
  DrainProgressType,
  ServiceEndpointsType,
} from './dto/cluster-operations.type';
import { ApiObjectConnectionType, ApiObjectType, ApiResourceType } from './dto/cluster-discovery.type';
import {
  ClusterNamespaceType,
  ClusterNodeType,
  ClusterResourceChangeType,
  ClusterResourceConnectionType,
  ClusterResourceKindEnum,
  ClusterResourceType,
  PodExecOutputType,
  PodLogChunkType,
  PodShellEventType,
} from './dto/cluster.type';

/** The cluster service of the schema a subscription runs in (subscribe functions are static). */
const clusterOf = (info: Pick<GraphQLResolveInfo, 'schema'>): ClusterService => resolverOf(info, ClusterResolver).deps.clusterAdmin;

@ArgsType()
class ClusterApiObjectsArgs extends PaginationArgs {
  @Field({ description: 'apiVersion of a discovered resource (see clusterApiResources), e.g. apps/v1.' })
  apiVersion!: string;

  @Field({ description: 'Plural name of the resource, e.g. replicasets.' })
  plural!: string;

  @Field(() => String, { nullable: true, description: 'Only this namespace (omit for every namespace; must be omitted for cluster-scoped kinds).' })
  namespace?: string | null;
}

@ArgsType()
class ClusterResourcesArgs extends PaginationArgs {
  @Field(() => ClusterResourceKindEnum, { description: 'Which kind to list.' })
  kind!: ClusterResourceKindEnum;

  @Field(() => String, { nullable: true, description: 'Only this namespace (omit for every namespace; must be omitted for cluster-scoped kinds).' })
  namespace?: string | null;

  @Field(() => String, { nullable: true, description: 'A Kubernetes label selector, e.g. `app=web,tier!=db`.' })
  labelSelector?: string | null;
}

/**
 * The admin cluster browser (Headlamp-like): nodes, namespaces, any allow-listed kind as objects or YAML,
 * server-side apply, delete, pod logs, a command in a container and watches. Admin only, every operation.
 */
@Resolver(() => ClusterResourceType)
export class ClusterResolver {
  constructor(readonly deps: { clusterAdmin: ClusterService }) {}

  @Authorized(...Access.AUDIT_READ)
  @Query(() => [ClusterNodeType], { description: 'Nodes of the cluster with capacity, allocatable resources and conditions, by name.' })
  clusterNodes(): Promise<ClusterNodeType[]> {
    return this.deps.clusterAdmin.resources.nodes();
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => [ClusterNamespaceType], { description: 'Namespaces of the cluster, by name.' })
  clusterNamespaces(): Promise<ClusterNamespaceType[]> {
    return this.deps.clusterAdmin.resources.namespaces();
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => ClusterResourceConnectionType, { description: 'A page of objects of one allow-listed kind (Secrets without values).' })
  clusterResources(@Args(() => ClusterResourcesArgs) args: ClusterResourcesArgs): Promise<ClusterResourceConnectionType> {
    return this.deps.clusterAdmin.resources.list(args.kind, args);
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => ClusterResourceType, { nullable: true, description: 'One object, or null when it does not exist.' })
  clusterResource(
    @Arg('kind', () => ClusterResourceKindEnum, { description: 'Kind of the object.' }) kind: ClusterResourceKindEnum,
    @Arg('name', { description: 'metadata.name.' }) name: string,
    @Arg('namespace', () => String, { nullable: true, description: 'metadata.namespace (required for namespaced kinds).' }) namespace?: string | null,
  ): Promise<ClusterResourceType | null> {
    return this.deps.clusterAdmin.resources.get(kind, namespace, name);
  }

  @Authorized(Role.ADMIN)
  @Query(() => String, { description: 'The last lines of a container\'s log (kubectl logs --tail); the API server\'s error when it cannot reach the node.' })
  podLogs(
    @Arg('namespace', { description: 'Namespace of the pod.' }) namespace: string,
    @Arg('name', { description: 'Pod name.' }) name: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('container', () => String, { nullable: true, description: 'Container (default: the only or first one).' }) container?: string | null,
    @Arg('tailLines', () => Int, { nullable: true, description: 'How many lines from the end, 1-10000 (default 500).' }) tailLines?: number | null,
  ): Promise<string> {
    return this.deps.clusterAdmin.pods.podLogs(namespace, name, container, tailLines, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ClusterResourceType, {
    description:
      'Creates or changes one object by server-side apply (field manager streamspace-admin) from a YAML manifest of an allow-listed kind. ' +
      'Redacted Secret values keep their stored value. A stale resourceVersion or a field owned by another manager answers CONFLICT. Audited.',
  })
  applyClusterResourceYaml(
    @Arg('yaml', { description: 'One manifest (apiVersion, kind, metadata.name, metadata.namespace for namespaced kinds).' }) yaml: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('force', () => Boolean, { nullable: true, description: 'Take over fields owned by other field managers instead of answering CONFLICT.' }) force?: boolean | null,
  ): Promise<ClusterResourceType> {
    return this.deps.clusterAdmin.resources.apply(yaml, force ?? false, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Deletes one object (dependents are garbage-collected in the background). Audited.' })
  deleteClusterResource(
    @Arg('kind', () => ClusterResourceKindEnum, { description: 'Kind of the object.' }) kind: ClusterResourceKindEnum,
    @Arg('name', { description: 'metadata.name.' }) name: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('namespace', () => String, { nullable: true, description: 'metadata.namespace (required for namespaced kinds).' }) namespace?: string | null,
  ): Promise<boolean> {
    return this.deps.clusterAdmin.resources.delete(kind, namespace, name, ctx);
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => PodLogChunkType, {
    description: 'Follows a container\'s log (kubectl logs -f): the last tailLines lines, then new lines as they are written.',
    subscribe: ({ args, info, context }) =>
      clusterOf(info).pods.followPodLogs(args.namespace as string, args.name as string, args.container as string | null, args.tailLines as number | null, context as GraphQLContext),
  })
  podLogStream(
    @Root() lines: string[],
    @Arg('namespace', { description: 'Namespace of the pod.' }) _namespace: string,
    @Arg('name', { description: 'Pod name.' }) _name: string,
    @Arg('container', () => String, { nullable: true, description: 'Container (default: the only or first one).' }) _container?: string | null,
    @Arg('tailLines', () => Int, { nullable: true, description: 'Lines from the end to start with, 1-10000 (default 500).' }) _tailLines?: number | null,
  ): PodLogChunkType {
    return { lines };
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => PodExecOutputType, {
    description:
      'Runs a command in a container (no TTY, no stdin; kubectl exec POD -- COMMAND) and streams its output, then EXIT. Audited; ' +
      'fails with the API server\'s message when it cannot reach the node\'s kubelet.',
    subscribe: ({ args, info, context }) =>
      clusterOf(info).pods.exec(args.namespace as string, args.name as string, args.container as string | null, args.command as string[], context as GraphQLContext),
  })
  podExec(
    @Root() output: PodExecOutputType,
    @Arg('namespace', { description: 'Namespace of the pod.' }) _namespace: string,
    @Arg('name', { description: 'Pod name.' }) _name: string,
    @Arg('command', () => [String], { description: 'The command and its arguments (not run through a shell).' }) _command: string[],
    @Arg('container', () => String, { nullable: true, description: 'Container (default: the first one).' }) _container?: string | null,
  ): PodExecOutputType {
    return output;
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => PodShellEventType, {
    description:
      'An interactive shell (TTY) in a container: READY with the shell id, then terminal output, then EXIT. Type into it with podShellInput ' +
      'over the same graphql-ws connection. Opening is audited; fails with the API server\'s message when it cannot reach the node\'s kubelet.',
    subscribe: ({ args, info, context }) => {
      const ctx = context as GraphQLContext;
      return clusterOf(info).pods.shell(args.namespace as string, args.name as string, args.container as string | null, args.command as string[] | null, requireCaller(ctx), ctx);
    },
  })
  podShell(
    @Root() event: PodShellEventType,
    @Arg('namespace', { description: 'Namespace of the pod.' }) _namespace: string,
    @Arg('name', { description: 'Pod name.' }) _name: string,
    @Arg('container', () => String, { nullable: true, description: 'Container (default: the first one).' }) _container?: string | null,
    @Arg('command', () => [String], { nullable: true, description: 'Shell to run (default /bin/sh).' }) _command?: string[] | null,
  ): PodShellEventType {
    return event;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      'Sends keystrokes (and optionally a new terminal size) to a shell the caller opened with podShell. Send it over the same graphql-ws ' +
      'connection as the subscription (the shell lives in that server process); NOT_FOUND otherwise. Keystrokes are not audited.',
  })
  podShellInput(
    @Arg('shellId', { description: 'The id from the READY event.' }) shellId: string,
    @Arg('data', { description: 'Bytes to type, as UTF-8 text (may be empty with a resize).' }) data: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('cols', () => Int, { nullable: true, description: 'New terminal width in columns.' }) cols?: number | null,
    @Arg('rows', () => Int, { nullable: true, description: 'New terminal height in rows.' }) rows?: number | null,
  ): boolean {
    return this.deps.clusterAdmin.pods.input(shellId, requireCaller(ctx), data, { cols, rows });
  }

  @Authorized(...Access.AUDIT_READ)
  @Subscription(() => ClusterResourceChangeType, {
    description: 'Objects of one kind as they are added, changed or deleted from now on (a list-then-watch that resumes after dropped connections).',
    subscribe: ({ args, info }) => clusterOf(info).resources.watch(args.kind as string, args.namespace as string | null),
  })
  clusterResourceChanged(
    @Root() change: ClusterResourceChangeType,
    @Arg('kind', () => ClusterResourceKindEnum, { description: 'Kind to watch.' }) _kind: ClusterResourceKindEnum,
    @Arg('namespace', () => String, { nullable: true, description: 'Only this namespace (omit for all).' }) _namespace?: string | null,
  ): ClusterResourceChangeType {
    return change;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ClusterNodeType, { description: 'Cordons (unschedulable=true) or uncordons a node: new pods are not scheduled onto a cordoned node. Audited.' })
  async setClusterNodeSchedulable(
    @Arg('name', { description: 'Node name.' }) name: string,
    @Arg('schedulable', { description: 'false cordons the node, true uncordons it.' }) schedulable: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ClusterNodeType> {
    return toClusterNode(await this.deps.clusterAdmin.nodes.setUnschedulable(name, !schedulable, ctx));
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => DrainProgressType, {
    description:
      'Drains a node (kubectl drain --ignore-daemonsets): cordons it, evicts its pods through the Eviction API and waits for them to be gone, ' +
      'streaming a snapshot after every change. A pod a PodDisruptionBudget protects is BLOCKED and retried until the timeout, never forced. ' +
      'The last event is DRAINED or INCOMPLETE; closing the subscription stops the drain (the node stays cordoned). Audited.',
    subscribe: ({ args, info, context }) =>
      clusterOf(info).nodes.drain(
        args.name as string,
        { force: args.force as boolean | null, timeoutSeconds: args.timeoutSeconds as number | null, gracePeriodSeconds: args.gracePeriodSeconds as number | null },
        context as GraphQLContext,
      ),
  })
  drainClusterNode(
    @Root() progress: DrainProgressType,
    @Arg('name', { description: 'Node name.' }) _name: string,
    @Arg('force', () => Boolean, { nullable: true, description: 'Also evict pods no controller manages (they are not re-created). Default false: they are SKIPPED.' }) _force?: boolean | null,
    @Arg('timeoutSeconds', () => Int, { nullable: true, description: 'How long to retry blocked evictions and wait for pods to be gone, 1-3600 (default 120).' }) _timeoutSeconds?: number | null,
    @Arg('gracePeriodSeconds', () => Int, { nullable: true, description: 'Termination grace period for the evicted pods (default: each pod\'s own).' }) _gracePeriodSeconds?: number | null,
  ): DrainProgressType {
    return progress;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ClusterResourceType, { description: 'Sets the replicas of a Deployment or StatefulSet (its scale subresource). Audited.' })
  scaleClusterWorkload(
    @Arg('kind', () => ClusterWorkloadKindEnum, { description: 'Deployment or StatefulSet.' }) kind: ClusterWorkloadKindEnum,
    @Arg('namespace', { description: 'Namespace of the workload.' }) namespace: string,
    @Arg('name', { description: 'Name of the workload.' }) name: string,
    @Arg('replicas', () => Int, { description: 'Wanted replicas, 0-10000.' }) replicas: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ClusterResourceType> {
    return this.deps.clusterAdmin.workloads.scale(kind, namespace, name, replicas, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ClusterResourceType, { description: 'Restarts every pod of a Deployment or StatefulSet by a rolling update (kubectl rollout restart: a restartedAt annotation on the pod template). Audited.' })
  restartClusterWorkload(
    @Arg('kind', () => ClusterWorkloadKindEnum, { description: 'Deployment or StatefulSet.' }) kind: ClusterWorkloadKindEnum,
    @Arg('namespace', { description: 'Namespace of the workload.' }) namespace: string,
    @Arg('name', { description: 'Name of the workload.' }) name: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ClusterResourceType> {
    return this.deps.clusterAdmin.workloads.restart(kind, namespace, name, ctx);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [DeploymentRevisionType], { description: 'Rollout history of a Deployment (kubectl rollout history): its ReplicaSets by revision, newest first.' })
  clusterDeploymentRevisions(
    @Arg('namespace', { description: 'Namespace of the Deployment.' }) namespace: string,
    @Arg('name', { description: 'Name of the Deployment.' }) name: string,
  ): Promise<DeploymentRevisionType[]> {
    return this.deps.clusterAdmin.workloads.revisions(namespace, name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ClusterResourceType, { description: 'Rolls a Deployment back to an earlier revision\'s pod template (kubectl rollout undo; the previous revision by default). Audited.' })
  undoClusterDeployment(
    @Arg('namespace', { description: 'Namespace of the Deployment.' }) namespace: string,
    @Arg('name', { description: 'Name of the Deployment.' }) name: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('toRevision', () => Int, { nullable: true, description: 'The revision to go back to (default: the one before the current).' }) toRevision?: number | null,
  ): Promise<ClusterResourceType> {
    return this.deps.clusterAdmin.workloads.undo(namespace, name, toRevision, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Restarts a pod by deleting it so that its controller re-creates it; a pod without a controller is refused (BAD_USER_INPUT). Audited.' })
  restartClusterPod(
    @Arg('namespace', { description: 'Namespace of the pod.' }) namespace: string,
    @Arg('name', { description: 'Pod name.' }) name: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return this.deps.clusterAdmin.workloads.restartPod(namespace, name, ctx);
  }

  @Authorized(Role.ADMIN)
  @Query(() => ServiceEndpointsType, { nullable: true, description: 'A Service\'s ports and the endpoints of its EndpointSlices; null when the Service does not exist.' })
  clusterServiceEndpoints(
    @Arg('namespace', { description: 'Namespace of the Service.' }) namespace: string,
    @Arg('name', { description: 'Name of the Service.' }) name: string,
  ): Promise<ServiceEndpointsType | null> {
    return this.deps.clusterAdmin.workloads.serviceEndpoints(namespace, name);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ClusterEventType], { description: 'Kubernetes events, newest first; optionally of one namespace and about one object.' })
  clusterEvents(
    @Arg('namespace', () => String, { nullable: true, description: 'Only this namespace (omit for all).' }) namespace?: string | null,
    @Arg('objectKind', () => String, { nullable: true, description: 'Only events about objects of this kind (involvedObject.kind).' }) objectKind?: string | null,
    @Arg('objectName', () => String, { nullable: true, description: 'Only events about objects of this name (involvedObject.name).' }) objectName?: string | null,
    @Arg('limit', () => Int, { nullable: true, description: 'At most this many, 1-1000 (default 200).' }) limit?: number | null,
  ): Promise<ClusterEventType[]> {
    return this.deps.clusterAdmin.workloads.events({ namespace, objectKind, objectName, limit });
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ApiResourceType], {
    description:
      'Every resource kind the API server offers (discovery), readable with clusterApiObjects; `writable` and `operations` show the write allow-list.',
  })
  clusterApiResources(): Promise<ApiResourceType[]> {
    return this.deps.clusterAdmin.discovery.resources();
  }

  @Authorized(Role.ADMIN)
  @Query(() => ApiObjectConnectionType, { description: 'A page of objects of any discovered resource, read-only (Secret values redacted).' })
  clusterApiObjects(@Args(() => ClusterApiObjectsArgs) args: ClusterApiObjectsArgs): Promise<ApiObjectConnectionType> {
    return this.deps.clusterAdmin.discovery.list(args);
  }

  @Authorized(Role.ADMIN)
  @Query(() => ApiObjectType, { nullable: true, description: 'One object of any discovered resource as YAML, or null when it does not exist.' })
  clusterApiObject(
    @Arg('apiVersion', { description: 'apiVersion of a discovered resource.' }) apiVersion: string,
    @Arg('plural', { description: 'Plural name of the resource.' }) plural: string,
    @Arg('name', { description: 'metadata.name.' }) name: string,
    @Arg('namespace', () => String, { nullable: true, description: 'metadata.namespace (required for namespaced kinds).' }) namespace?: string | null,
  ): Promise<ApiObjectType | null> {
    return this.deps.clusterAdmin.discovery.get({ apiVersion, plural, namespace, name });
  }

  @FieldResolver(() => String, { description: 'The object as YAML (managedFields left out; a Secret\'s values replaced with **redacted**, which apply keeps as stored).' })
  yaml(@Root() resource: ClusterResourceType): string {
    return toYaml(kindInfo(resource.kind)!, resource.object);
  }
}
