import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One key's change in a version (secret values masked). */
export interface StoredSettingChange {
  key: string;
  before: unknown;
  after: unknown;
  beforeSource: string;
  afterSource: string;
}

/**
 * Every applied change of the runtime settings, single or batch, as one numbered version: who, when, the per-key
 * diff, and the saved values right after it (what restoring the version brings back).
 */
@Entity('configuration_versions')
export class ConfigurationVersionEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Index('ix_configuration_versions_created_at')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Username of the admin (null for a change made by the system). */
  @Column({ type: 'varchar', length: 63, nullable: true })
  actor!: string | null;

  /** apply (a batch), update, reset (one key), restore. */
  @Column({ type: 'varchar', length: 16 })
  action!: string;

  /** The version a restore brought back. */
  @Column({ name: 'restored_from', type: 'integer', nullable: true })
  restoredFrom!: number | null;

  @Column({ type: 'jsonb' })
  changes!: StoredSettingChange[];

  /** Every saved override (key -> value) right after this version; absent keys use their default. */
  @Column({ type: 'jsonb' })
  snapshot!: Record<string, unknown>;
}
