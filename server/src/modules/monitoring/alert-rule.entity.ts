import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An alert rule on one sampled series: fires while `value <comparator> threshold`. The shipped rules are inserted
 * at start (never overwritten: admins edit their thresholds); `state` is the rule's current verdict.
 */
@Entity('alert_rules')
export class AlertRuleEntity {
  /** Stable key, e.g. `node-not-ready`. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  series!: string;

  /** above | below */
  @Column({ type: 'varchar', length: 8 })
  comparator!: string;

  @Column({ type: 'double precision' })
  threshold!: number;

  /** warning | critical */
  @Column({ type: 'varchar', length: 16 })
  severity!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'text' })
  description!: string;

  /** Where this rule's changes are POSTed (null: the global STREAMSPACE_ALERT_WEBHOOK_URL, if any). */
  @Column({ name: 'webhook_url', type: 'text', nullable: true })
  webhookUrl!: string | null;

  /** ok | firing */
  @Column({ type: 'varchar', length: 16, default: 'ok' })
  state!: string;

  @Column({ name: 'last_value', type: 'double precision', nullable: true })
  lastValue!: number | null;

  @Column({ name: 'last_evaluated_at', type: 'timestamptz', nullable: true })
  lastEvaluatedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
