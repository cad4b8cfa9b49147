import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('GroupMember', { description: 'A member of a group.' })
export class GroupMemberType {
  @Field(() => ID, { description: 'Id of the user.' })
  userId!: string;

  @Field({ description: 'Username of the member.' })
  username!: string;

  @Field(() => String, { nullable: true, description: 'Display name of the member, when known.' })
  displayName!: string | null;

  @Field(() => String, { nullable: true, description: 'Username of the admin who added them (null once that account is deleted).' })
  addedBy!: string | null;

  @Field({ description: 'How they were added: admin (by an admin) or oidc (at sign-in, from the identity provider\'s groups claim; removed there when the claim no longer lists the group).' })
  source!: string;

  @Field({ description: 'When they were added.' })
  addedAt!: Date;
}

@ObjectType('Group', { description: 'A named set of users; a session shared with a group is shared with each of its members.' })
export class GroupType {
  @Field(() => ID, { description: 'Stable id of the group.' })
  id!: string;

  @Field({ description: 'Unique name (lower case).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the group is for.' })
  description!: string | null;

  @Field(() => Int, { description: 'How many members it has.' })
  memberCount!: number;

  @Field(() => [GroupMemberType], { description: 'Its members, ordered by username.' })
  members!: GroupMemberType[];

  @Field({ description: 'When it was created.' })
  createdAt!: Date;

  @Field({ description: 'When its name or description last changed.' })
  updatedAt!: Date;
}

@ObjectType('GroupSummary', { description: 'A group as any signed-in user sees it (no members): to share a session with it.' })
export class GroupSummaryType {
  @Field(() => ID, { description: 'Stable id of the group.' })
  id!: string;

  @Field({ description: 'Unique name (lower case).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the group is for.' })
  description!: string | null;
}
