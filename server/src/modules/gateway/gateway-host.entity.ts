import { Column, Entity, Index, JoinColumn, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { SessionEntity } from '../sessions/session.entity';

/**
 * A session's host id in the gateway: 128 random bits (26 base32 characters), the subdomain in host mode and the
 * path segment in path mode. Never derived from the user, the template or the session's name, so it cannot be
 * guessed; it is an address, not a secret (access needs the gateway cookie).
 */
@Entity('gateway_hosts')
export class GatewayHostEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @OneToOne('SessionEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Relation<SessionEntity>;

  @Index('uq_gateway_hosts_label', { unique: true })
  @Column({ type: 'varchar', length: 32 })
  label!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
