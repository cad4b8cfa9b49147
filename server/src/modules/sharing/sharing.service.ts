import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { readsAll } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { ConnectionService } from '../connections/connection.service';
import { GATEWAY_ACCESS_ENDED, type AccessScope } from '../gateway/gateway.service';
import { SessionEntity } from '../sessions/session.entity';
import { toSessionType, type SessionService } from '../sessions/session.service';
import { accessWithoutList, listRoleSql, sessionAccess, type SessionAccess } from './session-access';
import { ShareRole } from './session-share.entity';
import { SessionShareChangeKindEnum, SessionShareRoleEnum, type SessionGroupShareType, type SessionShareType, type SharedSessionType } from './dto/session-share.type';
import {
  alreadyShared,
  alreadySharedWithGroup,
  cannotShareWithOwner,
  cannotShareWithSelf,
  invalidRole,
  notShared,
  notSharedWithGroup,
  notTheOwner,
  sharingDisabled,
  unknownGroup,
  unknownUser,
} from './sharing.errors';

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
  /**
   * list: a user entry of the list changed (the owner's view); user: that user's own access changed (their view:
   * kind and role are their effective access, whether it came by name or through a group).
   */
  audience: 'list' | 'user';
}

/** Sessions x users whose access a change may touch (read in its transaction, before it). */
export interface AccessPairs {
  sessionIds: string[];
  userIds: string[];
}

/** One user's access to one session, as the access rule decides it. */
interface AccessState {
  session_id: string;
  session_name: string;
  owner: string;
  user_id: string;
  username: string;
  display_name: string | null;
  /** The owner or an admin: the list does not matter. */
  full: boolean;
  role: ShareRole | null;
}
type AccessSnapshot = Map<string, AccessState>;

const ACCESS_STATE_SQL = `SELECT s.id AS session_id, s.name AS session_name, s.username AS owner, u.id AS user_id, u.username, u.display_name,
    (s.user_id = u.id OR u.role IN ('admin', 'operator')) AS full, ${listRoleSql('s.id', 'u.id')} AS role
  FROM sessions s CROSS JOIN users u WHERE s.id = ANY($1::uuid[]) AND u.id = ANY($2::uuid[])`;

