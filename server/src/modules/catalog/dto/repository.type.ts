import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum RepositoryAuthType {
  NONE = 'none',
  BASIC = 'basic',
  TOKEN = 'token',
  SSH = 'ssh',
}
registerEnumType(RepositoryAuthType, {
  name: 'RepositoryAuthType',
  description: 'How the server authenticates to a repository; credentials live in a Kubernetes Secret.',
  valuesConfig: {
    NONE: { description: 'A public repository.' },
    BASIC: { description: 'HTTPS with username and password (Secret keys `username`, `password`).' },
    TOKEN: { description: 'HTTPS with an access token (Secret key `token`, optional `username`).' },
    SSH: { description: 'SSH with a private key (Secret keys `ssh-privatekey`, optional `known_hosts`).' },
  },
});

export enum RepositorySyncStatus {
  PENDING = 'Pending',
  SYNCING = 'Syncing',
  READY = 'Ready',
  FAILED = 'Failed',
}
registerEnumType(RepositorySyncStatus, {
  name: 'RepositorySyncStatus',
  description: 'Where a repository stands.',
  valuesConfig: {
    PENDING: { description: 'Not synced yet.' },
    SYNCING: { description: 'A sync is running.' },
    READY: { description: 'The last sync succeeded (some files may still have been skipped; see fileErrors).' },
    FAILED: { description: 'The last sync failed; the catalog keeps what the last good sync stored (see syncError).' },
  },
});

@ObjectType('RepositoryFileError', { description: 'A file that was skipped during a sync, and why.' })
export class RepositoryFileErrorType {
  @Field({ description: 'Path of the file in the repository (empty for the "more errors" summary).' })
  path!: string;

  @Field({ description: 'What is wrong with it.' })
  message!: string;

  @Field(() => String, { nullable: true, description: 'For duplicate names: the template name two files define.' })
  template!: string | null;
}

@ObjectType('TemplateRepository', { description: 'A Git repository of templates that the catalog syncs from (admins only).' })
export class RepositoryType {
  @Field(() => ID, { description: 'Unique id.' })
  id!: string;

  @Field({ description: 'Unique name (a DNS label); also the name of the mirroring TemplateRepository object.' })
  name!: string;

  @Field({ description: 'Clone URL (https, ssh or scp-like user@host:path).' })
  url!: string;

  @Field({ description: 'Branch that is synced.' })
  branch!: string;

  @Field({ description: 'Directory inside the repository that holds the templates ("" for the root).' })
  path!: string;

  @Field(() => RepositoryAuthType, { description: 'How the server authenticates.' })
  authType!: RepositoryAuthType;

  @Field(() => String, { nullable: true, description: 'Name of the Secret with the credentials (the credentials themselves are never returned).' })
  authSecretName!: string | null;

  @Field(() => String, { nullable: true, description: 'Pinned ssh host keys (known_hosts lines) of an ssh URL; public keys, not secrets.' })
  knownHosts!: string | null;

  @Field({ description: 'How often the background job syncs it, e.g. 1h.' })
  syncInterval!: string;

  @Field({ description: 'Whether the background job syncs it.' })
  autoSync!: boolean;

  @Field({ description: 'Visible to every user; otherwise only to allowedUsers (and admins).' })
  public!: boolean;

  @Field(() => [String], { description: 'Usernames that see a non-public repository.' })
  allowedUsers!: string[];

  @Field(() => RepositorySyncStatus, { description: 'Sync status.' })
  status!: RepositorySyncStatus;

  @Field(() => Date, { nullable: true, description: 'When the last sync finished (successfully or not).' })
  lastSync!: Date | null;

  @Field(() => String, { nullable: true, description: 'Commit the catalog entries come from.' })
  lastCommit!: string | null;

  @Field(() => Int, { description: 'Templates this repository contributes to the catalog.' })
  templateCount!: number;

  @Field(() => String, { nullable: true, description: 'Why the last sync failed (null after a successful sync).' })
  syncError!: string | null;

  @Field(() => [RepositoryFileErrorType], { description: 'Files skipped by the syncs (invalid, duplicate, too large, ...).' })
  fileErrors!: RepositoryFileErrorType[];

  @Field({ description: 'When the repository was added.' })
  createdAt!: Date;

  @Field({ description: 'When the repository or its status last changed.' })
  updatedAt!: Date;
}
