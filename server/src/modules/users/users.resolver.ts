import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Access, Role, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import type { AuditService } from '../audit/audit.service';
import type { TokenService } from '../auth/token.service';
import type { QuotaService } from '../quotas/quota.service';
import { SessionConnection, type SessionType } from '../sessions/dto/session.type';
import type { SessionService } from '../sessions/session.service';
import { DeleteUserResultType, HomeDisposition, ResetUserPasswordResultType, UserConnection, UserQuotaType, UserType } from './dto/user.type';
import { CreateUserInput, UpdateUserInput } from './dto/user.inputs';
import type { UserEntity } from './user.entity';
import type { UserDeletionResult, UserDeletionService } from './user-deletion.service';
import type { UsersService } from './users.service';

export interface UsersResolverDeps {
  users: UsersService;
  userDeletion: UserDeletionService;
  quotas: QuotaService;
  tokens: TokenService;
  audit: AuditService;
  sessions: SessionService;
}

@Resolver(() => UserType)
export class UsersResolver {
  constructor(private readonly deps: UsersResolverDeps) {}

  @Authorized()
  @Query(() => UserType, { description: 'The signed-in user.' })
  async me(@Ctx() ctx: GraphQLContext): Promise<UserEntity> {
    return this.deps.users.getById(requireCaller(ctx).id);
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => UserConnection, { description: 'All users, ordered by username (admins and auditors).' })
  users(@Args(() => PaginationArgs) page: PaginationArgs): Promise<Connection<UserEntity>> {
    return this.deps.users.list(page.first, page.after);
  }

  @Authorized(...Access.AUDIT_READ)
  @Query(() => UserType, { description: 'One user by id (admins and auditors); NOT_FOUND when there is none.' })
  async user(@Arg('id', () => ID, { description: 'Id of the user.' }) id: string): Promise<UserEntity> {
    const user = await this.deps.users.findById(id);
    if (!user) throw notFound('User', id);
    return user;
  }

  @Authorized(...Access.OPERATIONS_READ)
  @Query(() => SessionConnection, { description: 'The sessions of one user, newest first (admins, operators and auditors); NOT_FOUND when the user does not exist.' })
  async userSessions(
    @Arg('id', () => ID, { description: 'Id of the user.' }) id: string,
    @Args(() => PaginationArgs) page: PaginationArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<SessionType>> {
    const user = await this.deps.users.getById(id);
    return this.deps.sessions.list(requireCaller(ctx), { user: user.username }, page.first, page.after);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType, { description: 'Creates a local user with a password (admin only). The role defaults to `user`.' })
  createUser(@Arg('input', () => CreateUserInput, { description: 'The new user.' }) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<UserEntity> {
    return this.deps.users.create(input, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType, { description: 'Changes a user\'s role, state, profile or quota overrides (admin only).' })
  updateUser(
    @Arg('id', () => ID, { description: 'Id of the user to change.' }) id: string,
    @Arg('input', () => UpdateUserInput, { description: 'The changes.' }) input: UpdateUserInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserEntity> {
    return this.deps.users.update(id, input, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeleteUserResultType, {
    description:
      'Deletes a user (admin only): the account is disabled at once (its sign-ins and sockets end), every session of ' +
      'the user is terminated, its home volume claims are kept or deleted as `homes` says, then the account is removed ' +
      '(favorites, shares and group memberships with it). BAD_USER_INPUT for your own account, CONFLICT for the last ' +
      'enabled admin, NOT_FOUND for an unknown id.',
  })
  deleteUser(
    @Arg('id', () => ID, { description: 'Id of the user to delete.' }) id: string,
    @Arg('homes', () => HomeDisposition, { description: "What to do with the user's home volume claims." }) homes: HomeDisposition,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserDeletionResult> {
    return this.deps.userDeletion.delete(requireCaller(ctx), id, homes, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ResetUserPasswordResultType, {
    description:
      "Sets a local user's password (admin only): the one given, or a generated one returned once. Every sign-in of the " +
      'user ends. There is no forced change on next sign-in: tell the user to change it. BAD_USER_INPUT for a single ' +
      'sign-on user or a password of the wrong length.',
  })
  async resetUserPassword(
    @Arg('id', () => ID, { description: 'Id of the user.' }) id: string,
    @Arg('password', () => String, { nullable: true, description: 'The new password (8-256 characters); omitted or null: generate one.' }) password: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<{ user: UserEntity; generatedPassword: string | null }> {
    const { user, generated } = await this.deps.users.resetPassword(id, password, ctx);
    return { user, generatedPassword: generated };
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Changes the signed-in local user\'s password; other sign-ins of the user are revoked.' })
  async changePassword(
    @Arg('currentPassword', { description: 'The password in use now.' }) currentPassword: string,
    @Arg('newPassword', { description: 'The new password (8-256 characters).' }) newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    await this.deps.users.changePassword(requireCaller(ctx).id, currentPassword, newPassword, ctx);
    return true;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => String, {
    description:
      'Generates a new key for signing access tokens and retires the current one (admin only): its private half is ' +
      'deleted, and tokens it signed stay valid for at most one access-token lifetime. Returns the new key id. Not ' +
      'available when the key comes from configuration.',
  })
  async rotateSigningKey(@Ctx() ctx: GraphQLContext): Promise<string> {
    const kid = await this.deps.tokens.rotate();
    await this.deps.audit.record({ action: 'auth.rotate_signing_key', resourceType: 'signing_key', resourceId: kid, source: ctx });
    return kid;
  }

  @FieldResolver(() => UserQuotaType, { description: 'The user\'s effective quota (defaults merged with overrides).' })
  quota(@Root() user: UserEntity): UserQuotaType {
    return this.deps.quotas.effective(user.quota);
  }
}
