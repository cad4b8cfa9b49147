import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import type { SessionEntity } from '../sessions/session.entity';

/**
 * One browser attached to a session; heartbeats move last_activity_at, the reaper ends stale ones.
 * last_activity_at is deliberately not indexed, so heartbeats are HOT updates (migration 1795670000707).
 */
@Entity('connections')
@Index('ix_connections_open_by_session', ['sessionId'], { where: 'disconnected_at IS NULL' })
export class ConnectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne('SessionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Relation<SessionEntity>;

  @Index('ix_connections_user')
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'connected_at', type: 'timestamptz', default: () => 'now()' })
  connectedAt!: Date;

  @Column({ name: 'last_activity_at', type: 'timestamptz', default: () => 'now()' })
  lastActivityAt!: Date;

  @Column({ name: 'disconnected_at', type: 'timestamptz', nullable: true })
  disconnectedAt!: Date | null;

  /** SHA-256 (hex) of the connection's beacon token (POST /api/connections/:id/disconnect from sendBeacon). */
  @Column({ name: 'beacon_token_hash', type: 'varchar', length: 64, nullable: true, select: false })
  beaconTokenHash!: string | null;

  /** Why it ended: client, reaper, session-ended. */
  @Column({ name: 'disconnect_reason', type: 'varchar', length: 32, nullable: true })
  disconnectReason!: string | null;
}
