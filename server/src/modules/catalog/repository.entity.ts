import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** One problem found in one file during a sync; the file was skipped (or, for icons and READMEs, left out). */
export interface FileError {
  /** Path of the file inside the Git repository ('' for the summary entry of a truncated list). */
  path: string;
  message: string;
  /** For duplicate-name errors: the template name both files define. */
  template?: string;
  /** The template file the error belongs to (an icon's or README's template.yaml); defaults to path. */
  source?: string;
  /** Set on the summary entry that replaces errors beyond the stored maximum. */
  truncated?: boolean;
}

/** A Git repository of templates (shown in the cluster as a TemplateRepository object, see repository-object.ts). */
@Entity('repositories')
export class RepositoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_repositories_name', { unique: true })
  @Column({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ type: 'text' })
  url!: string;

  @Column({ type: 'varchar', length: 255, default: 'main' })
  branch!: string;

  /** Sub-directory of the repository that holds the templates ('' = root). */
  @Column({ type: 'text', default: '' })
  path!: string;

  /** none | basic | token | ssh */
  @Column({ name: 'auth_type', type: 'varchar', length: 16, default: 'none' })
  authType!: string;

  /** Name of the Kubernetes Secret holding the credentials; the credentials never touch the database. */
  @Column({ name: 'auth_secret_ref', type: 'varchar', length: 253, nullable: true })
  authSecretRef!: string | null;

  /** Pinned ssh host keys (known_hosts lines; public, not secret) for an ssh URL. */
  @Column({ name: 'known_hosts', type: 'text', nullable: true })
  knownHosts!: string | null;

  @Column({ name: 'sync_interval', type: 'varchar', length: 16, default: '1h' })
  syncInterval!: string;

  @Column({ name: 'auto_sync', type: 'boolean', default: true })
  autoSync!: boolean;

  @Column({ type: 'boolean', default: true })
  public!: boolean;

  @Column({ name: 'allowed_users', type: 'text', array: true, default: () => "'{}'" })
  allowedUsers!: string[];

  /** Pending | Syncing | Ready | Failed */
  @Column({ type: 'varchar', length: 16, default: 'Pending' })
  status!: string;

  @Column({ name: 'last_sync_at', type: 'timestamptz', nullable: true })
  lastSyncAt!: Date | null;

  @Column({ name: 'last_commit', type: 'varchar', length: 64, nullable: true })
  lastCommit!: string | null;

  @Column({ name: 'template_count', type: 'integer', default: 0 })
  templateCount!: number;

  @Column({ name: 'sync_error', type: 'text', nullable: true })
  syncError!: string | null;

  /** Per-file problems of the current catalog: [{ path, message, ... }]. */
  @Column({ name: 'file_errors', type: 'jsonb', default: () => "'[]'" })
  fileErrors!: FileError[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
