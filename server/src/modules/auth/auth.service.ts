import type { DataSource } from 'typeorm';
import type { AuthConfig } from '../../config/config';
import type { Caller } from '../../platform/graphql/context';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { UserEntity } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import { dummyPasswordHash, verifyPassword } from './password';
import { poolOf } from '../../platform/database/prepared';
import { LoginRateLimiter } from './rate-limiter';
import type { ClientMeta, RefreshTokenService } from './refresh-token.service';
import { InvalidTokenError, type AccessToken, type TokenService } from './token.service';

/** A failure the HTTP layer turns into a status and a JSON error body. */
export class AuthFailure extends Error {
  constructor(
    public readonly status: 401 | 403 | 429,
    public readonly error: string,
    message: string,
    public readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AuthFailure';
  }
}

export interface SignInResult extends AccessToken {
  user: Pick<UserEntity, 'id' | 'username' | 'role'>;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export interface AuthenticatedCaller {
  caller: Caller;
  /** When the access token expires (ms since the epoch); graphql-ws closes the socket then. */
  expiresAtMs: number;
}

/**
 * Sign-in, token refresh, sign-out and the bearer check every request goes through. Local and OIDC
 * sign-ins end the same way: `startSession` issues an access token and a refresh token family.
 */
export class AuthService {
  private readonly ipLimiter: LoginRateLimiter;
  private readonly usernameLimiter: LoginRateLimiter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AuthConfig,
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly audit: AuditService,
  ) {
    const { perIp, perUsername, windowMs } = config.loginRateLimit;
    // The counters live in PostgreSQL (shared by every replica), on the pool TypeORM already holds.
    const pool = () => poolOf(dataSource);
    this.ipLimiter = new LoginRateLimiter(pool, 'login-ip', perIp, windowMs);
    this.usernameLimiter = new LoginRateLimiter(pool, 'login-user', perUsername, windowMs);
  }

