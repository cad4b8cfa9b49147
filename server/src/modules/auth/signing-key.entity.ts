import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Keys that sign access tokens when STREAMSPACE_JWT_SIGNING_KEY is not set. The newest active key
 * signs; a retired key has no private half any more and verifies tokens for one access-token lifetime after its
 * retirement (the longest any token it signed can live), then none.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  /** The JWT `kid` header. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  algorithm!: string;

  /** Deleted (null) when the key is retired: a retired key can never sign again, even from a database dump. */
  @Column({ name: 'private_jwk', type: 'jsonb', select: false, nullable: true })
  privateJwk!: Record<string, unknown> | null;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Set when a newer key replaced this one; it no longer signs. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
