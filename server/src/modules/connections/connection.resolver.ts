import { filter } from '@graphql-yoga/subscription';
import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Access, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { resolverOf } from '../../platform/graphql/schema';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { SessionProgressType } from '../sessions/dto/session-progress.type';
import { SessionType } from '../sessions/dto/session.type';
import { sessionRowOf } from '../sessions/session.service';
import { CONNECTION_COUNT_CHANGED, type ConnectionCountEvent } from './connection-counts';
import { ConnectionService } from './connection.service';
import { ClientConnectionType, ConnectionCountChangeType, ConnectSessionResultType, SessionIdleType } from './dto/connection.type';
import type { IdleDecision } from './idle-rules';

export interface ConnectionResolverDeps {
  connections: ConnectionService;
  pubSub: AppPubSub;
}

/**
 * Filters an event stream. A Repeater, not an async generator: the client's complete ends it and its topic listener
 * at once, even while it waits for an event (an async generator would handle return() only at its next yield).
 */
function filtered<T>(source: AsyncIterable<T>, keep: (v: T) => boolean): AsyncGenerator<T> {
  return filter(keep)(source);
}

@Resolver()
export class ConnectionResolver {
  constructor(readonly deps: ConnectionResolverDeps) {}

  @Authorized(...Access.ACT)
  @Mutation(() => ConnectSessionResultType, {
    description:
      'Connects the caller to a session (their own, or one of a multi-user template): enforces maxConnections, wakes or restarts it when autoStart allows, and answers once its pod is Ready (or fails with why it is not within startupTimeout).',
  })
  connectSession(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<ConnectSessionResultType> {
    return this.deps.connections.connect(requireCaller(ctx), id, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => Boolean, {
    description: 'Keeps a connection alive (send every 30 s). Batched server-side; NOT_FOUND when the connection was ended (connect again).',
  })
  heartbeat(@Arg('connectionId', () => ID, { description: 'Connection id from connectSession.' }) connectionId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.deps.connections.heartbeat(requireCaller(ctx), connectionId);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => ClientConnectionType, { description: 'Ends a connection (idempotent); returns it as ended.' })
  disconnectSession(@Arg('connectionId', () => ID, { description: 'Connection id from connectSession.' }) connectionId: string, @Ctx() ctx: GraphQLContext): Promise<ClientConnectionType> {
    return this.deps.connections.disconnect(requireCaller(ctx), connectionId, ctx);
  }

  @Authorized()
  @Query(() => [ClientConnectionType], { description: "Connections of a session (owner or admin; NOT_FOUND for someone else's session), open ones first." })
  sessionConnections(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('includeEnded', () => Boolean, { nullable: true, description: 'Also list ended connections (latest 200).' }) includeEnded?: boolean,
  ): Promise<ClientConnectionType[]> {
    return this.deps.connections.listForSession(requireCaller(ctx), sessionId, includeEnded ?? false);
  }

  @Authorized()
  @Subscription(() => ConnectionCountChangeType, {
    description: "The session's connection counts each time a client connects or disconnects (owner or admin; NOT_FOUND for someone else's session). Events from every replica arrive.",
    subscribe: async ({ args, context, info }) => {
      const { connections, pubSub } = resolverOf(info, ConnectionResolver).deps;
      const caller = requireCaller(context as GraphQLContext);
      await connections.listForSession(caller, args.sessionId as string); // NOT_FOUND unless owner or admin
      return filtered(pubSub.subscribeTopic<ConnectionCountEvent>(CONNECTION_COUNT_CHANGED), (e) => e.sessionId === args.sessionId && ConnectionService.canSee(caller, e));
    },
  })
  connectionCountChanged(@Root() event: ConnectionCountEvent, @Arg('sessionId', () => ID, { description: 'Session id.' }) _sessionId: string): ConnectionCountChangeType {
    return {
      sessionId: event.sessionId,
      activeConnections: event.activeConnections,
      totalConnections: event.totalConnections,
      lastConnection: event.lastConnection ? new Date(event.lastConnection) : null,
      lastDisconnect: event.lastDisconnect ? new Date(event.lastDisconnect) : null,
    };
  }

  @Authorized()
  @Subscription(() => SessionProgressType, {
    description:
      "The session's start-up steps (scheduled, pulling image, starting, ready; or failed with why), with messages from the pod and its events. Ends after READY or FAILED.",
    subscribe: async ({ args, context, info }) => {
      const { connections } = resolverOf(info, ConnectionResolver).deps;
      return connections.progress(requireCaller(context as GraphQLContext), args.id as string);
    },
  })
  sessionProgress(@Root() step: SessionProgressType, @Arg('id', () => ID, { description: 'Session id.' }) _id: string): SessionProgressType {
    return step;
  }
}

/** Session fields about connections: `idle` explains hibernation, `connections` lists who is attached. */
@Resolver(() => SessionType)
export class SessionConnectionsResolver {
  constructor(private readonly deps: ConnectionResolverDeps) {}

  @FieldResolver(() => SessionIdleType, {
    description: 'Why the session is kept running and when it will hibernate (what the hibernation timer will do).',
  })
  idle(@Root() session: SessionType, @Ctx() ctx: GraphQLContext): SessionIdleType | Promise<SessionIdleType> {
    // A session of a page carries its table row: with the templates' watch cache synced, it is decided in place, no
    // promise and no statement. Otherwise batched per request: one query for all of them.
    const row = sessionRowOf(session);
    const now = row && this.deps.connections.idleNow(row);
    if (now) return idleType(now);
    const loader = ctx.loaders.get(
      'sessionIdle',
      () => new DataLoader<SessionType, IdleDecision, string>((sessions) => this.deps.connections.idleMany(sessions.map((s) => sessionRowOf(s) ?? s.id)), { cacheKeyFn: (s) => s.id }),
    );
    return loader.load(session).then(idleType);
  }
}

/** The decision as the GraphQL type: its fields are a subset of the decision's (no copy: one per session of a page). */
function idleType(d: IdleDecision): SessionIdleType {
  return d;
}
