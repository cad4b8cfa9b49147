import type { DataSource, EntityManager } from 'typeorm';
import { readsAll } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import type { ShareRole } from './session-share.entity';

/** What a caller may do with a session: its owner, admins and operators everything (auditors: read it), access-list entries per their role. */
export type SessionAccess = 'OWNER' | 'ADMIN' | ShareRole;

/** The owner's or an admin's access, decided without the database (null: look at the access list). */
export function accessWithoutList(caller: Caller, row: { username: string }): SessionAccess | null {
  if (row.username === caller.username) return 'OWNER';
  // Admins and operators manage every session; auditors read it (every mutation refuses them by role).
  if (readsAll(caller)) return 'ADMIN';
  return null;
}

/**
 * SQL: a user's role on a session through its access list, or NULL. The list holds user entries and group entries
 * (every member of the group); the strongest role wins (COLLABORATOR over VIEWER). `session` and `user` are SQL
 * expressions (columns or parameters) of the surrounding query. The one place the list is read: the API's checks,
 * "shared with me" and the gateway's access query all use it.
 */
export function listRoleSql(session: string, user: string): string {
  return `(SELECT CASE WHEN bool_or(e.role = 'COLLABORATOR') THEN 'COLLABORATOR' WHEN bool_or(e.role = 'VIEWER') THEN 'VIEWER' END
    FROM (SELECT sh.role FROM session_shares sh WHERE sh.session_id = ${session} AND sh.user_id = ${user}
          UNION ALL
          SELECT gs.role FROM session_group_shares gs JOIN group_members gm ON gm.group_id = gs.group_id
          WHERE gs.session_id = ${session} AND gm.user_id = ${user}) e)`;
}

/** The caller's access to a session, or null (then the session answers NOT_FOUND, as if it did not exist). */
export async function sessionAccess(db: DataSource | EntityManager, caller: Caller, row: { id: string; username: string }): Promise<SessionAccess | null> {
  const direct = accessWithoutList(caller, row);
  if (direct) return direct;
  const rows = (await db.query(`SELECT ${listRoleSql('$1::uuid', '$2::uuid')} AS role`, [row.id, caller.id])) as { role: ShareRole | null }[];
  return rows[0]?.role ?? null;
}
