import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { RepositoryEntity } from './repository.entity';

/** A template offered by a repository (not yet installed as a Template object). */
@Entity('catalog_templates')
@Index('uq_catalog_templates_repository_name', ['repositoryId', 'name'], { unique: true })
@Index('ix_catalog_templates_popularity', ['installCount'])
@Index('ix_catalog_templates_source', ['repositoryId', 'sourcePath'])
export class CatalogTemplateEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'repository_id', type: 'uuid' })
  repositoryId!: string;

  @ManyToOne('RepositoryEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'repository_id' })
  repository?: Relation<RepositoryEntity>;

  @Column({ type: 'varchar', length: 253 })
  name!: string;

  @Column({ name: 'display_name', type: 'varchar', length: 200 })
  displayName!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Index('ix_catalog_templates_category')
  @Column({ type: 'varchar', length: 100, default: 'Other' })
  category!: string;

  @Index('ix_catalog_templates_tags', { synchronize: false })
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags!: string[];

  @Column({ name: 'app_type', type: 'varchar', length: 16, default: 'webapp' })
  appType!: string;

  @Column({ name: 'icon_path', type: 'text', nullable: true })
  iconPath!: string | null;

  @Column({ name: 'readme_path', type: 'text', nullable: true })
  readmePath!: string | null;

  /** Path of the manifest inside the repository. */
  @Column({ name: 'source_path', type: 'text' })
  sourcePath!: string;

  /** Commit the manifest was read at. */
  @Column({ name: 'source_commit', type: 'varchar', length: 64, nullable: true })
  sourceCommit!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  version!: string | null;

  /** The Template manifest, normalised to stream.streamspace.io/v1alpha1. */
  @Column({ type: 'jsonb' })
  manifest!: Record<string, unknown>;

  @Column({ name: 'install_count', type: 'integer', default: 0 })
  installCount!: number;

  /**
   * Weighted full-text document (name, display name > tags > description), maintained by a trigger
   * (see the initial migration; array_to_string is not immutable, so a generated column cannot do it)
   * and indexed with GIN.
   */
  @Index('ix_catalog_templates_search', { synchronize: false })
  @Column({ name: 'search_vector', type: 'tsvector', nullable: true, select: false, insert: false, update: false })
  searchVector?: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
