import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SessionType } from '../../sessions/dto/session.type';

export enum SessionShareRoleEnum {
  VIEWER = 'VIEWER',
  COLLABORATOR = 'COLLABORATOR',
}
registerEnumType(SessionShareRoleEnum, {
  name: 'SessionShareRole',
  description: "A role on a session's access list.",
  valuesConfig: {
    VIEWER: { description: 'Sees the session; the gateway drops its input (keys, pointer, clipboard; HTTP only GET/HEAD).' },
    COLLABORATOR: { description: 'Uses the session fully, like its owner (but cannot change its state or its access list).' },
  },
});

export enum SessionAccessEnum {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  COLLABORATOR = 'COLLABORATOR',
  VIEWER = 'VIEWER',
}
registerEnumType(SessionAccessEnum, {
  name: 'SessionAccess',
  description: 'What the caller may do with a session.',
  valuesConfig: {
    OWNER: { description: 'The session is the caller\'s own.' },
    ADMIN: { description: 'The caller is an admin (full access to every session).' },
    COLLABORATOR: { description: 'Shared with the caller as collaborator (full input).' },
    VIEWER: { description: 'Shared with the caller as viewer (sees, no input).' },
  },
});

export enum SessionShareChangeKindEnum {
  ADDED = 'ADDED',
  UPDATED = 'UPDATED',
  REMOVED = 'REMOVED',
}
registerEnumType(SessionShareChangeKindEnum, {
  name: 'SessionShareChangeKind',
  description: "How a session's access list changed.",
  valuesConfig: {
    ADDED: { description: 'A user was added.' },
    UPDATED: { description: "A user's role changed." },
    REMOVED: { description: 'A user was removed (their open connections were ended).' },
  },
});

@ObjectType('SessionShare', { description: "An entry of a session's access list." })
export class SessionShareType {
  @Field(() => ID, { description: 'The session.' })
  sessionId!: string;

  @Field({ description: 'Username of the user the session is shared with.' })
  user!: string;

  @Field(() => String, { nullable: true, description: 'Display name of that user, when known.' })
  displayName!: string | null;

  @Field(() => SessionShareRoleEnum, { description: 'Their role.' })
  role!: SessionShareRoleEnum;

  @Field(() => String, { nullable: true, description: 'Username of who shared it (null once that account is deleted).' })
  sharedBy!: string | null;

  @Field({ description: 'When it was shared.' })
  createdAt!: Date;

  @Field({ description: 'When the role last changed.' })
  updatedAt!: Date;
}

@ObjectType('SharedSession', { description: 'A session someone shared with the caller.' })
export class SharedSessionType {
  @Field(() => SessionType, { description: 'The session.' })
  session!: SessionType;

  @Field(() => SessionShareRoleEnum, { description: "The caller's role." })
  role!: SessionShareRoleEnum;

  @Field(() => String, { nullable: true, description: 'Username of who shared it (null once that account is deleted).' })
  sharedBy!: string | null;

  @Field({ description: 'When it was shared with the caller.' })
  sharedAt!: Date;

  @Field(() => String, { nullable: true, description: 'The group the caller holds the role through; null when shared with the caller by name.' })
  viaGroup!: string | null;
}

@ObjectType('SessionShareChange', { description: "A change to a session's access list." })
export class SessionShareChangeType {
  @Field(() => SessionShareChangeKindEnum, { description: 'Added, role changed, or removed.' })
  kind!: SessionShareChangeKindEnum;

  @Field(() => SessionShareType, { description: 'The entry (as it was, when removed).' })
  share!: SessionShareType;
}

@ObjectType('SessionGroupShare', { description: "A group entry of a session's access list: every member of the group has its role (a user's strongest entry wins)." })
export class SessionGroupShareType {
  @Field(() => ID, { description: 'The session.' })
  sessionId!: string;

  @Field(() => ID, { description: 'The group.' })
  groupId!: string;

  @Field({ description: 'Name of the group.' })
  group!: string;

  @Field(() => String, { nullable: true, description: 'Description of the group.' })
  description!: string | null;

  @Field(() => Int, { description: 'How many members the group has now.' })
  memberCount!: number;

  @Field(() => SessionShareRoleEnum, { description: "The members' role." })
  role!: SessionShareRoleEnum;

  @Field(() => String, { nullable: true, description: 'Username of who shared it (null once that account is deleted).' })
  sharedBy!: string | null;

  @Field({ description: 'When it was shared.' })
  createdAt!: Date;

  @Field({ description: 'When the role last changed.' })
  updatedAt!: Date;
}
