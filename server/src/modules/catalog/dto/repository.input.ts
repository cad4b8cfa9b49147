import { Field, InputType } from 'type-graphql';
import { RepositoryAuthType } from './repository.type';

@InputType('RepositoryAuthInput', { description: 'Authentication of a repository.' })
export class RepositoryAuthInput {
  @Field(() => RepositoryAuthType, { description: 'none, basic, token or ssh.' })
  type!: RepositoryAuthType;

  @Field(() => String, { nullable: true, description: 'Name of the Secret (in the server namespace) holding the credentials; required unless type is NONE.' })
  secretName?: string | null;
}

@InputType('AddRepositoryInput', { description: 'A new template repository.' })
export class AddRepositoryInput {
  @Field({ description: 'Unique name: lower-case letters, digits and "-", at most 63 characters.' })
  name!: string;

  @Field({ description: 'Clone URL: https://host/path, ssh://[user@]host/path or user@host:path.' })
  url!: string;

  @Field(() => String, { nullable: true, description: 'Branch to sync (default main).' })
  branch?: string | null;

  @Field(() => String, { nullable: true, description: 'Directory inside the repository holding the templates (default: the root).' })
  path?: string | null;

  @Field(() => RepositoryAuthInput, { nullable: true, description: 'Credentials (default: none).' })
  auth?: RepositoryAuthInput | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Pinned ssh host keys, known_hosts lines as `ssh-keyscan HOST` prints them (check them against the host\'s published fingerprint). ' +
      'An ssh URL needs them here, in the auth Secret\'s known_hosts key, or platform-wide (STREAMSPACE_GIT_SSH_KNOWN_HOSTS); unknown host keys are refused.',
  })
  knownHosts?: string | null;

  @Field(() => String, { nullable: true, description: 'Sync interval such as 30m or 1h (default 1h, at least 1m).' })
  syncInterval?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Sync in the background (default true).' })
  autoSync?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Visible to every user (default true).' })
  public?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'Usernames that see a non-public repository.' })
  allowedUsers?: string[] | null;
}

@InputType('UpdateRepositoryInput', { description: 'Changes to a repository; omitted fields stay as they are.' })
export class UpdateRepositoryInput {
  @Field(() => String, { nullable: true, description: 'New clone URL (the next sync reads everything again).' })
  url?: string | null;

  @Field(() => String, { nullable: true, description: 'New branch (the next sync reads everything again).' })
  branch?: string | null;

  @Field(() => String, { nullable: true, description: 'New templates directory (the next sync reads everything again).' })
  path?: string | null;

  @Field(() => RepositoryAuthInput, { nullable: true, description: 'New authentication.' })
  auth?: RepositoryAuthInput | null;

  @Field(() => String, { nullable: true, description: 'New pinned ssh host keys (known_hosts lines); an empty string removes them.' })
  knownHosts?: string | null;

  @Field(() => String, { nullable: true, description: 'New sync interval such as 30m or 1h.' })
  syncInterval?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Sync in the background.' })
  autoSync?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Visible to every user.' })
  public?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'Usernames that see a non-public repository.' })
  allowedUsers?: string[] | null;
}
