import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A person who signs in: locally (password_hash) or through OIDC (oidc_issuer + oidc_subject). */
@Entity('users')
@Index('uq_users_oidc_identity', ['oidcIssuer', 'oidcSubject'], { unique: true, where: 'oidc_subject IS NOT NULL' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_users_username', { unique: true })
  @Column({ type: 'varchar', length: 63 })
  username!: string;

  @Index('ix_users_email')
  @Column({ type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Column({ name: 'display_name', type: 'varchar', length: 200, nullable: true })
  displayName!: string | null;

  /** A role name (admin, user); a string, not an enum, so more roles can be added without a type change. */
  @Column({ type: 'varchar', length: 32, default: 'user' })
  role!: string;

  @Column({ name: 'password_hash', type: 'text', nullable: true, select: false })
  passwordHash!: string | null;

  @Column({ name: 'auth_provider', type: 'varchar', length: 16, default: 'local' })
  authProvider!: string;

  @Column({ name: 'oidc_issuer', type: 'text', nullable: true })
  oidcIssuer!: string | null;

  @Column({ name: 'oidc_subject', type: 'text', nullable: true })
  oidcSubject!: string | null;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** Per-user quota overrides; null fields fall back to the configured defaults. */
  @Column({ type: 'jsonb', nullable: true })
  quota!: Record<string, unknown> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;
}
