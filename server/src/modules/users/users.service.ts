import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open as openFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type DataSource, type EntityManager } from 'typeorm';
import { AuthCache } from '../../platform/auth/auth-cache';
import type { QuotaLimits } from '../../config/config';
import { ROLES, Role } from '../../platform/graphql/authorization';
import { badInput, notFound } from '../../platform/graphql/errors';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from '../auth/password';
import type { RefreshTokenService } from '../auth/refresh-token.service';
import { UserEntity } from './user.entity';
import { cannotDeleteSelf, lastAdmin, notLocalUser, ssoUserPassword, usernameTaken, wrongPassword } from './user.errors';

/** The shape of a user id (a uuid column): anything else names no user. */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Per-user overrides kept in users.quota; absent fields use the configured defaults. */
export type QuotaOverrides = Partial<QuotaLimits>;

export interface CreateUserData {
  username: string;
  password?: string | null;
  email?: string | null;
  displayName?: string | null;
  role?: string | null;
}

export interface UpdateUserData {
  email?: string | null;
  displayName?: string | null;
  role?: string | null;
  disabled?: boolean | null;
  /** null clears every override; a field set to null clears that override. */
  quota?: { [K in keyof QuotaLimits]?: number | null } | null;
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  username: string;
  email?: string | null;
  displayName?: string | null;
  role: string;
}

function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

function checkPassword(password: string) {
  if (password.length < PASSWORD_MIN_LENGTH) throw badInput(`The password must be at least ${PASSWORD_MIN_LENGTH} characters long`, { field: 'password' });
  if (password.length > PASSWORD_MAX_LENGTH) throw badInput(`The password must be at most ${PASSWORD_MAX_LENGTH} characters long`, { field: 'password' });
}

function checkRole(role: string) {
  if (!ROLES.includes(role as Role)) throw badInput(`Unknown role "${role}"; expected one of ${ROLES.join(', ')}`, { field: 'role' });
}

function validEmail(email: string): boolean {
  return email.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(email);
}

function checkEmail(email: string | null | undefined) {
  if (email && !validEmail(email)) throw badInput('The email address is not valid', { field: 'email' });
}

/** The display_name column's length, in characters. */
const DISPLAY_NAME_MAX = 200;

function checkDisplayName(name: string | null | undefined) {
  if (!name) return;
  if ([...name].length > DISPLAY_NAME_MAX) throw badInput(`The display name must be at most ${DISPLAY_NAME_MAX} characters`, { field: 'displayName' });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badInput('The display name must not contain control characters (line breaks, tabs)', { field: 'displayName' });
}

/**
 * What an identity provider says, made to fit the users table: a sign-in never fails on a provider's long display
 * name (cut to the column's length, control characters as spaces) or an email the table cannot hold (dropped).
 */
function fitDisplayName(name: string | null | undefined): string | null {
  if (!name) return null;
  // eslint-disable-next-line no-control-regex
  return [...name.replace(/[\u0000-\u001f\u007f]/g, ' ')].slice(0, DISPLAY_NAME_MAX).join('') || null;
}
function fitEmail(email: string | null | undefined): string | null | undefined {
  return email === undefined || email === null ? email : validEmail(email) ? email : null;
}

/** Users: accounts, roles, passwords, quota overrides. Every change is audited in its transaction. */
/** PubSub topic: a user's role or disabled flag changed ({ userId }); crosses replicas. */
export const USER_ACCESS_CHANGED = 'USER_ACCESS_CHANGED';

/** How long a request's authentication may reuse a user's row (see UsersService.findByIdCached). */
const AUTH_CACHE_TTL_MS = 2000;
const AUTH_CACHE_MAX = 10_000;

