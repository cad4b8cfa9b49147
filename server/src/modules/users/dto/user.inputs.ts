import { Field, Float, InputType, Int } from 'type-graphql';

@InputType({ description: 'A new local user.' })
export class CreateUserInput {
  @Field({ description: 'Unique sign-in name: 1-63 lower-case letters, digits, dots, dashes or underscores.' })
  username!: string;

  @Field({ description: 'Initial password (8-256 characters).' })
  password!: string;

  @Field(() => String, { nullable: true, description: 'Email address.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Name shown in the interface.' })
  displayName?: string | null;

  @Field(() => String, { nullable: true, description: 'Role (`user`, `operator`, `auditor` or `admin`); defaults to `user`.' })
  role?: string | null;
}

@InputType({ description: 'Per-user quota overrides; a field set to null goes back to the configured default.' })
export class UserQuotaInput {
  @Field(() => Int, { nullable: true, description: 'Most sessions at once.' })
  maxSessions?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most running sessions at once.' })
  maxRunningSessions?: number | null;

  @Field(() => Float, { nullable: true, description: 'CPU cores across running sessions.' })
  cpu?: number | null;

  @Field(() => Float, { nullable: true, description: 'Bytes of memory across running sessions.' })
  memory?: number | null;
}

@InputType({ description: 'Changes to a user; omitted fields stay as they are.' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true, description: 'New email address (null clears it).' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'New display name (null clears it).' })
  displayName?: string | null;

  @Field(() => String, { nullable: true, description: 'New role (`user`, `operator`, `auditor` or `admin`); open sockets of the user authenticate again.' })
  role?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Disable (true) or enable (false) the account; disabling signs the user out everywhere.' })
  disabled?: boolean | null;

  @Field(() => UserQuotaInput, { nullable: true, description: 'Quota overrides to change; null removes every override.' })
  quota?: UserQuotaInput | null;
}
