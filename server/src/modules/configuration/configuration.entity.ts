import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Runtime settings editable by admins (key -> JSON value); environment variables stay the bootstrap. */
@Entity('configuration')
export class ConfigurationEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  key!: string;

  @Column({ type: 'jsonb' })
  value!: unknown;

  /** Secret values are stored but never returned by the API. */
  @Column({ type: 'boolean', default: false })
  secret!: boolean;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'updated_by', type: 'varchar', length: 63, nullable: true })
  updatedBy!: string | null;
}
