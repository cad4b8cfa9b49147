import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';

export interface ClientMeta {
  clientIp?: string;
  userAgent?: string;
}

export type RotateResult =
  | { ok: true; userId: string; familyId: string; token: string; expiresAt: Date }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; reason: 'reused'; userId: string; familyId: string };

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Refresh tokens: random 256-bit strings, only their hash stored. A refresh exchanges the token for a
 * new one of the same family and marks the old one used; presenting a used token again means it was
 * copied, so the whole family (every token since that sign-in) is revoked.
 */
export class RefreshTokenService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ttlMs: number,
  ) {}

  async issue(userId: string, meta: ClientMeta, manager?: EntityManager, familyId: string = randomUUID()): Promise<{ token: string; expiresAt: Date; familyId: string }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await (manager ?? this.dataSource.manager).getRepository(RefreshTokenEntity).insert({
      familyId,
      userId,
      tokenHash: hashRefreshToken(token),
      expiresAt,
      clientIp: meta.clientIp?.slice(0, 64) ?? null,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
    });
    return { token, expiresAt, familyId };
  }

  async rotate(token: string, meta: ClientMeta): Promise<RotateResult> {
    return this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(RefreshTokenEntity);
      const row = await repo.findOne({ where: { tokenHash: hashRefreshToken(token) }, lock: { mode: 'pessimistic_write' } });
      if (!row) return { ok: false, reason: 'unknown' } as const;
      if (row.revokedAt) return { ok: false, reason: 'revoked' } as const;
      if (row.usedAt) {
        await this.revokeFamily(row.familyId, manager);
        return { ok: false, reason: 'reused', userId: row.userId, familyId: row.familyId } as const;
      }
      if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' } as const;
      await repo.update({ id: row.id }, { usedAt: new Date() });
      const next = await this.issue(row.userId, meta, manager, row.familyId);
      return { ok: true, userId: row.userId, familyId: row.familyId, token: next.token, expiresAt: next.expiresAt } as const;
    });
  }

  /** The family of a token, whatever its state (for logout). */
  async find(token: string): Promise<RefreshTokenEntity | null> {
    return this.dataSource.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: hashRefreshToken(token) });
  }

  async revokeFamily(familyId: string, manager?: EntityManager): Promise<number> {
    const result = await (manager ?? this.dataSource.manager)
      .getRepository(RefreshTokenEntity)
      .update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
    return result.affected ?? 0;
  }

  /** Signs a user out everywhere (disabled, password changed). */
  async revokeAllForUser(userId: string, manager?: EntityManager): Promise<number> {
    const result = await (manager ?? this.dataSource.manager)
      .getRepository(RefreshTokenEntity)
      .update({ userId, revokedAt: IsNull() }, { revokedAt: new Date() });
    return result.affected ?? 0;
  }
}
