import DataLoader from 'dataloader';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Access, readsAll, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { resolverOf } from '../../platform/graphql/schema';
import { TemplateType } from '../templates/dto/template.type';
import { toTemplateType, type TemplateService } from '../templates/template.service';
import { SESSION_UPDATED, type SessionChange } from './session-table';
import { sessionUpdates } from './session-updates';
import type { SessionService } from './session.service';
import { toSessionType } from './session.service';
import { CreateSessionInput, SessionFilterInput } from './dto/session.input';
import { SessionChangeType, SessionChangeTypeEnum, SessionConnection, SessionType } from './dto/session.type';

export interface SessionResolverDeps {
  sessions: SessionService;
  templates: TemplateService;
  pubSub: AppPubSub;
}

@Resolver(() => SessionType)
export class SessionResolver {
  constructor(readonly deps: SessionResolverDeps) {}

  @Authorized()
  @Query(() => SessionConnection, { description: "Sessions, newest first: the caller's own, or everyone's for admins, operators and auditors." })
  sessions(
    @Args(() => PaginationArgs) page: PaginationArgs,
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => SessionFilterInput, { nullable: true, description: 'Optional conditions.' }) filter?: SessionFilterInput,
  ): Promise<Connection<SessionType>> {
    return this.deps.sessions.list(requireCaller(ctx), filter ?? {}, page.first, page.after);
  }

  @Authorized()
  @Query(() => SessionType, { description: "One session by id (NOT_FOUND for someone else's session)." })
  session(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<SessionType> {
    return this.deps.sessions.get(requireCaller(ctx), id);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionType, { description: 'Starts a new session of a template for the caller.' })
  createSession(@Arg('input', () => CreateSessionInput, { description: 'Template and overrides.' }) input: CreateSessionInput, @Ctx() ctx: GraphQLContext): Promise<SessionType> {
    return this.deps.sessions.create(requireCaller(ctx), input, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionType, { description: 'Scales a running session to zero, keeping its home volume.' })
  hibernateSession(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<SessionType> {
    return this.deps.sessions.hibernate(requireCaller(ctx), id, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionType, { description: 'Starts a hibernated session again.' })
  wakeSession(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<SessionType> {
    return this.deps.sessions.wake(requireCaller(ctx), id, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => SessionType, { description: 'Deletes a session and its workload (the home volume is kept); returns it as last seen.' })
  deleteSession(@Arg('id', () => ID, { description: 'Session id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<SessionType> {
    return this.deps.sessions.delete(requireCaller(ctx), id, ctx);
  }

  @Authorized()
  @Subscription(() => SessionType, {
    subscribe: ({ args, context, info }) => {
      const { sessions, pubSub } = resolverOf(info, SessionResolver).deps;
      return sessionUpdates(pubSub, sessions, requireCaller(context as GraphQLContext), args.id as string);
    },
    description: 'The session as it is now, then each time it changes (phase, URL, connections); ends when the session is deleted.',
  })
  sessionUpdated(@Root() session: SessionType, @Arg('id', () => ID, { description: 'Session id.' }) _id: string): SessionType {
    return session;
  }

  @Authorized()
  @Subscription(() => SessionChangeType, {
    topics: SESSION_UPDATED,
    filter: ({ payload, context }: { payload: SessionChange; context: GraphQLContext }) =>
      !!context.caller && (readsAll(context.caller) || payload.session.username === context.caller.username),
    description: "Every change to the caller's sessions (all sessions for admins).",
  })
  mySessionsChanged(@Root() change: SessionChange): SessionChangeType {
    return { type: change.type as SessionChangeTypeEnum, session: toSessionType(change.session) };
  }

  @FieldResolver(() => TemplateType, { nullable: true, description: 'The template (null if it was deleted); batched per request.' })
  template(@Root() session: SessionType, @Ctx() ctx: GraphQLContext): TemplateType | null | Promise<TemplateType | null> {
    // From the synced watch cache without a promise: a page of 100 sessions then resolves its templates in place
    // (one conversion per template and request) instead of settling 100 promises.
    const known = ctx.loaders.map<string, TemplateType | null>('templateNow');
    const hit = known.get(session.templateName);
    if (hit !== undefined) return hit;
    const obj = this.deps.templates.cachedObjectNow(session.templateName);
    if (obj !== undefined) {
      const type = obj && toTemplateType(obj);
      known.set(session.templateName, type);
      return type;
    }
    const loader = ctx.loaders.get('templateByName', () => new DataLoader<string, TemplateType | null>((names) => this.deps.templates.getMany(names)));
    return loader.load(session.templateName);
  }
}
