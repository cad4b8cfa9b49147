import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A cache of Session objects (the cluster is the source of truth): kept in sync from the watch and
 * rebuilt after a restart, so lists, filters and joins are served from PostgreSQL.
 */
@Entity('sessions')
@Index('uq_sessions_namespace_name', ['namespace', 'name'], { unique: true })
@Index('ix_sessions_user_state', ['userId', 'state'])
export class SessionEntity {
  /** The Session object's metadata.uid. */
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 253 })
  name!: string;

  @Column({ type: 'varchar', length: 63 })
  namespace!: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Index('ix_sessions_username')
  @Column({ type: 'varchar', length: 63 })
  username!: string;

  @Index('ix_sessions_template')
  @Column({ type: 'varchar', length: 253 })
  template!: string;

  /** Desired state: running | hibernated | terminated. */
  @Column({ type: 'varchar', length: 16 })
  state!: string;

  /** Observed phase: Pending | Running | Hibernated | Failed | Terminated. */
  @Index('ix_sessions_phase')
  @Column({ type: 'varchar', length: 16, default: 'Pending' })
  phase!: string;

  @Column({ name: 'app_type', type: 'varchar', length: 16, default: 'webapp' })
  appType!: string;

  @Column({ type: 'text', nullable: true })
  url!: string | null;

  @Column({ name: 'pod_name', type: 'varchar', length: 253, nullable: true })
  podName!: string | null;

  @Column({ name: 'active_connections', type: 'integer', default: 0 })
  activeConnections!: number;

  @Column({ name: 'total_connections', type: 'integer', default: 0 })
  totalConnections!: number;

  @Column({ name: 'last_connection_at', type: 'timestamptz', nullable: true })
  lastConnectionAt!: Date | null;

  @Column({ name: 'last_disconnect_at', type: 'timestamptz', nullable: true })
  lastDisconnectAt!: Date | null;

  @Column({ name: 'last_activity_at', type: 'timestamptz', nullable: true })
  lastActivityAt!: Date | null;

  @Column({ name: 'resource_version', type: 'varchar', length: 64, nullable: true })
  resourceVersion!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  spec!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  status!: Record<string, unknown>;

  @Index('ix_sessions_created_at')
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
