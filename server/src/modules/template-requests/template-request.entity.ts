import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { UserEntity } from '../users/user.entity';

/**
 * A user's request that admins install a catalog template; one row per (user, repository, template). Asking again
 * refreshes the row. Repository and template are names, not keys: a sync replaces catalog rows.
 */
@Entity('template_requests')
@Index('uq_template_requests_user_template', ['userId', 'repository', 'template'], { unique: true })
@Index('ix_template_requests_updated', ['updatedAt'])
export class TemplateRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  /** Repository name. */
  @Column({ type: 'varchar', length: 253 })
  repository!: string;

  /** Template name within the repository (a DNS label). */
  @Column({ type: 'varchar', length: 253 })
  template!: string;

  /** Display name when requested (the catalog row may change or go). */
  @Column({ name: 'display_name', type: 'varchar', length: 253 })
  displayName!: string;

  /** Why the user wants it, as they wrote it. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  reason!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When it was last asked for. */
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
