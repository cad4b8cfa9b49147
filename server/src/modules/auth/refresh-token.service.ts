import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { IsNull, Not, type DataSource, type EntityManager } from 'typeorm';
import { AuthCache } from '../../platform/auth/auth-cache';
import { RefreshTokenEntity } from './refresh-token.entity';

export interface ClientMeta {
  clientIp?: string;
  userAgent?: string;
}

export type RotateResult =
  | { ok: true; userId: string; familyId: string; token: string; expiresAt: Date }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; reason: 'lifetime_ended'; userId: string; familyId: string }
  | { ok: false; reason: 'reused'; userId: string; familyId: string };

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Sign-ins of a user ended (sign-out, password change): their open sockets close on every replica. */
export interface SignedOutEvent {
  userId: string;
  /** Only this sign-in (refresh family) ended. */
  familyId?: string;
  /** Every sign-in but this one ended. Neither set: every sign-in ended. */
  exceptFamilyId?: string;
}

/**
 * Refresh tokens: random 256-bit strings, only their hash stored. A refresh exchanges the token for a
 * new one of the same family and marks the old one used; presenting a used token again means it was
 * copied, so the whole family (every token since that sign-in) is revoked. Rotation extends a family by the
 * token lifetime each time, but never beyond the absolute lifetime counted from the sign-in.
 */
/** How long a request's authentication may reuse "this sign-in is not revoked" (see isFamilyRevoked). */
const LIVE_FAMILY_TTL_MS = 2000;
const LIVE_FAMILY_MAX = 10_000;

export class RefreshTokenService {
  private readonly signedOutListeners = new Set<(event: SignedOutEvent) => void>();
  /** Families found not revoked: a request's authentication then costs no SQL statement for it. */
  private readonly liveFamilies = new AuthCache<boolean>({ ttlMs: LIVE_FAMILY_TTL_MS, max: LIVE_FAMILY_MAX });

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: { ttlMs: number; absoluteLifetimeMs: number },
  ) {}

  /** Called once sign-ins ended (committed); the auth module tells every replica, which closes their sockets. */
  onSignedOut(listener: (event: SignedOutEvent) => void): void {
    this.signedOutListeners.add(listener);
  }

  announceSignOut(event: SignedOutEvent): void {
    this.forgetLiveFamilies();
    for (const listener of this.signedOutListeners) listener(event);
  }

  /**
   * Drops every cached "not revoked" answer: a family was revoked here (before the revoking transaction commits,
   * and again when it is announced) or on another replica (its USER_SIGNED_OUT event, auth.module.ts).
   */
  forgetLiveFamilies(): void {
    this.liveFamilies.forget();
  }

  async issue(
    userId: string,
    meta: ClientMeta,
    manager?: EntityManager,
    family: { id: string; startedAt: Date } = { id: randomUUID(), startedAt: new Date() },
  ): Promise<{ token: string; expiresAt: Date; familyId: string }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Math.min(Date.now() + this.options.ttlMs, family.startedAt.getTime() + this.options.absoluteLifetimeMs));
    const familyId = family.id;
    await (manager ?? this.dataSource.manager).getRepository(RefreshTokenEntity).insert({
      familyId,
      familyStartedAt: family.startedAt,
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
      if (row.familyStartedAt.getTime() + this.options.absoluteLifetimeMs <= Date.now()) {
        await this.revokeFamily(row.familyId, manager);
        return { ok: false, reason: 'lifetime_ended', userId: row.userId, familyId: row.familyId } as const;
      }
      if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' } as const;
      await repo.update({ id: row.id }, { usedAt: new Date() });
      const next = await this.issue(row.userId, meta, manager, { id: row.familyId, startedAt: row.familyStartedAt });
      return { ok: true, userId: row.userId, familyId: row.familyId, token: next.token, expiresAt: next.expiresAt } as const;
    });
  }

  /** The family of a token, whatever its state (for logout). */
  async find(token: string): Promise<RefreshTokenEntity | null> {
    return this.dataSource.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: hashRefreshToken(token) });
  }

  async revokeFamily(familyId: string, manager?: EntityManager): Promise<number> {
    this.forgetLiveFamilies();
    const result = await (manager ?? this.dataSource.manager)
      .getRepository(RefreshTokenEntity)
      .update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
    return result.affected ?? 0;
  }

  /** Signs a user out everywhere (disabled), or everywhere but one sign-in (`exceptFamilyId`: password changed there). */
  async revokeAllForUser(userId: string, manager?: EntityManager, exceptFamilyId?: string): Promise<number> {
    this.forgetLiveFamilies();
    const result = await (manager ?? this.dataSource.manager)
      .getRepository(RefreshTokenEntity)
      .update({ userId, revokedAt: IsNull(), ...(exceptFamilyId ? { familyId: Not(exceptFamilyId) } : {}) }, { revokedAt: new Date() });
    return result.affected ?? 0;
  }

  /**
   * Whether a sign-in was revoked (signed out, password changed elsewhere, reuse): its access tokens stop working.
   * "Not revoked" is cached for at most LIVE_FAMILY_TTL_MS, like the caller's user row (UsersService.findByIdCached):
   * a revocation on this replica drops the cache before its transaction commits, one on another replica drops it
   * when its USER_SIGNED_OUT event arrives, and the TTL bounds what a lost event could leave. A read that raced with
   * a revocation is not cached (the generation moved on meanwhile). "Revoked" is final and never needs a cache.
   */
  async isFamilyRevoked(familyId: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(familyId)) return true;
    const live = await this.liveFamilies.read(
      familyId,
      async () => ((await this.dataSource.query('SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1', [familyId])) as unknown[]).length === 0,
      (isLive) => isLive,
    );
    return !live;
  }
}