interface GroupShareRow {
  session_id: string;
  group_id: string;
  group_name: string;
  description: string | null;
  member_count: number;
  role: string;
  shared_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const GROUP_SHARE_SELECT = `SELECT gs.session_id, gs.group_id, g.name AS group_name, g.description,
    (SELECT count(*)::int FROM group_members gm WHERE gm.group_id = gs.group_id) AS member_count,
    gs.role, cb.username AS shared_by, gs.created_at, gs.updated_at
  FROM session_group_shares gs JOIN groups g ON g.id = gs.group_id LEFT JOIN users cb ON cb.id = gs.created_by`;

function toGroupShareType(r: GroupShareRow): SessionGroupShareType {
  return {
    sessionId: r.session_id,
    groupId: r.group_id,
    group: r.group_name,
    description: r.description,
    memberCount: r.member_count,
    role: r.role as SessionShareRoleEnum,
    sharedBy: r.shared_by,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
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
  /** Whether owners may share sessions now (the features.sharing setting); absent: always. */
  sharingAllowed?: () => boolean;
}

/**
 * Sessions' access lists: user entries and group entries (every member of the group gets its role; a user's
 * strongest entry wins). Only a session's owner or an admin changes its list; each change is audited in its
 * transaction. Every change compares the access of the users it touches before and after (in its transaction);
 * after commit, access that went away ends at once (the user's open connections to that session end, and the
 * gateway on every replica checks their open sockets again, GATEWAY_ACCESS_ENDED, closing the refused ones and
 * those whose role changed), and each user whose access changed is told (SESSION_SHARES_CHANGED, audience user).
 * Group membership changes (groups/) go through the same path (changingAccess).
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

  private async groupShareRow(m: DataSource | EntityManager, sessionId: string, groupId: string): Promise<GroupShareRow | undefined> {
    const rows = (await m.query(`${GROUP_SHARE_SELECT} WHERE gs.session_id = $1 AND gs.group_id = $2`, [sessionId, groupId])) as GroupShareRow[];
    return rows[0];
  }

  private async userByName(m: DataSource | EntityManager, username: string): Promise<{ id: string; username: string }> {
    const name = username.trim().toLowerCase();
    const rows = (await m.query('SELECT id, username FROM users WHERE username = $1', [name])) as { id: string; username: string }[];
    if (!rows[0]) throw unknownUser(name);
    return rows[0];
  }

  private async groupByName(m: DataSource | EntityManager, group: string): Promise<{ id: string; name: string; members: string[] }> {
    const name = group.trim().toLowerCase();
    const rows = (await m.query('SELECT id, name FROM groups WHERE name = $1', [name])) as { id: string; name: string }[];
    if (!rows[0]) throw unknownGroup(name);
    const members = (await m.query('SELECT user_id FROM group_members WHERE group_id = $1', [rows[0].id])) as { user_id: string }[];
    return { ...rows[0], members: members.map((r) => r.user_id) };
  }

  // ---- user entries ------------------------------------------------------------------------------

  /** The access list of a session (owner or admin): its user entries. */
  async list(caller: Caller, sessionId: string): Promise<SessionShareType[]> {
    await this.managed(caller, sessionId);
    const rows = (await this.deps.dataSource.query(`${SHARE_SELECT} WHERE sh.session_id = $1 ORDER BY u.username`, [sessionId])) as ShareRow[];
    return rows.map(toShareType);
  }

  /** Refuses (FORBIDDEN, feature sharing) a new share while an admin has switched sharing off; removing one stays possible. */
  private mayShare(): void {
    if (this.deps.sharingAllowed?.() ?? true) return;
    throw sharingDisabled();
  }

  /** Adds a user to the access list. */
  async share(caller: Caller, sessionId: string, username: string, role: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    this.mayShare();
    checkRole(role);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: [(await this.userByName(m, username)).id] });
    const share = await this.changingAccess(caller, scope, async (m) => {
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
    await this.publishListChange(SessionShareChangeKindEnum.ADDED, row, share);
    return toShareType(share);
  }

  /** Changes a user's role; a demotion to viewer closes their sockets that carried input (they reconnect as viewer). */
  async updateRole(caller: Caller, sessionId: string, username: string, role: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    checkRole(role);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: [(await this.userByName(m, username)).id] });
    const share = await this.changingAccess(caller, scope, async (m) => {
      const user = await this.userByName(m, username);
      const before = (await m.query('SELECT role FROM session_shares WHERE session_id = $1 AND user_id = $2 FOR UPDATE', [row.id, user.id])) as { role: string }[];
      if (!before[0]) throw notShared(user.username);
      await m.query('UPDATE session_shares SET role = $3, updated_at = now() WHERE session_id = $1 AND user_id = $2', [row.id, user.id, role]);
      await this.deps.audit.record(
        { action: 'session.share.update', resourceType: 'session', resourceId: row.id, changes: { session: row.name, user: user.username, userId: user.id, role: { from: before[0].role, to: role } }, source },
        m,
      );
      return (await this.shareRow(m, row.id, user.id))!;
    });
    await this.publishListChange(SessionShareChangeKindEnum.UPDATED, row, share);
    return toShareType(share);
  }

  /** Removes a user from the access list: unless a group still lets them in, their connections and proxied sockets end at once. */
  async unshare(caller: Caller, sessionId: string, username: string, source: AuditSource): Promise<SessionShareType> {
    const row = await this.managed(caller, sessionId);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: [(await this.userByName(m, username)).id] });
    const share = await this.changingAccess(caller, scope, async (m) => {
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
    await this.publishListChange(SessionShareChangeKindEnum.REMOVED, row, share);
    return toShareType(share);
  }

  // ---- group entries -----------------------------------------------------------------------------

  /** The group entries of a session's access list (owner or admin). */
  async listGroups(caller: Caller, sessionId: string): Promise<SessionGroupShareType[]> {
    await this.managed(caller, sessionId);
    const rows = (await this.deps.dataSource.query(`${GROUP_SHARE_SELECT} WHERE gs.session_id = $1 ORDER BY g.name`, [sessionId])) as GroupShareRow[];
    return rows.map(toGroupShareType);
  }

  /** Shares a session with every member of a group (now and later ones). */
  async shareWithGroup(caller: Caller, sessionId: string, group: string, role: string, source: AuditSource): Promise<SessionGroupShareType> {
    const row = await this.managed(caller, sessionId);
    this.mayShare();
    checkRole(role);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: (await this.groupByName(m, group)).members });
    const share = await this.changingAccess(caller, scope, async (m) => {
      const g = await this.groupByName(m, group);
      const inserted = (await m.query(
        `INSERT INTO session_group_shares (session_id, group_id, role, created_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, group_id) DO NOTHING RETURNING group_id`,
        [row.id, g.id, role, caller.id],
      )) as unknown[];
      if (!inserted.length) throw alreadySharedWithGroup(g.name, (await this.groupShareRow(m, row.id, g.id))?.role ?? '?');
      await this.deps.audit.record(
        { action: 'session.share.group', resourceType: 'session', resourceId: row.id, changes: { session: row.name, group: g.name, groupId: g.id, role }, source },
        m,
      );
      return (await this.groupShareRow(m, row.id, g.id))!;
    });
    return toGroupShareType(share);
  }

  /** Changes a group entry's role; members whose strongest role changes get their sockets closed (they reconnect with the new one). */
  async updateGroupRole(caller: Caller, sessionId: string, group: string, role: string, source: AuditSource): Promise<SessionGroupShareType> {
    const row = await this.managed(caller, sessionId);
    checkRole(role);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: (await this.groupByName(m, group)).members });
    const share = await this.changingAccess(caller, scope, async (m) => {
      const g = await this.groupByName(m, group);
      const before = (await m.query('SELECT role FROM session_group_shares WHERE session_id = $1 AND group_id = $2 FOR UPDATE', [row.id, g.id])) as { role: string }[];
      if (!before[0]) throw notSharedWithGroup(g.name);
      await m.query('UPDATE session_group_shares SET role = $3, updated_at = now() WHERE session_id = $1 AND group_id = $2', [row.id, g.id, role]);
      await this.deps.audit.record(
        { action: 'session.share.group.update', resourceType: 'session', resourceId: row.id, changes: { session: row.name, group: g.name, groupId: g.id, role: { from: before[0].role, to: role } }, source },
        m,
      );
      return (await this.groupShareRow(m, row.id, g.id))!;
    });
    return toGroupShareType(share);
  }

  /** Removes a group entry: members nothing else lets in lose access at once. Returns the removed entry. */
  async unshareGroup(caller: Caller, sessionId: string, group: string, source: AuditSource): Promise<SessionGroupShareType> {
    const row = await this.managed(caller, sessionId);
    const scope = async (m: EntityManager) => ({ sessionIds: [row.id], userIds: (await this.groupByName(m, group)).members });
    const share = await this.changingAccess(caller, scope, async (m) => {
      const g = await this.groupByName(m, group);
      const existing = await this.groupShareRow(m, row.id, g.id);
      if (!existing) throw notSharedWithGroup(g.name);
      await m.query('DELETE FROM session_group_shares WHERE session_id = $1 AND group_id = $2', [row.id, g.id]);
      await this.deps.audit.record(
        { action: 'session.unshare.group', resourceType: 'session', resourceId: row.id, changes: { session: row.name, group: g.name, groupId: g.id, role: existing.role }, source },
        m,
      );
      return existing;
    });
    return toGroupShareType(share);
  }

  // ---- the caller's view -------------------------------------------------------------------------

  /**
   * Sessions shared with the caller, by name or through a group (not terminated ones, not their own), one entry
   * per session with their strongest role, most recently shared first.
   */
  async sharedWithMe(caller: Caller): Promise<SharedSessionType[]> {
    const shares = (await this.deps.dataSource.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (e.session_id) e.session_id, e.role, cb.username AS shared_by, e.created_at, e.via_group
         FROM (SELECT sh.session_id, sh.role, sh.created_by, sh.created_at, NULL::text AS via_group, 0 AS pref
                 FROM session_shares sh WHERE sh.user_id = $1
               UNION ALL
               SELECT gs.session_id, gs.role, gs.created_by, gs.created_at, g.name, 1
                 FROM session_group_shares gs JOIN group_members gm ON gm.group_id = gs.group_id AND gm.user_id = $1 JOIN groups g ON g.id = gs.group_id) e
         JOIN sessions s ON s.id = e.session_id
         LEFT JOIN users cb ON cb.id = e.created_by
         WHERE s.namespace = $2 AND s.state <> 'terminated' AND s.user_id <> $1
         ORDER BY e.session_id, (e.role = 'COLLABORATOR') DESC, e.pref, e.created_at
       ) x ORDER BY x.created_at DESC LIMIT 200`,
      [caller.id, this.deps.namespace],
    )) as { session_id: string; role: string; shared_by: string | null; created_at: Date; via_group: string | null }[];
    if (!shares.length) return [];
    const sessions = await this.deps.dataSource.getRepository(SessionEntity).findBy({ id: In(shares.map((s) => s.session_id)) });
    const byId = new Map(sessions.map((s) => [s.id, s]));
    return shares
      .filter((s) => byId.has(s.session_id))
      .map((s) => ({
        session: toSessionType(byId.get(s.session_id)!),
        role: s.role as SessionShareRoleEnum,
        sharedBy: s.shared_by,
        sharedAt: new Date(s.created_at),
        viaGroup: s.via_group,
      }));
  }

  /** The caller's access to many sessions (a page of them): one query for the ones not owned. */
  async accessMany(caller: Caller, sessions: readonly { id: string; user: string }[]): Promise<(SessionAccess | null)[]> {
    const direct = sessions.map((s) => accessWithoutList(caller, { username: s.user }));
    const rest = sessions.filter((_, i) => !direct[i]).map((s) => s.id);
    const roles = new Map<string, SessionAccess>();
    if (rest.length) {
      const rows = (await this.deps.dataSource.query(`SELECT x.id AS session_id, ${listRoleSql('x.id', '$1::uuid')} AS role FROM unnest($2::uuid[]) AS x(id)`, [
        caller.id,
        rest,
      ])) as { session_id: string; role: SessionAccess | null }[];
      for (const r of rows) if (r.role) roles.set(r.session_id, r.role);
    }
    return sessions.map((s, i) => direct[i] ?? roles.get(s.id) ?? null);
  }

  /** Subscription filter (sessionSharesChanged): entries of the list, for the owner of the session or an admin. */
  static canSeeList(caller: Caller | null, e: ShareEvent): boolean {
    return !!caller && e.audience === 'list' && (readsAll(caller) || caller.username === e.owner);
  }

  /** Subscription filter (mySharesChanged): changes of the caller's own access. */
  static isOwnAccess(caller: Caller | null, e: ShareEvent): boolean {
    return !!caller && e.audience === 'user' && caller.id === e.userId;
  }

  // ---- access changes ----------------------------------------------------------------------------

  /**
   * Runs `change` in a transaction, comparing the access of `scope` (read in the transaction before the change)
   * before and after it. After commit, access that went away ends at once and each user whose access changed is
   * told. Used by every change of the list here and by group membership changes (groups/).
   */
  async changingAccess<T>(actor: Caller, scope: (m: EntityManager) => Promise<AccessPairs>, change: (m: EntityManager) => Promise<T>): Promise<T> {
    const { result, before, after } = await this.deps.dataSource.transaction(async (m) => {
      const pairs = await scope(m);
      const before = await this.snapshot(m, pairs);
      const result = await change(m);
      return { result, before, after: await this.snapshot(m, pairs) };
    });
    await this.applyAccessChanges(actor, before, after);
    return result;
  }

  private async snapshot(m: EntityManager, pairs: AccessPairs): Promise<AccessSnapshot> {
    const out: AccessSnapshot = new Map();
    if (!pairs.sessionIds.length || !pairs.userIds.length) return out;
    const rows = (await m.query(ACCESS_STATE_SQL, [pairs.sessionIds, pairs.userIds])) as AccessState[];
    for (const r of rows) out.set(`${r.session_id}:${r.user_id}`, r);
    return out;
  }

  private async applyAccessChanges(actor: Caller, before: AccessSnapshot, after: AccessSnapshot): Promise<void> {
    const ended: AccessState[] = [];
    const changed: { state: AccessState; kind: SessionShareChangeKindEnum; role: ShareRole }[] = [];
    for (const [key, b] of before) {
      if (b.full) continue; // the owner and admins keep full access whatever the list says
      const a = after.get(key)?.role ?? null;
      if (a === b.role) continue;
      if (!a) ended.push(b);
      changed.push({ state: b, kind: !b.role ? SessionShareChangeKindEnum.ADDED : !a ? SessionShareChangeKindEnum.REMOVED : SessionShareChangeKindEnum.UPDATED, role: (a ?? b.role)! });
    }
    if (!changed.length) return;
    // Gateway sockets, on every replica: refused ones close, and so do those whose role changed.
    const bySession = new Map<string, string[]>();
    for (const c of changed) bySession.set(c.state.session_id, [...(bySession.get(c.state.session_id) ?? []), c.state.user_id]);
    for (const [sessionId, users] of bySession) await this.endGatewayAccess(users.length === 1 ? { sessionId, userId: users[0] } : { sessionId });
    if (ended.length) {
      const open = (await this.deps.dataSource.query(
        `SELECT c.id FROM connections c JOIN unnest($1::uuid[], $2::uuid[]) AS x(session_id, user_id) ON c.session_id = x.session_id AND c.user_id = x.user_id
         WHERE c.disconnected_at IS NULL`,
        [ended.map((e) => e.session_id), ended.map((e) => e.user_id)],
      )) as { id: string }[];
      if (open.length) await this.deps.connections.end(open.map((c) => c.id), 'unshared');
    }
    const now = new Date().toISOString();
    for (const { state, kind, role } of changed) {
      const event: ShareEvent = {
        kind,
        sessionId: state.session_id,
        owner: state.owner,
        userId: state.user_id,
        audience: 'user',
        share: { sessionId: state.session_id, user: state.username, displayName: state.display_name, role: role as SessionShareRoleEnum, sharedBy: actor.username, createdAt: now, updatedAt: now },
      };
      await this.deps.pubSub.publish(SESSION_SHARES_CHANGED as never, event as never);
      this.log.info({ session: state.session_name, user: state.username, kind, role }, "a user's access to a session changed");
    }
  }

  private async endGatewayAccess(scope: AccessScope): Promise<void> {
    await this.deps.pubSub.publish(GATEWAY_ACCESS_ENDED as never, scope as never);
  }

  private async publishListChange(kind: SessionShareChangeKindEnum, row: SessionEntity, share: ShareRow): Promise<void> {
    const t = toShareType(share);
    const event: ShareEvent = {
      kind,
      sessionId: row.id,
      owner: row.username,
      userId: share.user_id,
      audience: 'list',
      share: { ...t, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() },
    };
    await this.deps.pubSub.publish(SESSION_SHARES_CHANGED as never, event as never);
    this.log.info({ session: row.name, user: t.user, kind, role: t.role }, 'session access list changed');
  }
}

function checkRole(role: string): asserts role is ShareRole {
  if (!(Object.values(ShareRole) as string[]).includes(role)) throw invalidRole(role);
}
