import type { DataSource, EntityManager } from 'typeorm';
import { isAdmin } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import type { ShareRole } from './session-share.entity';

/** What a caller may do with a session: its owner and admins everything, access-list entries per their role. */
export type SessionAccess = 'OWNER' | 'ADMIN' | ShareRole;

/** The owner's or an admin's access, decided without the database (null: look at the access list). */
export function accessWithoutList(caller: Caller, row: { username: string }): SessionAccess | null {
  if (row.username === caller.username) return 'OWNER';
  if (isAdmin(caller)) return 'ADMIN';
  return null;
}

/** The caller's access to a session, or null (then the session answers NOT_FOUND, as if it did not exist). */
export async function sessionAccess(db: DataSource | EntityManager, caller: Caller, row: { id: string; username: string }): Promise<SessionAccess | null> {
  const direct = accessWithoutList(caller, row);
  if (direct) return direct;
  const rows = (await db.query('SELECT role FROM session_shares WHERE session_id = $1 AND user_id = $2', [row.id, caller.id])) as { role: ShareRole }[];
  return rows[0]?.role ?? null;
}
