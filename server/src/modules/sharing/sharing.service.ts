import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { isAdmin } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { ConnectionService } from '../connections/connection.service';
import { GATEWAY_ACCESS_ENDED, type AccessScope } from '../gateway/gateway.service';
import { SessionEntity } from '../sessions/session.entity';
import { toSessionType, type SessionService } from '../sessions/session.service';
import { accessWithoutList, sessionAccess, type SessionAccess } from './session-access';
import { ShareRole } from './session-share.entity';
import { SessionShareChangeKindEnum, SessionShareRoleEnum, type SessionShareType, type SharedSessionType } from './dto/session-share.type';
import { alreadyShared, cannotShareWithOwner, cannotShareWithSelf, invalidRole, notShared, notTheOwner, unknownUser } from './sharing.errors';

/** PubSub topic (crosses replicas): an entry of a session's access list was added, changed or removed. */
export const SESSION_SHARES_CHANGED = 'SESSION_SHARES_CHANGED';

/** What SESSION_SHARES_CHANGED carries (plain JSON: it crosses replicas). */
export interface ShareEvent {
  kind: SessionShareChangeKindEnum;
  sessionId: string;
  /** The session owner's username (the owner's subscriptions filter on it). */
  owner: string;
  /** The user the entry is about. */
  userId: string;
  share: Omit<SessionShareType, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };
}

