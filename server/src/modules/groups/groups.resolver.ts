import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Access, Role, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { GroupSummaryType, GroupType } from './dto/group.type';
import { CreateGroupInput, UpdateGroupInput } from './dto/group.inputs';
import type { GroupsService } from './groups.service';

export interface GroupsResolverDeps {
  groups: GroupsService;
}

@Resolver(() => GroupType)
export class GroupsResolver {
  constructor(private readonly deps: GroupsResolverDeps) {}

  @Authorized(...Access.AUDIT_READ)
  @Query(() => [GroupType], { description: 'Every group with its members, ordered by name (admins and auditors).' })
  groups(): Promise<GroupType[]> {
    return this.deps.groups.list();
  }

  @Authorized()
  @Query(() => [GroupSummaryType], { description: 'The groups the caller is a member of, ordered by name (to share a session with one).' })
  myGroups(@Ctx() ctx: GraphQLContext): Promise<GroupSummaryType[]> {
    return this.deps.groups.mine(requireCaller(ctx));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => GroupType, { description: 'Creates a group (admin only). BAD_USER_INPUT for a name or description out of bounds; CONFLICT when the name is taken. Audited.' })
  createGroup(@Arg('input', () => CreateGroupInput, { description: 'The new group.' }) input: CreateGroupInput, @Ctx() ctx: GraphQLContext): Promise<GroupType> {
    return this.deps.groups.create(input, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => GroupType, { description: 'Renames a group or changes its description (admin only); CONFLICT when the new name is taken. Audited.' })
  updateGroup(
    @Arg('id', () => ID, { description: 'Id of the group.' }) id: string,
    @Arg('input', () => UpdateGroupInput, { description: 'The changes.' }) input: UpdateGroupInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<GroupType> {
    return this.deps.groups.update(id, input, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => GroupType, {
    description:
      "Deletes a group (admin only): its memberships and its entries on sessions' access lists go with it; members no other entry lets in lose access at once. Returns the deleted group. Audited.",
  })
  deleteGroup(@Arg('id', () => ID, { description: 'Id of the group.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<GroupType> {
    return this.deps.groups.delete(requireCaller(ctx), id, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => GroupType, {
    description: 'Adds a user to a group (admin only): the sessions shared with the group open to them. BAD_USER_INPUT (details.reason UNKNOWN_USER); CONFLICT when already a member. Audited.',
  })
  addGroupMember(
    @Arg('groupId', () => ID, { description: 'Id of the group.' }) groupId: string,
    @Arg('username', { description: 'The user to add.' }) username: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<GroupType> {
    return this.deps.groups.addMember(requireCaller(ctx), groupId, username, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => GroupType, {
    description:
      'Removes a user from a group (admin only): sessions they could use only through it close to them at once (proxied sockets within a second, on every replica). NOT_FOUND when not a member. Audited.',
  })
  removeGroupMember(
    @Arg('groupId', () => ID, { description: 'Id of the group.' }) groupId: string,
    @Arg('username', { description: 'The member to remove.' }) username: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<GroupType> {
    return this.deps.groups.removeMember(requireCaller(ctx), groupId, username, ctx);
  }
}
