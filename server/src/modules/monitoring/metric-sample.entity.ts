import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One value of one series at one sampling time (written by the leader's metrics sampler). Three narrow columns and
 * the primary key (series, time) serve both the range reads of the console and the retention delete (by time).
 */
@Entity('metric_samples')
@Index('ix_metric_samples_at', ['at'])
export class MetricSampleEntity {
  /** A fixed series' name, or `<family>/<node>` of a per-node one (up to MAX_SERIES_NAME characters). */
  @PrimaryColumn({ type: 'varchar', length: 300 })
  series!: string;

  @PrimaryColumn({ type: 'timestamptz' })
  at!: Date;

  @Column({ type: 'double precision' })
  value!: number;
}
