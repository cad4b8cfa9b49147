import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';

@ObjectType('UserQuota', { description: 'Limits of one user: per-user overrides merged over the configured defaults.' })
export class UserQuotaType {
  @Field(() => Int, { description: 'Most sessions the user may have at once, in any state except terminated.' })
  maxSessions!: number;

  @Field(() => Int, { description: 'Most sessions the user may have running at once.' })
  maxRunningSessions!: number;

  @Field(() => Float, { description: 'CPU cores across the user\'s running sessions.' })
  cpu!: number;

  @Field(() => Float, { description: 'Bytes of memory across the user\'s running sessions.' })
  memory!: number;

  @Field(() => [String], { description: 'Which of the fields above are per-user overrides (the rest are the defaults).' })
  overridden!: string[];
}

@ObjectType('User', { description: 'An account that signs in to StreamSpace, locally or through single sign-on.' })
export class UserType {
  @Field(() => ID, { description: 'Stable id of the user.' })
  id!: string;

  @Field({ description: 'Unique sign-in name (lower case).' })
  username!: string;

  @Field(() => String, { nullable: true, description: 'Email address, if known.' })
  email!: string | null;

  @Field(() => String, { nullable: true, description: 'Name shown in the interface.' })
  displayName!: string | null;

  @Field({
    description:
      'Role: `admin` may do everything; `operator` manages every session, the templates and the catalog; `auditor` reads ' +
      'what admins read and changes nothing; `user` acts on what it owns.',
  })
  role!: string;

  @Field({ description: 'How the user signs in: `local` (password) or `oidc` (single sign-on).' })
  authProvider!: string;

  @Field({ description: 'Disabled users cannot sign in, and their tokens stop working.' })
  disabled!: boolean;

  @Field({ description: 'When the account was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the user last signed in.' })
  lastLoginAt!: Date | null;
}

export const UserConnection = ConnectionType(UserType, 'User', 'A page of users, ordered by username.');

/** What happens to a deleted user's home volume claims (their sessions are always terminated). */
export enum HomeDisposition {
  KEEP = 'KEEP',
  DELETE = 'DELETE',
}
registerEnumType(HomeDisposition, {
  name: 'HomeDisposition',
  description: "What deleteUser does with the user's home volume claims; their sessions are terminated either way.",
  valuesConfig: {
    KEEP: { description: 'Keep the claims (and the files in them); an admin can remove them later with the cluster page.' },
    DELETE: { description: 'Delete the claims: the files in them are gone.' },
  },
});

@ObjectType('DeleteUserResult', { description: 'What deleting a user did.' })
export class DeleteUserResultType {
  @Field(() => UserType, { description: 'The user as it was before it was deleted.' })
  user!: UserType;

  @Field(() => [ID], { description: 'Ids of the sessions that were terminated (every session of the user that was not terminated yet).' })
  terminatedSessionIds!: string[];

  @Field(() => [String], { description: "Names of the user's home volume claims that were found." })
  homeClaims!: string[];

  @Field(() => HomeDisposition, { description: 'Whether those claims were kept or deleted.' })
  homes!: HomeDisposition;
}

@ObjectType('ResetUserPasswordResult', { description: 'The result of an admin resetting a local user\'s password.' })
export class ResetUserPasswordResultType {
  @Field(() => UserType, { description: 'The user.' })
  user!: UserType;

  @Field(() => String, {
    nullable: true,
    description: 'The generated password, shown this once (never stored in clear or logged); null when the admin chose the password.',
  })
  generatedPassword!: string | null;
}