interface ShareRow {
  session_id: string;
  user_id: string;
  username: string;
  display_name: string | null;
  role: string;
  shared_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const SHARE_SELECT = `SELECT sh.session_id, sh.user_id, u.username, u.display_name, sh.role, cb.username AS shared_by, sh.created_at, sh.updated_at
  FROM session_shares sh JOIN users u ON u.id = sh.user_id LEFT JOIN users cb ON cb.id = sh.created_by`;

function toShareType(r: ShareRow): SessionShareType {
  return {
    sessionId: r.session_id,
    user: r.username,
    displayName: r.display_name,
    role: r.role as SessionShareRoleEnum,
    sharedBy: r.shared_by,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export function shareFromEvent(e: ShareEvent): SessionShareType {
  return { ...e.share, createdAt: new Date(e.share.createdAt), updatedAt: new Date(e.share.updatedAt) };
}

export interface SharingServiceDeps {
  dataSource: DataSource;
  namespace: string;
  audit: AuditService;
  sessions: SessionService;
  connections: ConnectionService;
  pubSub: AppPubSub;
  logger: Logger;
}

/**
 * Sessions' access lists. Only a session's owner or an admin changes its list; each change is audited in its
 * transaction, published (SESSION_SHARES_CHANGED, to every replica), and a removal or a demotion to viewer ends
 * gateway access at once: the removed user's open connections are ended and the gateway, on every replica,
 * checks its open sockets of that user and session again (GATEWAY_ACCESS_ENDED) and closes the refused ones.
 */
export class SharingService {
  private readonly log: Logger;

  constructor(private readonly deps: SharingServiceDeps) {
    this.log = deps.logger.child({ component: 'sharing' });
  }

  /** The session, when the caller may manage its list; NOT_FOUND for strangers, FORBIDDEN for list entries. */
  private async managed(caller: Caller, sessionId: string): Promise<SessionEntity> {
    const row = await this.deps.sessions.findRow(sessionId);
    if (!row) throw notFound('Session', sessionId);
    if (accessWithoutList(caller, row)) return row;
    if (await sessionAccess(this.deps.dataSource, caller, row)) throw notTheOwner();
    throw notFound('Session', sessionId);
  }

  private async shareRow(m: DataSource | EntityManager, sessionId: string, userId: string): Promise<ShareRow | undefined> {
    const rows = (await m.query(`${SHARE_SELECT} WHERE sh.session_id = $1 AND sh.user_id = $2`, [sessionId, userId])) as ShareRow[];
    return rows[0];
  }

  private async userByName(m: DataSource | EntityManager, username: string): Promise<{ id: string; username: string }> {
    const name = username.trim().toLowerCase();
    const rows = (await m.query('SELECT id, username FROM users WHERE username = $1', [name])) as { id: string; username: string }[];
    if (!rows[0]) throw unknownUser(name);
    return rows[0];
  }

  /** The access list of a session (owner or admin). */
  async list(caller: Caller, sessionId: string): Promise<SessionShareType[]> {
    await this.managed(caller, sessionId);
    const rows = (await this.deps.dataSource.query(`${SHARE_SELECT} WHERE sh.session_id = $1 ORDER BY u.username`, [sessionId])) as ShareRow[];
    return rows.map(toShareType);
  }

  /** Adds a user to the access list. */
  async share(caller: Caller, sessionId: string, username: string, role: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    checkRole(role);
    const share = await this.deps.dataSource.transaction(async (m) => {
      const user = await this.userByName(m, username);
      if (user.id === caller.id) throw cannotShareWithSelf();
      if (user.username === row.username) throw cannotShareWithOwner(user.username);
      const inserted = (await m.query(
        `INSERT INTO session_shares (session_id, user_id, role, created_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, user_id) DO NOTHING RETURNING user_id`,
        [row.id, user.id, role, caller.id],
      )) as unknown[];
      if (!inserted.length) throw alreadyShared(user.username, (await this.shareRow(m, row.id, user.id))?.role ?? '?');
      await this.deps.audit.record(
        { action: 'session.share', resourceType: 'session', resourceId: row.id, changes: { session: row.name, user: user.username, userId: user.id, role }, source },
        m,
      );
      return (await this.shareRow(m, row.id, user.id))!;
    });
    await this.publish(SessionShareChangeKindEnum.ADDED, row, share);
    return toShareType(share);
  }

  /** Changes a user's role; a demotion to viewer closes their sockets that carried input (they reconnect as viewer). */
  async updateRole(caller: Caller, sessionId: string, username: string, role: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    checkRole(role);
    const { share, from } = await this.deps.dataSource.transaction(async (m) => {
      const user = await this.userByName(m, username);
      const before = (await m.query('SELECT role FROM session_shares WHERE session_id = $1 AND user_id = $2 FOR UPDATE', [row.id, user.id])) as { role: string }[];
      if (!before[0]) throw notShared(user.username);
      await m.query('UPDATE session_shares SET role = $3, updated_at = now() WHERE session_id = $1 AND user_id = $2', [row.id, user.id, role]);
      await this.deps.audit.record(
        { action: 'session.share.update', resourceType: 'session', resourceId: row.id, changes: { session: row.name, user: user.username, userId: user.id, role: { from: before[0].role, to: role } }, source },
        m,
      );
      return { share: (await this.shareRow(m, row.id, user.id))!, from: before[0].role };
    });
    if (from !== role) await this.endGatewayAccess({ sessionId: row.id, userId: share.user_id });
    await this.publish(SessionShareChangeKindEnum.UPDATED, row, share);
    return toShareType(share);
  }

  /** Removes a user from the access list: their open connections end and their proxied sockets close at once. */
  async unshare(caller: Caller, sessionId: string, username: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    const share = await this.deps.dataSource.transaction(async (m) => {
      const user = await this.userByName(m, username);
      const existing = await this.shareRow(m, row.id, user.id);
      if (!existing) throw notShared(user.username);
      await m.query('DELETE FROM session_shares WHERE session_id = $1 AND user_id = $2', [row.id, user.id]);
      await this.deps.audit.record(
        { action: 'session.unshare', resourceType: 'session', resourceId: row.id, changes: { session: row.name, user: user.username, userId: user.id, role: existing.role }, source },
        m,
      );
      return existing;
    });
    const open = (await this.deps.dataSource.query('SELECT id FROM connections WHERE session_id = $1 AND user_id = $2 AND disconnected_at IS NULL', [row.id, share.user_id])) as {
      id: string;
    }[];
    await this.endGatewayAccess({ sessionId: row.id, userId: share.user_id });
    if (open.length) await this.deps.connections.end(open.map((c) => c.id), 'unshared');
    await this.publish(SessionShareChangeKindEnum.REMOVED, row, share);
    return toShareType(share);
  }

  /** Sessions shared with the caller (not terminated ones), most recently shared first. */
  async sharedWithMe(caller: Caller): Promise<SharedSessionType[]> {
    const shares = (await this.deps.dataSource.query(
      `${SHARE_SELECT} JOIN sessions s ON s.id = sh.session_id
       WHERE sh.user_id = $1 AND s.namespace = $2 AND s.state <> 'terminated' ORDER BY sh.created_at DESC LIMIT 200`,
      [caller.id, this.deps.namespace],
    )) as ShareRow[];
    if (!shares.length) return [];
    const sessions = await this.deps.dataSource.getRepository(SessionEntity).findBy({ id: In(shares.map((s) => s.session_id)) });
    const byId = new Map(sessions.map((s) => [s.id, s]));
    return shares
      .filter((s) => byId.has(s.session_id))
      .map((s) => ({ session: toSessionType(byId.get(s.session_id)!), role: s.role as SessionShareRoleEnum, sharedBy: s.shared_by, sharedAt: new Date(s.created_at) }));
  }

  /** The caller's access to many sessions (a page of them): one query for the ones not owned. */
  async accessMany(caller: Caller, sessions: readonly { id: string; user: string }[]): Promise<(SessionAccess | null)[]> {
    const direct = sessions.map((s) => accessWithoutList(caller, { username: s.user }));
    const rest = sessions.filter((_, i) => !direct[i]).map((s) => s.id);
    const roles = new Map<string, SessionAccess>();
    if (rest.length) {
      const rows = (await this.deps.dataSource.query('SELECT session_id, role FROM session_shares WHERE user_id = $1 AND session_id = ANY($2::uuid[])', [caller.id, rest])) as {
        session_id: string;
        role: SessionAccess;
      }[];
      for (const r of rows) roles.set(r.session_id, r.role);
    }
    return sessions.map((s, i) => direct[i] ?? roles.get(s.id) ?? null);
  }

  /** Subscription filter: the owner of the session, an admin, or the user the entry is about. */
  static canSee(caller: Caller | null, e: ShareEvent): boolean {
    return !!caller && (isAdmin(caller) || caller.username === e.owner || caller.id === e.userId);
  }

  private async endGatewayAccess(scope: AccessScope): Promise<void> {
    await this.deps.pubSub.publish(GATEWAY_ACCESS_ENDED as never, scope as never);
  }

  private async publish(kind: SessionShareChangeKindEnum, row: SessionEntity, share: ShareRow): Promise<void> {
    const t = toShareType(share);
    const event: ShareEvent = { kind, sessionId: row.id, owner: row.username, userId: share.user_id, share: { ...t, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() } };
    await this.deps.pubSub.publish(SESSION_SHARES_CHANGED as never, event as never);
    this.log.info({ session: row.name, user: t.user, kind, role: t.role }, 'session access list changed');
  }
}

function checkRole(role: string): asserts role is ShareRole {
  if (!(Object.values(ShareRole) as string[]).includes(role)) throw invalidRole(role);
}
