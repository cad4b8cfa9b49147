import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { UserEntity } from '../users/user.entity';
import type { GroupEntity } from './group.entity';

/** A user's membership of a group; gone with the group or the user (cascade). */
@Entity('group_members')
export class GroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne('GroupEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: Relation<GroupEntity>;

  /** Indexed on its own: the access rule looks up a user's groups. */
  @Index('ix_group_members_user')
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  /** Who added them (an admin); null once that account is deleted. */
  @Column({ name: 'added_by', type: 'uuid', nullable: true })
  addedBy!: string | null;

  @ManyToOne('UserEntity', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'added_by' })
  adder?: Relation<UserEntity>;

  /** admin: added by an admin; oidc: added at sign-in from the IdP's groups claim (and removed there when it goes). */
  @Column({ type: 'varchar', length: 16, default: 'admin' })
  source!: string;

  @Column({ name: 'added_at', type: 'timestamptz', default: () => 'now()' })
  addedAt!: Date;
}