  async login(username: unknown, password: unknown, source: AuditSource & ClientMeta): Promise<SignInResult> {
    const ipKey = source.clientIp ?? 'unknown';
    const name = typeof username === 'string' ? username.trim().toLowerCase().slice(0, 63) : '';
    const retry = Math.max(await this.ipLimiter.retryAfter(ipKey), name ? await this.usernameLimiter.retryAfter(name) : 0);
    if (retry > 0) {
      await this.audit.record({ action: 'auth.login', resourceType: 'user', outcome: 'failure', actor: { id: null, username: name || null }, changes: { reason: 'rate_limited' }, source });
      throw new AuthFailure(429, 'rate_limited', 'Too many sign-in attempts; try again later', retry);
    }
    // Failed attempts count against the IP and the username; successful sign-ins cost nothing.
    if (!name || typeof password !== 'string' || !password) {
      await this.ipLimiter.hit(ipKey);
      throw new AuthFailure(401, 'invalid_credentials', 'Wrong username or password');
    }
    const user = await this.users.findForLogin(name);
    // Verify against a dummy hash for unknown users, so the answer time does not tell which names exist.
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !user.passwordHash || !ok) {
      await this.ipLimiter.hit(ipKey);
      await this.usernameLimiter.hit(name);
      await this.audit.record({ action: 'auth.login', resourceType: 'user', resourceId: user?.id ?? null, outcome: 'failure', actor: { id: null, username: name }, changes: { reason: 'invalid_credentials' }, source });
      throw new AuthFailure(401, 'invalid_credentials', 'Wrong username or password');
    }
    if (user.disabled) {
      await this.audit.record({ action: 'auth.login', resourceType: 'user', resourceId: user.id, outcome: 'failure', actor: user, changes: { reason: 'disabled' }, source });
      throw new AuthFailure(403, 'account_disabled', 'This account is disabled');
    }
    await this.usernameLimiter.reset(name);
    return this.startSession(user, { method: 'password' }, source);
  }

  /** After a successful local or OIDC sign-in: last login, a new refresh family, an audit row, an access token. */
  async startSession(user: UserEntity, details: Record<string, unknown>, source: AuditSource & ClientMeta): Promise<SignInResult> {
    const refresh = await this.dataSource.transaction(async (manager) => {
      await this.users.recordLogin(user.id, manager);
      const issued = await this.refreshTokens.issue(user.id, source, manager);
      await this.audit.record({ action: 'auth.login', resourceType: 'user', resourceId: user.id, actor: user, changes: details, source }, manager);
      return issued;
    });
    const access = await this.tokens.issue({ id: user.id, username: user.username, role: user.role, sid: refresh.familyId });
    return {
      ...access,
      user: { id: user.id, username: user.username, role: user.role },
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
    };
  }

  async refresh(token: string | undefined, source: AuditSource & ClientMeta): Promise<SignInResult> {
    if (!token) throw new AuthFailure(401, 'no_refresh_token', 'Not signed in');
    const result = await this.refreshTokens.rotate(token, source);
    if (!result.ok) {
      if (result.reason === 'reused') {
        const user = await this.users.findById(result.userId);
        await this.audit.record({
          action: 'auth.refresh_reuse',
          resourceType: 'user',
          resourceId: result.userId,
          outcome: 'failure',
          actor: user ? { id: user.id, username: user.username } : null,
          changes: { familyId: result.familyId, reason: 'refresh token reused: every token of this sign-in was revoked' },
          source,
        });
        // A copied refresh token: the sign-in's open sockets close too, on every replica.
        this.refreshTokens.announceSignOut({ userId: result.userId, familyId: result.familyId });
      }
      if (result.reason === 'lifetime_ended') {
        throw new AuthFailure(401, 'sign_in_expired', 'This sign-in has reached its maximum lifetime (STREAMSPACE_REFRESH_ABSOLUTE_LIFETIME); sign in again');
      }
      throw new AuthFailure(401, 'invalid_refresh_token', 'The sign-in has expired or was revoked; sign in again');
    }
    const user = await this.users.findById(result.userId);
    if (!user || user.disabled) {
      await this.refreshTokens.revokeFamily(result.familyId);
      throw new AuthFailure(user ? 403 : 401, user ? 'account_disabled' : 'invalid_refresh_token', user ? 'This account is disabled' : 'Not signed in');
    }
    const access = await this.tokens.issue({ id: user.id, username: user.username, role: user.role, sid: result.familyId });
    return { ...access, user: { id: user.id, username: user.username, role: user.role }, refreshToken: result.token, refreshExpiresAt: result.expiresAt };
  }

  /**
   * Revokes the sign-in the refresh token belongs to (its whole family): its access tokens stop working, and its
   * open graphql-ws sockets close on every replica.
   */
  async logout(token: string | undefined, source: AuditSource & ClientMeta): Promise<void> {
    const row = token ? await this.refreshTokens.find(token) : null;
    if (!row) return;
    const user = await this.users.findById(row.userId);
    await this.dataSource.transaction(async (manager) => {
      await this.refreshTokens.revokeFamily(row.familyId, manager);
      await this.audit.record({ action: 'auth.logout', resourceType: 'user', resourceId: row.userId, actor: user ? { id: user.id, username: user.username } : null, source }, manager);
    });
    this.refreshTokens.announceSignOut({ userId: row.userId, familyId: row.familyId });
  }

  /**
   * The claims of a bearer token, checked by signature and expiry only (no database read): for what must answer
   * while the database is down (/readyz details). Null without a header; throws InvalidTokenError for a bad token.
   */
  async claimsOf(authorization: string | undefined | null): Promise<Caller | null> {
    if (!authorization) return null;
    const { id, username, role } = await this.tokens.verify(bearerToken(authorization));
    return { id, username, role };
  }

  /**
   * The caller behind `Authorization: Bearer <token>` (or a bare token from graphql-ws connectionParams).
   * The user row is read on every request, so disabling a user or changing a role takes effect at once.
   */
  async authenticate(authorization: string | undefined | null): Promise<AuthenticatedCaller | null> {
    if (!authorization) return null;
    const claims = await this.tokens.verify(bearerToken(authorization));
    const [user, revoked] = await Promise.all([this.users.findByIdCached(claims.id), claims.sid ? this.refreshTokens.isFamilyRevoked(claims.sid) : false]);
    if (!user) throw new InvalidTokenError('The user of this token no longer exists');
    if (user.disabled) throw new InvalidTokenError('This account is disabled');
    if (revoked) throw new InvalidTokenError('This sign-in has ended (signed out or password changed); sign in again');
    return { caller: { id: user.id, username: user.username, role: user.role, ...(claims.sid ? { sid: claims.sid } : {}) }, expiresAtMs: claims.exp * 1000 };
  }
}

/** The token of `Bearer <token>` (or a bare token, as graphql-ws connectionParams may carry it). */
function bearerToken(authorization: string): string {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const token = match ? match[1] : authorization.includes(' ') ? undefined : authorization.trim();
  if (!token) throw new InvalidTokenError('Expected "Authorization: Bearer <token>"');
  return token;
}
