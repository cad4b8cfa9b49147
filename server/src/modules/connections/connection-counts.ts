import type { DataSource, EntityManager } from 'typeorm';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { isNotFound } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { sessionObjects } from '../sessions/session.crd';
import { entityFromRow } from '../../platform/database/entity-from-row';
import { SessionEntity } from '../sessions/session.entity';
import type { ConnectionCountChangeType } from './dto/connection.type';
import type { MirrorWrites } from './connection-objects';

export const CONNECTION_COUNT_CHANGED = 'CONNECTION_COUNT_CHANGED';

export interface ConnectionCountEvent extends ConnectionCountChangeType {
  /** Owner of the session, for the subscription's authorization filter. */
  username: string;
}

/**
 * A session's connection counters: computed from the `connections` table into the session's row, published to
 * `connectionCountChanged` subscribers, and written into the Session's status (the session table then carries them).
 */
export class ConnectionCounts {
  constructor(
    private readonly deps: { dataSource: DataSource; kube: StreamSpaceApi | null; pubSub: AppPubSub; logger: Logger; mirrorWrites?: MirrorWrites },
  ) {}

  /** Open connections of a session (inside `m`'s transaction when given). */
  async open(sessionId: string, m?: EntityManager): Promise<number> {
    const rows = (await (m ?? this.deps.dataSource.manager).query('SELECT count(*)::int AS n FROM connections WHERE session_id = $1 AND disconnected_at IS NULL', [sessionId])) as { n: number }[];
    return rows[0].n;
  }

  /** Recomputes a session's counters from the connections table into its row, and returns the row (one statement). */
  async recount(sessionId: string, m?: EntityManager): Promise<SessionEntity | null> {
    const manager = m ?? this.deps.dataSource.manager;
    const rows = (await manager.query(
      `UPDATE sessions s SET active_connections = c.active, total_connections = c.total,
         last_connection_at = c.last_conn, last_disconnect_at = c.last_disc,
         last_activity_at = GREATEST(s.last_activity_at, c.last_act)
       FROM (SELECT count(*) FILTER (WHERE disconnected_at IS NULL)::int AS active, count(*)::int AS total,
               max(connected_at) AS last_conn, max(disconnected_at) AS last_disc, max(last_activity_at) AS last_act
             FROM connections WHERE session_id = $1) c
       WHERE s.id = $1
       RETURNING s.*`,
      [sessionId],
    )) as [Record<string, unknown>[], number];
    // TypeORM answers an UPDATE with [rows, affected count]; no row: the session is gone.
    return rows[0][0] ? entityFromRow(this.deps.dataSource, SessionEntity, rows[0][0]) : null;
  }

  /**
   * Tells subscribers, then writes the counts into the Session's status in the background: the table and the
   * subscribers have them at once, the Session object a moment later (`statusWritten` resolves then). Writes of one
   * Session run in the order asked, so a newer count is never overwritten by an older one from this replica.
   */
  async changed(row: SessionEntity): Promise<void> {
    await this.deps.pubSub.publish(CONNECTION_COUNT_CHANGED, {
      sessionId: row.id,
      username: row.username,
      activeConnections: row.activeConnections,
      totalConnections: row.totalConnections,
      lastConnection: row.lastConnectionAt,
      lastDisconnect: row.lastDisconnectAt,
    } satisfies ConnectionCountEvent);
    const write = () => this.writeToSession(row).then(() => undefined);
    void this.inOrder(row.name, this.deps.mirrorWrites ? () => this.deps.mirrorWrites!(write) : write);
  }

  /** The last status write asked for, per Session: the next one starts after it. */
  private readonly pending = new Map<string, Promise<void>>();

  private inOrder(name: string, write: () => Promise<void>): Promise<void> {
    const next = (this.pending.get(name) ?? Promise.resolve()).then(write, write);
    this.pending.set(name, next);
    void next.finally(() => {
      if (this.pending.get(name) === next) this.pending.delete(name);
    });
    return next;
  }

  /** Resolves when every Session status write asked for so far has run (a graceful stop waits for them). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending.values()]);
  }

  /** Merge patch of the connection fields of Session.status (the reconciler owns and preserves the rest). */
  async writeToSession(row: SessionEntity): Promise<boolean> {
    if (!this.deps.kube) return false;
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);
    const status = {
      activeConnections: row.activeConnections,
      totalConnections: row.totalConnections,
      ...(row.lastConnectionAt ? { lastConnection: iso(row.lastConnectionAt) } : {}),
      ...(row.lastDisconnectAt ? { lastDisconnect: iso(row.lastDisconnectAt) } : {}),
      ...(row.lastActivityAt ? { lastActivity: iso(row.lastActivityAt) } : {}),
    };
    const current = row.status as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => current[k] === v)) return false;
    try {
      await sessionObjects(this.deps.kube).patchStatus(row.name, { status });
      return true;
    } catch (err) {
      if (!isNotFound(err)) this.deps.logger.warn({ err: (err as Error).message, session: row.name }, 'could not write connection counts to the Session status');
      return false;
    }
  }
}
