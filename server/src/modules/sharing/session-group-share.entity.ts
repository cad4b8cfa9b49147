import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { GroupEntity } from '../groups/group.entity';
import type { SessionEntity } from '../sessions/session.entity';
import type { UserEntity } from '../users/user.entity';

/**
 * A group entry of a session's access list: every member of the group has this role on the session (their
 * strongest entry wins). Gone with the session or the group (cascade).
 */
@Entity('session_group_shares')
export class SessionGroupShareEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne('SessionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Relation<SessionEntity>;

  /** Indexed on its own: membership changes look up the sessions shared with a group. */
  @Index('ix_session_group_shares_group')
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne('GroupEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: Relation<GroupEntity>;

  /** VIEWER | COLLABORATOR, as for user entries. */
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
