import type { KubernetesObject } from '@kubernetes/client-node';
import { In, Not, type DataSource, type EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { entityFromRow } from '../../platform/database/entity-from-row';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Informer } from '../../platform/kube/informer';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { UserEntity } from '../users/user.entity';
import { SessionEntity } from './session.entity';
import { sessionObjects, type SessionManifest } from './session.crd';

/**
 * The session table: keeps the `sessions` table of PostgreSQL a copy of the Session objects (the cluster is the source of truth), so lists
 * and filters are served from PostgreSQL. Runs on every replica (not only the leader): writes are idempotent
 * upserts keyed by the object's uid, and each replica publishes the changes to its own subscribers.
 * After a start (or a 410 re-list) the table is rebuilt from the full list: rows of sessions that no longer
 * exist are deleted.
 */

export const SESSION_UPDATED = 'SESSION_UPDATED';

/**
 * The changes of one session only (the same events as SESSION_UPDATED, also published under this topic): a
 * subscriber that follows one session is woken by its changes alone, not by every change of every session.
 */
export function sessionTopic(sessionId: string): string {
  return `${SESSION_UPDATED}:${sessionId}`;
}

export interface SessionChange {
  type: 'UPSERTED' | 'DELETED';
  session: SessionEntity;
}

/** To this replica's subscribers (every replica's table publishes its own): all sessions' topic and the session's. */
export function publishSessionChange(pubSub: AppPubSub, change: SessionChange): void {
  pubSub.publish(SESSION_UPDATED, change);
  pubSub.deliverLocally(sessionTopic(change.session.id), [change]);
}

type SessionObject = SessionManifest & KubernetesObject;

function date(v: string | Date | undefined): Date | null {
  return v ? new Date(v) : null;
}

/** Columns of a session's row that the connections table keeps (see SessionTable.write). */
const CONNECTION_COLUMNS = ['active_connections', 'total_connections', 'last_connection_at', 'last_disconnect_at', 'last_activity_at'];

export function sessionRow(obj: SessionManifest, userId: string | null): SessionEntity {
  const row = new SessionEntity();
  const status = obj.status ?? {};
  row.id = obj.metadata.uid!;
  row.name = obj.metadata.name;
  row.namespace = obj.metadata.namespace!;
  row.userId = userId;
  row.username = obj.spec.user.slice(0, 63);
  row.template = obj.spec.template;
  row.state = obj.spec.state ?? 'running';
  row.phase = status.phase ?? 'Pending';
  row.appType = obj.spec.appType ?? 'webapp';
  row.url = status.url ?? null;
  row.podName = status.podName ?? null;
  row.activeConnections = status.activeConnections ?? 0;
  row.totalConnections = status.totalConnections ?? 0;
  row.lastConnectionAt = date(status.lastConnection);
  row.lastDisconnectAt = date(status.lastDisconnect);
  row.lastActivityAt = date(status.lastActivity);
  row.resourceVersion = obj.metadata.resourceVersion ?? null;
  row.spec = obj.spec as unknown as Record<string, unknown>;
  row.status = status as unknown as Record<string, unknown>;
  row.createdAt = date(obj.metadata.creationTimestamp) ?? new Date();
  row.updatedAt = new Date();
  return row;
}

/**
 * SQL: whether the incoming version (EXCLUDED.resource_version, or a parameter) is older than the stored one. resourceVersions
 * are opaque strings to clients, but for one object they come from etcd's revision counter, which only grows;
 * anything that is not a plain integer is never called older (the write goes ahead).
 */
function incomingIsOlder(incoming: string): string {
  return `COALESCE(${incoming} ~ '^[0-9]{1,30}$' AND sessions.resource_version ~ '^[0-9]{1,30}$'
  AND ${incoming}::numeric < sessions.resource_version::numeric, false)`;
}
const INCOMING_IS_OLDER = incomingIsOlder('EXCLUDED.resource_version');

