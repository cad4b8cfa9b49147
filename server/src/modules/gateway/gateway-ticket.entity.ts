import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import type { ConnectionEntity } from '../connections/connection.entity';
import type { SessionEntity } from '../sessions/session.entity';
import type { UserEntity } from '../users/user.entity';

/**
 * A gateway grant: first a single-use ticket (in the URL connectSession returns), then, once traded at the
 * session's origin, the cookie that carries access. Only SHA-256 hashes of both are stored. Bound to one session,
 * one user and one connection: when the connection ends, the cookie stops working.
 */
@Entity('gateway_tickets')
export class GatewayTicketEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_gateway_tickets_ticket_hash', { unique: true })
  @Column({ name: 'ticket_hash', type: 'varchar', length: 64 })
  ticketHash!: string;

  /** Set when the ticket is redeemed. */
  @Index('uq_gateway_tickets_cookie_hash', { unique: true, where: 'cookie_hash IS NOT NULL' })
  @Column({ name: 'cookie_hash', type: 'varchar', length: 64, nullable: true })
  cookieHash!: string | null;

  @Index('ix_gateway_tickets_session')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne('SessionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Relation<SessionEntity>;

  @Index('ix_gateway_tickets_user')
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  @Index('ix_gateway_tickets_connection')
  @Column({ name: 'connection_id', type: 'uuid' })
  connectionId!: string;

  @ManyToOne('ConnectionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id' })
  connection?: Relation<ConnectionEntity>;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
