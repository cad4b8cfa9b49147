import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { SessionEntity } from '../sessions/session.entity';
import type { UserEntity } from '../users/user.entity';

/** Roles of a session's access list: a viewer sees (the gateway drops its input), a collaborator uses it fully. */
export const ShareRole = {
  VIEWER: 'VIEWER',
  COLLABORATOR: 'COLLABORATOR',
} as const;
export type ShareRole = (typeof ShareRole)[keyof typeof ShareRole];

/**
 * One entry of a session's access list: a user the owner shared the session with. Gone with the session or the
 * user (cascade). The owner and admins are never entries: they always have full access.
 */
@Entity('session_shares')
export class SessionShareEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne('SessionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Relation<SessionEntity>;

  /** Indexed on its own for "shared with me". */
  @Index('ix_session_shares_user')
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  /** VIEWER | COLLABORATOR (a string, checked by the service, so more roles need no type change). */
  @Column({ type: 'varchar', length: 16 })
  role!: string;

  /** Who shared it (the owner or an admin); null once that account is deleted. */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @ManyToOne('UserEntity', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by' })
  creator?: Relation<UserEntity>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