interface UpsertShape {
  columns: ColumnMetadata[];
  updates: string;
  update: string;
  updateValues: (row: SessionEntity) => unknown[];
}

export class SessionTable {
  private informer: Informer<SessionObject> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly userIds = new Map<string, string | null>();

  constructor(
    private readonly options: { kube: StreamSpaceApi; dataSource: DataSource; pubSub: AppPubSub; logger: Logger },
  ) {}

  private get namespace(): string {
    return this.options.kube.namespace;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    this.informer = sessionObjects(this.options.kube).watch();
    // Writes are serialized so an older event never overwrites a newer one.
    const serial = (fn: () => Promise<void>) => {
      this.chain = this.chain.then(fn).catch((err: Error) => logger.error({ err }, 'session table: database write failed'));
    };
    this.informer.on('add', (s) => serial(async () => void (await this.upsert(s))));
    this.informer.on('update', (s) => serial(async () => void (await this.upsert(s))));
    this.informer.on('delete', (s) => serial(() => this.remove(s)));
    this.informer.on('synced', () => serial(() => this.rebuild()));
    this.informer.on('error', (err, info) => logger.warn({ err: err.message, retryInMs: info.retryInMs }, 'session table: watch failed; retrying'));
    await this.informer.start();
    await this.informer.waitForSync();
    await this.chain;
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
    await this.chain;
  }

