import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requireCaller, Role } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs } from '../../platform/graphql/pagination';
import { resolverOf } from '../../platform/graphql/schema';
import { kindInfo } from './cluster-kinds';
import { toYaml } from './cluster-manifest';
import type { ClusterService } from './cluster.service';
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

  @Authorized(Role.ADMIN)
  @Query(() => [ClusterNodeType], { description: 'Nodes of the cluster with capacity, allocatable resources and conditions, by name.' })
  clusterNodes(): Promise<ClusterNodeType[]> {
    return this.deps.clusterAdmin.resources.nodes();
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ClusterNamespaceType], { description: 'Namespaces of the cluster, by name.' })
  clusterNamespaces(): Promise<ClusterNamespaceType[]> {
    return this.deps.clusterAdmin.resources.namespaces();
  }

  @Authorized(Role.ADMIN)
  @Query(() => ClusterResourceConnectionType, { description: 'A page of objects of one allow-listed kind (Secrets without values).' })
  clusterResources(@Args(() => ClusterResourcesArgs) args: ClusterResourcesArgs): Promise<ClusterResourceConnectionType> {
    return this.deps.clusterAdmin.resources.list(args.kind, args);
  }

  @Authorized(Role.ADMIN)
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

  @Authorized(Role.ADMIN)
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

  @FieldResolver(() => String, { description: 'The object as YAML (managedFields left out; a Secret\'s values replaced with **redacted**, which apply keeps as stored).' })
  yaml(@Root() resource: ClusterResourceType): string {
    return toYaml(kindInfo(resource.kind)!, resource.object);
  }
}
