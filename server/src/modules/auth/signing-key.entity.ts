import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Keys that sign access tokens when STREAMSPACE_JWT_SIGNING_KEY is not set. The newest active key
 * signs; retired keys still verify tokens issued before a rotation until those expire.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  /** The JWT `kid` header. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  algorithm!: string;

  @Column({ name: 'private_jwk', type: 'jsonb', select: false })
  privateJwk!: Record<string, unknown>;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Set when a newer key replaced this one; it no longer signs. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
