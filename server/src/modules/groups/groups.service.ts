import type { DataSource, EntityManager } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { SharingService } from '../sharing/sharing.service';
import type { GroupMemberType, GroupSummaryType, GroupType } from './dto/group.type';
import { alreadyMember, groupNameTaken, invalidGroupDescription, invalidGroupName, notMember, unknownMember } from './group.errors';

/** Group names: stored trimmed and lower case; the characters IdP group names use (paths, e-mail-like names). */
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9 ._/:@-]{0,99}$/;
const DESCRIPTION_MAX = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreateGroupData {
  name: string;
  description?: string | null;
}

export interface UpdateGroupData {
  name?: string | null;
  description?: string | null;
}

interface GroupRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

interface MemberRow {
  group_id: string;
  user_id: string;
  username: string;
  display_name: string | null;
  added_by: string | null;
  source: string;
  added_at: Date;
}

function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  if (!GROUP_NAME_PATTERN.test(n)) throw invalidGroupName();
  return n;
}

function normalizeDescription(description: string | null | undefined): string | null {
  const d = description?.trim() ?? '';
  if (d.length > DESCRIPTION_MAX) throw invalidGroupDescription();
  return d || null;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export interface GroupsServiceDeps {
  dataSource: DataSource;
  audit: AuditService;
  sharing: SharingService;
  logger: Logger;
}

/**
 * Groups of users (admins manage them). A membership change or a deleted group changes who may use the sessions
 * shared with the group: it runs through sharing's changingAccess, so access that went away ends at once (the
 * same path as removing a user from a session's list). Every change is audited in its transaction.
 */
export class GroupsService {
  private readonly log: Logger;

  constructor(private readonly deps: GroupsServiceDeps) {
    this.log = deps.logger.child({ component: 'groups' });
  }

  /** Every group with its members, ordered by name. */
  async list(): Promise<GroupType[]> {
    const groups = (await this.deps.dataSource.query('SELECT id, name, description, created_at, updated_at FROM groups ORDER BY name')) as GroupRow[];
    return this.withMembers(this.deps.dataSource, groups);
  }

  /** One group with its members; NOT_FOUND when there is none. */
  async get(id: string, m: DataSource | EntityManager = this.deps.dataSource): Promise<GroupType> {
    const row = await this.row(m, id);
    return (await this.withMembers(m, [row]))[0];
  }

  /** The groups the caller is a member of (to share a session with one of them). */
  async mine(caller: Caller): Promise<GroupSummaryType[]> {
    return (await this.deps.dataSource.query(
      'SELECT g.id, g.name, g.description FROM groups g JOIN group_members gm ON gm.group_id = g.id WHERE gm.user_id = $1 ORDER BY g.name',
      [caller.id],
    )) as GroupSummaryType[];
  }

  async create(data: CreateGroupData, source: AuditSource): Promise<GroupType> {
    const name = normalizeName(data.name);
    const description = normalizeDescription(data.description);
    try {
      return await this.deps.dataSource.transaction(async (m) => {
        const taken = (await m.query('SELECT 1 FROM groups WHERE name = $1', [name])) as unknown[];
        if (taken.length) throw groupNameTaken(name);
        const [row] = (await m.query('INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id', [name, description])) as { id: string }[];
        await this.deps.audit.record({ action: 'group.create', resourceType: 'group', resourceId: row.id, changes: { name, description }, source }, m);
        return this.get(row.id, m);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw groupNameTaken(name);
      throw err;
    }
  }

  /** Renames a group or changes its description (entries on access lists follow the group, not its name). */
  async update(id: string, data: UpdateGroupData, source: AuditSource): Promise<GroupType> {
    const name = data.name === undefined || data.name === null ? undefined : normalizeName(data.name);
    const description = data.description === undefined ? undefined : normalizeDescription(data.description);
    try {
      return await this.deps.dataSource.transaction(async (m) => {
        const before = await this.row(m, id, true);
        if (name !== undefined && name !== before.name) {
          const taken = (await m.query('SELECT 1 FROM groups WHERE name = $1', [name])) as unknown[];
          if (taken.length) throw groupNameTaken(name);
        }
        const next = { name: name ?? before.name, description: description === undefined ? before.description : description };
        await m.query('UPDATE groups SET name = $2, description = $3, updated_at = now() WHERE id = $1', [id, next.name, next.description]);
        const changes: Record<string, unknown> = {};
        if (next.name !== before.name) changes.name = { from: before.name, to: next.name };
        if (next.description !== before.description) changes.description = { from: before.description, to: next.description };
        await this.deps.audit.record({ action: 'group.update', resourceType: 'group', resourceId: id, changes, source }, m);
        return this.get(id, m);
      });
    } catch (err) {
      if (isUniqueViolation(err) && name) throw groupNameTaken(name);
      throw err;
    }
  }

  /** Deletes a group: its memberships and its entries on access lists go with it; members nothing else lets in lose access at once. */
  async delete(caller: Caller, id: string, source: AuditSource): Promise<GroupType> {
    await this.row(this.deps.dataSource, id);
    const scope = async (m: EntityManager) => ({ sessionIds: await this.sharedSessions(m, id), userIds: await this.memberIds(m, id) });
    return this.deps.sharing.changingAccess(caller, scope, async (m) => {
      const group = await this.get(id, m);
      const sessions = await this.sharedSessions(m, id);
      await m.query('DELETE FROM groups WHERE id = $1', [id]);
      await this.deps.audit.record(
        { action: 'group.delete', resourceType: 'group', resourceId: id, changes: { name: group.name, members: group.members.map((u) => u.username), sharedSessions: sessions.length }, source },
        m,
      );
      this.log.info({ group: group.name, members: group.memberCount, sessions: sessions.length }, 'group deleted');
      return group;
    });
  }

  /** Adds a user to a group: the sessions shared with the group open to them. */
  async addMember(caller: Caller, groupId: string, username: string, source: AuditSource): Promise<GroupType> {
    await this.row(this.deps.dataSource, groupId);
    const scope = async (m: EntityManager) => ({ sessionIds: await this.sharedSessions(m, groupId), userIds: [(await this.userByName(m, username)).id] });
    return this.deps.sharing.changingAccess(caller, scope, async (m) => {
      const group = await this.row(m, groupId, true);
      const user = await this.userByName(m, username);
      const inserted = (await m.query(
        'INSERT INTO group_members (group_id, user_id, added_by) VALUES ($1, $2, $3) ON CONFLICT (group_id, user_id) DO NOTHING RETURNING user_id',
        [groupId, user.id, caller.id],
      )) as unknown[];
      if (!inserted.length) throw alreadyMember(user.username, group.name);
      await this.deps.audit.record(
        { action: 'group.member.add', resourceType: 'group', resourceId: groupId, changes: { group: group.name, user: user.username, userId: user.id }, source },
        m,
      );
      return this.get(groupId, m);
    });
  }

  /** Removes a user from a group: sessions they could use only through it close to them at once (sockets within a second, on every replica). */
  async removeMember(caller: Caller, groupId: string, username: string, source: AuditSource): Promise<GroupType> {
    await this.row(this.deps.dataSource, groupId);
    const scope = async (m: EntityManager) => ({ sessionIds: await this.sharedSessions(m, groupId), userIds: [(await this.userByName(m, username)).id] });
    return this.deps.sharing.changingAccess(caller, scope, async (m) => {
      const group = await this.row(m, groupId, true);
      const user = await this.userByName(m, username);
      const removed = (await m.query('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 RETURNING user_id', [groupId, user.id])) as [unknown[], number];
      if (!removed[0].length) throw notMember(user.username, group.name);
      await this.deps.audit.record(
        { action: 'group.member.remove', resourceType: 'group', resourceId: groupId, changes: { group: group.name, user: user.username, userId: user.id }, source },
        m,
      );
      return this.get(groupId, m);
    });
  }

  /**
   * OIDC sign-in (STREAMSPACE_OIDC_SYNC_GROUPS): the user joins the existing groups named like their IdP groups and
   * leaves those a previous sign-in added (source oidc) that the claim no longer lists; memberships an admin added
   * stay. Groups are not created here. Audited per change; lost access ends at once, as for an admin's removal.
   */
  async syncFromIdp(user: { id: string; username: string; role: string }, claimGroups: string[], source: AuditSource): Promise<void> {
    const names = [...new Set(claimGroups.map((g) => g.trim().toLowerCase()).filter(Boolean))];
    const plan = async (m: EntityManager) => {
      const wanted = (await m.query('SELECT id, name FROM groups WHERE name = ANY($1::text[])', [names])) as { id: string; name: string }[];
      const current = (await m.query('SELECT gm.group_id, gm.source, g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = $1', [user.id])) as {
        group_id: string;
        source: string;
        name: string;
      }[];
      const has = new Set(current.map((c) => c.group_id));
      const keep = new Set(wanted.map((w) => w.id));
      return { add: wanted.filter((w) => !has.has(w.id)), remove: current.filter((c) => c.source === 'oidc' && !keep.has(c.group_id)) };
    };
    const first = await plan(this.deps.dataSource.manager);
    if (!first.add.length && !first.remove.length) return;
    const scope = async (m: EntityManager) => {
      const { add, remove } = await plan(m);
      const ids = [...add.map((a) => a.id), ...remove.map((r) => r.group_id)];
      const sessions = (await m.query('SELECT DISTINCT session_id FROM session_group_shares WHERE group_id = ANY($1::uuid[])', [ids])) as { session_id: string }[];
      return { sessionIds: sessions.map((r) => r.session_id), userIds: [user.id] };
    };
    await this.deps.sharing.changingAccess(user, scope, async (m) => {
      const { add, remove } = await plan(m);
      for (const g of add) {
        await m.query("INSERT INTO group_members (group_id, user_id, source) VALUES ($1, $2, 'oidc') ON CONFLICT (group_id, user_id) DO NOTHING", [g.id, user.id]);
        await this.deps.audit.record({ action: 'group.member.add', resourceType: 'group', resourceId: g.id, changes: { group: g.name, user: user.username, userId: user.id, via: 'oidc' }, source }, m);
      }
      for (const g of remove) {
        await m.query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 AND source = 'oidc'", [g.group_id, user.id]);
        await this.deps.audit.record({ action: 'group.member.remove', resourceType: 'group', resourceId: g.group_id, changes: { group: g.name, user: user.username, userId: user.id, via: 'oidc' }, source }, m);
      }
      this.log.info({ user: user.username, joined: add.map((g) => g.name), left: remove.map((g) => g.name) }, 'group memberships follow the IdP groups claim');
    });
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private async row(m: DataSource | EntityManager, id: string, lock = false): Promise<GroupRow> {
    if (!UUID.test(id)) throw notFound('Group', id);
    const rows = (await m.query(`SELECT id, name, description, created_at, updated_at FROM groups WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as GroupRow[];
    if (!rows[0]) throw notFound('Group', id);
    return rows[0];
  }

  private async userByName(m: DataSource | EntityManager, username: string): Promise<{ id: string; username: string }> {
    const name = username.trim().toLowerCase();
    const rows = (await m.query('SELECT id, username FROM users WHERE username = $1', [name])) as { id: string; username: string }[];
    if (!rows[0]) throw unknownMember(name);
    return rows[0];
  }

  private async memberIds(m: EntityManager, groupId: string): Promise<string[]> {
    return ((await m.query('SELECT user_id FROM group_members WHERE group_id = $1', [groupId])) as { user_id: string }[]).map((r) => r.user_id);
  }

  private async sharedSessions(m: EntityManager, groupId: string): Promise<string[]> {
    return ((await m.query('SELECT session_id FROM session_group_shares WHERE group_id = $1', [groupId])) as { session_id: string }[]).map((r) => r.session_id);
  }

  private async withMembers(m: DataSource | EntityManager, groups: GroupRow[]): Promise<GroupType[]> {
    if (!groups.length) return [];
    const members = (await m.query(
      `SELECT gm.group_id, gm.user_id, u.username, u.display_name, ab.username AS added_by, gm.source, gm.added_at
       FROM group_members gm JOIN users u ON u.id = gm.user_id LEFT JOIN users ab ON ab.id = gm.added_by
       WHERE gm.group_id = ANY($1::uuid[]) ORDER BY u.username`,
      [groups.map((g) => g.id)],
    )) as MemberRow[];
    const byGroup = new Map<string, GroupMemberType[]>();
    for (const r of members) {
      const list = byGroup.get(r.group_id) ?? [];
      list.push({ userId: r.user_id, username: r.username, displayName: r.display_name, addedBy: r.added_by, source: r.source, addedAt: new Date(r.added_at) });
      byGroup.set(r.group_id, list);
    }
    return groups.map((g) => {
      const list = byGroup.get(g.id) ?? [];
      return { id: g.id, name: g.name, description: g.description, memberCount: list.length, members: list, createdAt: new Date(g.created_at), updatedAt: new Date(g.updated_at) };
    });
  }
}
