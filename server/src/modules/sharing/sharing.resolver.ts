import { filter } from '@graphql-yoga/subscription';
import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Access, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { resolverOf } from '../../platform/graphql/schema';
import { SessionType } from '../sessions/dto/session.type';
import type { SessionAccess } from './session-access';
import { SessionAccessEnum, SessionGroupShareType, SessionShareChangeType, SessionShareRoleEnum, SessionShareType, SharedSessionType } from './dto/session-share.type';
import { SESSION_SHARES_CHANGED, shareFromEvent, SharingService, type ShareEvent } from './sharing.service';

export interface SharingResolverDeps {
  sharing: SharingService;
  pubSub: AppPubSub;
}

/**
 * Filters an event stream. A Repeater, not an async generator: the client's complete ends it and its topic listener
 * at once, even while it waits for an event (an async generator would handle return() only at its next yield).
 */
function filtered<T>(source: AsyncIterable<T>, keep: (v: T) => boolean): AsyncGenerator<T> {
  return filter(keep)(source);
}

const toChange = (e: ShareEvent): SessionShareChangeType => ({ kind: e.kind, share: shareFromEvent(e) });

@Resolver()
export class SharingResolver {
  constructor(readonly deps: SharingResolverDeps) {}

  @Authorized()
  @Query(() => [SessionShareType], {
    description: "A session's access list (its owner, an admin or an operator; FORBIDDEN for someone on the list, NOT_FOUND for anyone else).",
  })
  sessionShares(@Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string, @Ctx() ctx: GraphQLContext): Promise<SessionShareType[]> {
    return this.deps.sharing.list(requireCaller(ctx), sessionId);
  }

