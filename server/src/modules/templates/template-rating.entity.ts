import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { UserEntity } from '../users/user.entity';

/**
 * One user's rating (1 to 5 stars) and optional short review of a template; one row per (template, user), edited in
 * place. The template is a name, not a key: Templates live in the cluster, and a template deleted and installed
 * again keeps its ratings. Removed with the user.
 */
@Entity('template_ratings')
@Index('uq_template_ratings_template_user', ['template', 'userId'], { unique: true })
@Index('ix_template_ratings_template_updated', ['template', 'updatedAt'])
export class TemplateRatingEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Template name (a DNS label). */
  @Column({ type: 'varchar', length: 253 })
  template!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  /** 1 to 5. */
  @Column({ type: 'smallint' })
  stars!: number;

  /** The short review as written (trimmed), or null for a rating alone. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  review!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
