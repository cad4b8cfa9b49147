import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One episode of a rule firing: opened when it fires, closed (resolved_at) when it resolves. At most one open per rule and source. */
@Entity('alerts')
@Index('uq_alerts_open', ['ruleId', 'source'], { unique: true, where: "state = 'firing'" })
@Index('ix_alerts_fired_at', ['firedAt'])
export class AlertEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'rule_id', type: 'varchar', length: 64 })
  ruleId!: string;

  /** firing | resolved */
  @Column({ type: 'varchar', length: 16 })
  state!: string;

  @Column({ type: 'varchar', length: 16 })
  severity!: string;

  /** The value that made it fire, then the latest value while it fires. */
  @Column({ type: 'double precision' })
  value!: number;

  @Column({ type: 'double precision' })
  threshold!: number;

  @Column({ type: 'text' })
  message!: string;

  /** Who evaluated it: `leader`, or the replica that could not reach a dependency. */
  @Column({ type: 'varchar', length: 128 })
  source!: string;

  @Column({ name: 'fired_at', type: 'timestamptz' })
  firedAt!: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;
}