  @Authorized()
  @Query(() => [SharedSessionType], { description: 'Sessions other users shared with the caller (terminated ones left out), most recently shared first.' })
  sharedWithMe(@Ctx() ctx: GraphQLContext): Promise<SharedSessionType[]> {
    return this.deps.sharing.sharedWithMe(requireCaller(ctx));
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionShareType, {
    description:
      "Shares a session with a user (its owner, an admin or an operator). BAD_USER_INPUT with details.reason UNKNOWN_USER, SELF or OWNER; CONFLICT when already shared with them. Audited.",
  })
  shareSession(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('username', { description: 'Who to share it with.' }) username: string,
    @Arg('role', () => SessionShareRoleEnum, { description: 'VIEWER (sees, no input) or COLLABORATOR (full input).' }) role: SessionShareRoleEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionShareType> {
    return this.deps.sharing.share(requireCaller(ctx), sessionId, username, role, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionShareType, {
    description: "Changes a user's role on a session's access list (its owner, an admin or an operator). A demotion to VIEWER closes their open input-carrying sockets at once. Audited.",
  })
  updateSessionShare(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('username', { description: 'The user on the list.' }) username: string,
    @Arg('role', () => SessionShareRoleEnum, { description: 'The new role.' }) role: SessionShareRoleEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionShareType> {
    return this.deps.sharing.updateRole(requireCaller(ctx), sessionId, username, role, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionShareType, {
    description:
      "Removes a user from a session's access list (its owner, an admin or an operator): their connections end and their proxied sockets close within a second on every replica. Returns the removed entry. Audited.",
  })
  unshareSession(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('username', { description: 'The user to remove.' }) username: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionShareType> {
    return this.deps.sharing.unshare(requireCaller(ctx), sessionId, username, ctx);
  }

  @Authorized()
  @Query(() => [SessionGroupShareType], {
    description: "The group entries of a session's access list (its owner, an admin or an operator; FORBIDDEN for someone on the list, NOT_FOUND for anyone else).",
  })
  sessionGroupShares(@Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string, @Ctx() ctx: GraphQLContext): Promise<SessionGroupShareType[]> {
    return this.deps.sharing.listGroups(requireCaller(ctx), sessionId);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionGroupShareType, {
    description:
      "Shares a session with every member of a group, now and later ones (its owner, an admin or an operator); a member's strongest entry wins. BAD_USER_INPUT with details.reason UNKNOWN_GROUP; CONFLICT when already shared with the group. Audited.",
  })
  shareSessionWithGroup(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('group', { description: 'Name of the group.' }) group: string,
    @Arg('role', () => SessionShareRoleEnum, { description: 'VIEWER (sees, no input) or COLLABORATOR (full input).' }) role: SessionShareRoleEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionGroupShareType> {
    return this.deps.sharing.shareWithGroup(requireCaller(ctx), sessionId, group, role, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionGroupShareType, {
    description: "Changes a group entry's role (its owner, an admin or an operator). Members whose strongest role changes get their open sockets closed at once (they reconnect with the new role). Audited.",
  })
  updateSessionGroupShare(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('group', { description: 'Name of the group on the list.' }) group: string,
    @Arg('role', () => SessionShareRoleEnum, { description: 'The new role.' }) role: SessionShareRoleEnum,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionGroupShareType> {
    return this.deps.sharing.updateGroupRole(requireCaller(ctx), sessionId, group, role, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionGroupShareType, {
    description:
      "Removes a group entry (its owner, an admin or an operator): members no other entry lets in lose access at once (connections end, proxied sockets close within a second on every replica). Returns the removed entry. Audited.",
  })
  unshareSessionWithGroup(
    @Arg('sessionId', () => ID, { description: 'Session id.' }) sessionId: string,
    @Arg('group', { description: 'Name of the group to remove.' }) group: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SessionGroupShareType> {
    return this.deps.sharing.unshareGroup(requireCaller(ctx), sessionId, group, ctx);
  }

  @Authorized()
  @Subscription(() => SessionShareChangeType, {
    description: "Each change to a user entry of a session's access list (its owner, an admin or an operator). Events from every replica arrive.",
    subscribe: async ({ args, context, info }) => {
      const { sharing, pubSub } = resolverOf(info, SharingResolver).deps;
      const caller = requireCaller(context as GraphQLContext);
      await sharing.list(caller, args.sessionId as string); // the same authorization as the list
      return filtered(pubSub.subscribeTopic<ShareEvent>(SESSION_SHARES_CHANGED), (e) => e.sessionId === args.sessionId && SharingService.canSeeList(caller, e));
    },
  })
  sessionSharesChanged(@Root() event: ShareEvent, @Arg('sessionId', () => ID, { description: 'Session id.' }) _sessionId: string): SessionShareChangeType {
    return toChange(event);
  }

  @Authorized()
  @Subscription(() => SessionShareChangeType, {
    description:
      'Each time the caller\'s access to a session changes, by name or through a group: shared with them (ADDED), their strongest role changed (UPDATED), or no entry lets them in any more (REMOVED). For the "Shared with me" list and the session view.',
    subscribe: ({ context, info }) => {
      const { pubSub } = resolverOf(info, SharingResolver).deps;
      const caller = requireCaller(context as GraphQLContext);
      return filtered(pubSub.subscribeTopic<ShareEvent>(SESSION_SHARES_CHANGED), (e) => SharingService.isOwnAccess(caller, e));
    },
  })
  mySharesChanged(@Root() event: ShareEvent): SessionShareChangeType {
    return toChange(event);
  }
}

/** Session.access: what the caller may do with it (batched per request). */
@Resolver(() => SessionType)
export class SessionAccessResolver {
  constructor(private readonly deps: SharingResolverDeps) {}

  @FieldResolver(() => SessionAccessEnum, {
    nullable: true,
    description: "The caller's access: OWNER, ADMIN, or their role on the session's access list (VIEWER: the portal opens it view-only).",
  })
  async access(@Root() session: SessionType, @Ctx() ctx: GraphQLContext): Promise<SessionAccessEnum | null> {
    const caller = requireCaller(ctx);
    const loader = ctx.loaders.get(
      'sessionAccess',
      () => new DataLoader<SessionType, SessionAccess | null, string>((list) => this.deps.sharing.accessMany(caller, list), { cacheKeyFn: (s) => s.id }),
    );
    return (await loader.load(session)) as SessionAccessEnum | null;
  }
}