  /** Resolves when every event received so far is in the table (tests, and the API right after a write). */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** The cached object (for the API's reads of spec fields not in the table). */
  get(name: string): SessionObject | undefined {
    return this.informer?.get(name, this.namespace);
  }

  private async userId(username: string, manager?: EntityManager): Promise<string | null> {
    if (this.userIds.has(username)) return this.userIds.get(username)!;
    const user = await (manager ?? this.options.dataSource.manager).getRepository(UserEntity).findOne({ where: { username }, select: { id: true } });
    const id = user?.id ?? null;
    if (id) this.userIds.set(username, id);
    return id;
  }

  /** Writes one Session's row and publishes the change (SESSION_UPDATED) to this replica's subscribers. */
  async upsert(obj: SessionManifest): Promise<SessionEntity> {
    return this.announce(await this.write(obj));
  }

  /**
   * Writes one Session's row without publishing it. With `manager` (the caller's transaction, the quota lock's) the
   * row is written on the connection that holds the lock, nested as a savepoint, so no second pool connection is
   * needed; the caller announces it once that transaction has committed (before, other connections cannot see it).
   */
  async write(obj: SessionManifest, manager?: EntityManager): Promise<{ saved: SessionEntity; stale: boolean }> {
    const db = manager ?? this.options.dataSource.manager;
    const row = sessionRow(obj, await this.userId(obj.spec.user, manager));
    // Most writes are a newer version of a row the table holds (every status change of a running session comes
    // through the watch): one UPDATE by id. The row's lock serializes it with any other writer of the same id, and
    // its namespace and name cannot change, so neither the turn-taking lock nor the delete below is needed. No row
    // back (a new session, or an older version than the table's) takes the full path, which tells the two apart.
    const { update, updateValues } = this.upsertShape(db);
    // TypeORM answers an UPDATE with [rows, affected count].
    const [updated] = (await db.query(update, updateValues(row))) as [Record<string, unknown>[], number];
    if (updated[0]) return { saved: entityFromRow(this.options.dataSource, SessionEntity, updated[0]), stale: false };
    const written = await db.transaction(async (m) => {
      // The watch and the API call that created the Session write the same row at nearly the same moment (on any
      // replica). ON CONFLICT (id) alone does not cover a concurrent insert that collides on (namespace, name)
      // first, so writers of one session take turns.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`session:${row.namespace}/${row.name}`]);
      // A Session deleted and re-created under the same name has a new uid: drop the old row first.
      await m.query('DELETE FROM sessions WHERE namespace = $1 AND name = $2 AND id <> $3', [row.namespace, row.name, row.id]);
      // One statement writes the row and returns it. The API writes the object its own call returned, outside the
      // watch's order: by then the watch may already have stored a newer version (kwok makes a pod Ready within
      // 100 ms), so an older version never overwrites it (no row comes back: the write is stale).
      // The connection counters and activity are the connections table's (written with each connect, disconnect
      // and heartbeat batch); the Session's status carries a copy that lags behind them. A new row takes them from
      // the status (a table rebuilt from the cluster); an existing row keeps its own, never set back by an older copy.
      const { columns, updates } = this.upsertShape(m);
      const rows = (await m.query(
        `INSERT INTO sessions (${columns.map((c) => c.databaseName).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
         ON CONFLICT (id) DO UPDATE SET ${updates} WHERE NOT ${INCOMING_IS_OLDER} RETURNING *`,
        columns.map((c) => c.getEntityValue(row)),
      )) as Record<string, unknown>[];
      return rows[0];
    });
    if (written) return { saved: entityFromRow(this.options.dataSource, SessionEntity, written), stale: false };
    // Stale: the newer row the table holds is what the caller gets back.
    return { saved: (await db.getRepository(SessionEntity).findOneBy({ id: row.id })) ?? row, stale: true };
  }

  /**
   * The columns of an insert, and the SET list of a newer version: every column but the id and CONNECTION_COLUMNS;
   * and the same write as one UPDATE by id (the fast path of `write`), with its parameters.
   */
  private shape: UpsertShape | undefined;
  private upsertShape(m: EntityManager): UpsertShape {
    if (this.shape) return this.shape;
    const columns = m.connection.getMetadata(SessionEntity).columns;
    const updated = columns.filter((c) => c.databaseName !== 'id' && !CONNECTION_COLUMNS.includes(c.databaseName));
    const updates = updated.map((c) => `${c.databaseName} = EXCLUDED.${c.databaseName}`).join(', ');
    const id = columns.find((c) => c.databaseName === 'id')!;
    const version = updated.findIndex((c) => c.databaseName === 'resource_version') + 1;
    const update = `UPDATE sessions SET ${updated.map((c, i) => `${c.databaseName} = $${i + 1}`).join(', ')}
      WHERE id = $${updated.length + 1} AND NOT ${incomingIsOlder(`$${version}::text`)} RETURNING *`;
    const updateValues = (row: SessionEntity) => [...updated.map((c) => c.getEntityValue(row)), id.getEntityValue(row)];
    return (this.shape = { columns, updates, update, updateValues });
  }

  /** Publishes a written row (a stale write is not: the table already holds something newer, and its event was sent). */
  async announce(written: { saved: SessionEntity; stale: boolean }): Promise<SessionEntity> {
    if (!written.stale) publishSessionChange(this.options.pubSub, { type: 'UPSERTED', session: written.saved });
    return written.saved;
  }

  private async remove(obj: SessionManifest) {
    const repo = this.options.dataSource.getRepository(SessionEntity);
    const existing = await repo.findOneBy({ id: obj.metadata.uid! });
    await repo.delete({ id: obj.metadata.uid! });
    const row = existing ?? sessionRow(obj, null);
    publishSessionChange(this.options.pubSub, { type: 'DELETED', session: row });
  }

  private async rebuild() {
    const items = this.informer!.list(this.namespace);
    for (const s of items) await this.upsert(s);
    const ids = items.map((s) => s.metadata.uid!);
    const repo = this.options.dataSource.getRepository(SessionEntity);
    const stale = await repo.find({ where: { namespace: this.namespace, ...(ids.length ? { id: Not(In(ids)) } : {}) } });
    for (const row of stale) {
      await repo.delete({ id: row.id });
      publishSessionChange(this.options.pubSub, { type: 'DELETED', session: row });
    }
    this.options.logger.info({ sessions: items.length, removed: stale.length }, 'session table: table rebuilt from the cluster');
  }
}