export class UsersService {
  private readonly accessListeners = new Set<(userId: string) => void>();
  private readonly authCache = new AuthCache<UserEntity | null>({ ttlMs: AUTH_CACHE_TTL_MS, max: AUTH_CACHE_MAX });

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly logger: Logger,
  ) {}

  /**
   * Called after a user's role or disabled flag changed (committed): open sockets authenticated as that user must
   * authenticate again, so a demotion or a disable takes effect at once there too, as it does for HTTP requests.
   */
  onAccessChanged(listener: (userId: string) => void): () => void {
    this.accessListeners.add(listener);
    return () => this.accessListeners.delete(listener);
  }

  findById(id: string): Promise<UserEntity | null> {
    if (!USER_ID.test(id)) return Promise.resolve(null);
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  /**
   * The user as the authentication of every request needs it (role, disabled), from a cache of at most
   * AUTH_CACHE_TTL_MS: a request costs no SQL statement for its caller. A change of role or disabled flag on this
   * replica drops the entry before `update` returns; one made on another replica drops it when its
   * USER_ACCESS_CHANGED event arrives (auth.module.ts calls `forgetCached`), and the TTL bounds what a lost event
   * could leave. A read that raced with a change is not cached (the generation moved on meanwhile).
   */
  findByIdCached(id: string): Promise<UserEntity | null> {
    return this.authCache.read(id, () => this.findById(id), (user) => user !== null);
  }

  /** Drops a user's cached authentication entry (their access changed, here or on another replica). */
  forgetCached(userId: string): void {
    this.authCache.forget(userId);
  }

  async getById(id: string): Promise<UserEntity> {
    const user = await this.findById(id);
    if (!user) throw notFound('User', id);
    return user;
  }

  /** With the password hash (only for signing in). */
  findForLogin(username: string): Promise<UserEntity | null> {
    return this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.username = :username', { username: normalizeUsername(username) })
      .getOne();
  }

  async list(first?: number, after?: string): Promise<Connection<UserEntity>> {
    const size = pageSize(first);
    const qb = this.dataSource.getRepository(UserEntity).createQueryBuilder('u');
    const totalCount = await qb.clone().getCount();
    if (after) {
      const [username] = decodeCursor(after, 1);
      qb.where('u.username > :username', { username: String(username) });
    }
    const rows = await qb.orderBy('u.username', 'ASC').limit(size + 1).getMany();
    return toConnection(rows, size, totalCount, Boolean(after), (u) => [u.username]);
  }

  async create(data: CreateUserData, source: AuditSource): Promise<UserEntity> {
    const username = normalizeUsername(data.username);
    if (!USERNAME_PATTERN.test(username)) {
      throw badInput('The username must be 1-63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit', { field: 'username' });
    }
    const role = data.role ?? Role.USER;
    checkRole(role);
    checkEmail(data.email);
    checkDisplayName(data.displayName);
    if (data.password === undefined || data.password === null) throw badInput('A password is required for a local user', { field: 'password' });
    checkPassword(data.password);
    const passwordHash = await hashPassword(data.password);
    return this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(UserEntity);
      if (await repo.existsBy({ username })) throw usernameTaken(username);
      const user = await repo.save(
        repo.create({ username, passwordHash, email: data.email ?? null, displayName: data.displayName ?? null, role, authProvider: 'local' }),
      );
      await this.audit.record(
        { action: 'user.create', resourceType: 'user', resourceId: user.id, changes: { username, email: user.email, displayName: user.displayName, role, password: data.password }, source },
        manager,
      );
      delete (user as Partial<UserEntity>).passwordHash;
      return user;
    });
  }

  async update(id: string, data: UpdateUserData, source: AuditSource): Promise<UserEntity> {
    if (data.role !== undefined && data.role !== null) checkRole(data.role);
    checkEmail(data.email);
    checkDisplayName(data.displayName);
    // Not a user id at all: PostgreSQL would refuse it as a uuid.
    if (!USER_ID.test(id)) throw notFound('User', id);
    const updated = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(UserEntity);
      const user = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('User', id);
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const set = <K extends keyof UserEntity>(key: K, value: UserEntity[K]) => {
        if (JSON.stringify(user[key]) === JSON.stringify(value)) return;
        before[key] = user[key];
        after[key] = value;
        user[key] = value;
      };
      if (data.email !== undefined) set('email', data.email);
      if (data.displayName !== undefined) set('displayName', data.displayName);
      if (data.role !== undefined && data.role !== null) set('role', data.role);
      if (data.disabled !== undefined && data.disabled !== null) set('disabled', data.disabled);
      if (data.quota !== undefined) set('quota', mergeQuota(user.quota as QuotaOverrides | null, data.quota));
      const wasEnabledAdmin = before.role === Role.ADMIN || (user.role === Role.ADMIN && before.disabled === false);
      if (wasEnabledAdmin && (user.role !== Role.ADMIN || user.disabled)) await this.assertAnotherAdmin(manager, user.id);
      if (Object.keys(after).length) {
        await repo.save(user);
        if (after.disabled === true) await this.refreshTokens.revokeAllForUser(user.id, manager);
        await this.audit.record({ action: 'user.update', resourceType: 'user', resourceId: user.id, changes: { before, after }, source }, manager);
      }
      return { user, accessChanged: 'role' in after || 'disabled' in after };
    });
    if (updated.accessChanged) this.accessChanged(updated.user.id);
    return updated.user;
  }

  async changePassword(userId: string, currentPassword: string, newPassword: string, source: AuditSource): Promise<void> {
    checkPassword(newPassword);
    const user = await this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id: userId })
      .getOne();
    if (!user) throw notFound('User', userId);
    if (user.authProvider !== 'local' || !user.passwordHash) throw notLocalUser();
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await this.audit.record({ action: 'user.change_password', resourceType: 'user', resourceId: user.id, outcome: 'failure', source });
      throw wrongPassword();
    }
    const passwordHash = await hashPassword(newPassword);
    // The sign-in the change was made from (the access token's `sid`), when it is the user's own.
    const keptFamilyId = source.caller?.id === user.id ? source.caller.sid : undefined;
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(UserEntity).update({ id: user.id }, { passwordHash });
      // Every other browser signed in with the old password has to sign in again; this one stays signed in.
      await this.refreshTokens.revokeAllForUser(user.id, manager, keptFamilyId);
      await this.audit.record({ action: 'user.change_password', resourceType: 'user', resourceId: user.id, changes: { password: newPassword }, source }, manager);
    });
    // Their open sockets close too (on every replica), and their access tokens stop working (the sign-in is revoked).
    this.refreshTokens.announceSignOut({ userId: user.id, ...(keptFamilyId ? { exceptFamilyId: keptFamilyId } : {}) });
  }

  /**
   * An admin sets a local user's password (`password`), or has one generated (null: returned once, never stored in
   * clear or logged). Every sign-in of the user ends (refresh tokens revoked, sockets closed, access tokens refused).
   * SSO users have no password here: BAD_USER_INPUT.
   */
  async resetPassword(id: string, password: string | null | undefined, source: AuditSource): Promise<{ user: UserEntity; generated: string | null }> {
    if (password !== undefined && password !== null) checkPassword(password);
    if (!USER_ID.test(id)) throw notFound('User', id);
    const generated = password === undefined || password === null ? randomBytes(15).toString('base64url') : null;
    const passwordHash = await hashPassword(generated ?? (password as string));
    const user = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(UserEntity);
      const found = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw notFound('User', id);
      if (found.authProvider !== 'local') throw ssoUserPassword();
      await repo.update({ id }, { passwordHash });
      await this.refreshTokens.revokeAllForUser(id, manager);
      // The password itself is redacted by the audit log (like every `password` change); whether it was generated is kept.
      await this.audit.record(
        { action: 'user.reset_password', resourceType: 'user', resourceId: id, changes: { password: generated ?? password, generated: generated !== null }, source },
        manager,
      );
      return found;
    });
    this.refreshTokens.announceSignOut({ userId: id });
    this.forgetCached(id);
    return { user, generated };
  }

  /**
   * Whether an admin may delete this user: never their own account, never the last enabled admin (CONFLICT).
   * Returns the user. Called before anything is changed, and again under the row lock by `deleteAccount`.
   */
  async assertDeletable(id: string, source: AuditSource, manager?: EntityManager): Promise<UserEntity> {
    if (source.caller?.id === id) throw cannotDeleteSelf();
    if (!USER_ID.test(id)) throw notFound('User', id);
    const m = manager ?? this.dataSource.manager;
    const user = await m.getRepository(UserEntity).findOne({ where: { id }, ...(manager ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!user) throw notFound('User', id);
    if (user.role === Role.ADMIN && !user.disabled) await this.assertAnotherAdmin(m, id);
    return user;
  }

  /**
   * Disables the account first (its sign-ins end at once, it can start nothing more) while its sessions and home are
   * dealt with; `deleteAccount` then removes the row. A failure in between leaves a disabled account to retry on.
   */
  async disableForDeletion(id: string, source: AuditSource): Promise<UserEntity> {
    const user = await this.dataSource.transaction(async (manager) => {
      const found = await this.assertDeletable(id, source, manager);
      if (!found.disabled) await manager.getRepository(UserEntity).update({ id }, { disabled: true });
      await this.refreshTokens.revokeAllForUser(id, manager);
      return found;
    });
    this.refreshTokens.announceSignOut({ userId: id });
    this.accessChanged(id);
    return user;
  }

  /** Removes the user's row (favorites, shares and group memberships go with it by foreign key) and audits it. */
  async deleteAccount(id: string, details: Record<string, unknown>, source: AuditSource): Promise<UserEntity> {
    const user = await this.dataSource.transaction(async (manager) => {
      const found = await this.assertDeletable(id, source, manager);
      await this.refreshTokens.revokeAllForUser(id, manager);
      await manager.getRepository(UserEntity).delete({ id });
      await this.audit.record({ action: 'user.delete', resourceType: 'user', resourceId: id, changes: { username: found.username, role: found.role, ...details }, source }, manager);
      return found;
    });
    this.refreshTokens.announceSignOut({ userId: id });
    this.accessChanged(id);
    return user;
  }

  async recordLogin(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(UserEntity).update({ id: userId }, { lastLoginAt: new Date() });
  }

  /**
   * First start: creates the admin from STREAMSPACE_ADMIN_USERNAME / STREAMSPACE_ADMIN_PASSWORD, or with a
   * generated password written to `passwordFile` (mode 0600; the log says only where). Does nothing when any user exists.
   */
  async bootstrapAdmin(username: string, password: string | undefined, passwordFile: string): Promise<{ created: boolean; passwordFile?: string }> {
    const repo = this.dataSource.getRepository(UserEntity);
    if ((await repo.count()) > 0) return { created: false };
    const generated = password ? undefined : randomBytes(18).toString('base64url');
    // Written (beside the file) before the account exists, so an unwritable path stops the start-up before there is an
    // admin nobody can sign in as; moved into place once the account exists, so the file never holds a losing
    // replica's password.
    const pending = generated ? `${passwordFile}.${process.pid}.pending` : undefined;
    if (pending) await writeSecretFile(pending, `${generated}\n`);
    try {
      await this.create({ username, password: password ?? generated, role: Role.ADMIN, displayName: 'Administrator' }, { caller: null, requestId: 'bootstrap' });
    } catch (err) {
      if (pending) await rm(pending, { force: true });
      // Another replica created it at the same moment.
      if ((await repo.count()) > 0) return { created: false };
      throw err;
    }
    if (pending) {
      await rename(pending, passwordFile);
      // Never the password itself: logs are shipped, kept and read by more people than the admin.
      this.logger.warn({ username, passwordFile }, `Bootstrap admin "${username}" created; its generated password is in ${passwordFile} (mode 0600). Sign in, change it, and delete the file.`);
      return { created: true, passwordFile };
    }
    this.logger.info({ username }, `Bootstrap admin "${username}" created from STREAMSPACE_ADMIN_PASSWORD`);
    return { created: true };
  }

  /**
   * OIDC sign-in: finds the user by (issuer, subject), creating it on first login. The role follows
   * the identity provider's groups on every login, so removing someone from the admin group takes effect.
   */
  private accessChanged(userId: string): void {
    this.forgetCached(userId);
    for (const listener of this.accessListeners) listener(userId);
  }

  async upsertOidcUser(claimed: OidcIdentity, source: AuditSource): Promise<UserEntity> {
    const identity: OidcIdentity = { ...claimed, email: fitEmail(claimed.email), displayName: fitDisplayName(claimed.displayName) };
    let roleChanged = false;
    const user = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(UserEntity);
      const existing = await repo.findOneBy({ oidcIssuer: identity.issuer, oidcSubject: identity.subject });
      if (existing) {
        const changes: Record<string, unknown> = {};
        if (existing.role !== identity.role) changes.role = { from: existing.role, to: identity.role };
        if (identity.email !== undefined && existing.email !== (identity.email ?? null)) changes.email = identity.email;
        if (Object.keys(changes).length) {
          roleChanged = existing.role !== identity.role;
          existing.role = identity.role;
          if (identity.email !== undefined) existing.email = identity.email ?? null;
          await repo.save(existing);
          await this.audit.record({ action: 'user.update', resourceType: 'user', resourceId: existing.id, changes: { ...changes, via: 'oidc' }, source }, manager);
        }
        return existing;
      }
      let username = normalizeUsername(identity.username).replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'user';
      if (await repo.existsBy({ username })) {
        // A local account (or another provider's user) already has the name: keep both, suffix the new one.
        const base = username.slice(0, 56);
        for (let i = 2; await repo.existsBy({ username }); i++) username = `${base}-${i}`;
      }
      const user = await repo.save(
        repo.create({
          username,
          email: identity.email ?? null,
          displayName: identity.displayName ?? null,
          role: identity.role,
          authProvider: 'oidc',
          oidcIssuer: identity.issuer,
          oidcSubject: identity.subject,
          passwordHash: null,
        }),
      );
      await this.audit.record(
        { action: 'user.create', resourceType: 'user', resourceId: user.id, changes: { username, email: user.email, role: user.role, via: 'oidc', issuer: identity.issuer }, source, actor: { id: user.id, username } },
        manager,
      );
      return user;
    });
    // The provider changed the role: open sockets authenticate again and no cached authentication keeps the old one.
    if (roleChanged) this.accessChanged(user.id);
    return user;
  }

  private async assertAnotherAdmin(manager: EntityManager, exceptId: string) {
    const others = await manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.role = :role AND u.disabled = false AND u.id <> :id', { role: Role.ADMIN, id: exceptId })
      .getCount();
    if (others === 0) throw lastAdmin();
  }
}

function mergeQuota(current: QuotaOverrides | null, change: UpdateUserData['quota']): QuotaOverrides | null {
  if (change === null) return null;
  const next: QuotaOverrides = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(change ?? {}) as [keyof QuotaLimits, number | null | undefined][]) {
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else {
      if (!Number.isFinite(value) || value < 0) throw badInput(`quota.${key} must be a number of at least 0`, { field: `quota.${key}` });
      next[key] = value;
    }
  }
  return Object.keys(next).length ? next : null;
}

/** Writes `text` to a file only its owner can read (0600, also when it existed with wider rights), creating the directory (0700). */
async function writeSecretFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await openFile(file, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  await chmod(file, 0o600);
}
