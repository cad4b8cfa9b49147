import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only record of every mutation: who did what to which resource, from where, with what result. */
@Entity('audit_log')
@Index('ix_audit_log_resource', ['resourceType', 'resourceId'])
export class AuditLogEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Index('ix_audit_log_at')
  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  @Index('ix_audit_log_actor')
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_username', type: 'varchar', length: 63, nullable: true })
  actorUsername!: string | null;

  /** e.g. session.create, template.apply, user.update */
  @Index('ix_audit_log_action')
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 64 })
  resourceType!: string;

  /** e.g. `Pod/<namespace>/<name>`: longer than one Kubernetes name. */
  @Column({ name: 'resource_id', type: 'text', nullable: true })
  resourceId!: string | null;

  /** success | failure */
  @Column({ type: 'varchar', length: 16, default: 'success' })
  outcome!: string;

  /** What changed (before/after or the input), with secrets removed. */
  @Column({ type: 'jsonb', nullable: true })
  changes!: Record<string, unknown> | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId!: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;
}
