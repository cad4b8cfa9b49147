import { CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { UserEntity } from '../users/user.entity';

/** A template a user pinned in the portal's launcher; one row per (user, template). */
@Entity('favorites')
export class FavoriteEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** Template name (a DNS label). Not a foreign key: templates live in the cluster, not in PostgreSQL. */
  @PrimaryColumn({ type: 'varchar', length: 253 })
  template!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
