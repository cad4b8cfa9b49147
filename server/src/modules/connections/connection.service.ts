import pLimit from 'p-limit';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ConnectionsConfig } from '../../config/config';
import { operatesAll, readsAll } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { noCluster } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { AUDIT_COLUMNS, auditRowParams, auditRowPlaceholders, type AuditService, type AuditSource } from '../audit/audit.service';
import { entityFromRow } from '../../platform/database/entity-from-row';
import { sessionAccess, type SessionAccess } from '../sharing/session-access';
import type { SessionProgressType } from '../sessions/dto/session-progress.type';
import type { SessionSpec } from '../sessions/session.crd';
import { SessionEntity } from '../sessions/session.entity';
import { findSessionRow, toSessionType, type SessionService } from '../sessions/session.service';
import { templateObjects, type TemplateSpec } from '../templates/template.crd';
import type { TemplateService } from '../templates/template.service';
import { ConnectionCounts } from './connection-counts';
import { ConnectionEntity } from './connection.entity';
import { tooManyConnections, viewerCannotStart } from './connection.errors';
import { ConnectionObjects } from './connection-objects';
import type { ClientConnectionType, ConnectSessionResultType } from './dto/connection.type';
import { HeartbeatBatcher } from './heartbeat-batcher';
import { IdleDecisions, type IdleDecision } from './idle-rules';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A connection in one statement: the count of the session's connections (refusing the insert when the limit in $6
 * is reached), the row, the session's counters (as `recount` computes them, plus the new row, which the statement's
 * own snapshot cannot see), the audit entry and, with the gateway, the single-use ticket bound to the new row ($7,
 * $8: the gateway's prepared hash and expiry). Answers one row: the updated session's columns with the new
 * connection's id and time (both null when refused), the open count before, and whether the session exists.
 */
const CONNECT_SQL = `
WITH before AS (
  SELECT count(*) FILTER (WHERE disconnected_at IS NULL)::int AS active, count(*)::int AS total
  FROM connections WHERE session_id = $1
), target AS (
  SELECT id FROM sessions WHERE id = $1
), c AS (
  INSERT INTO connections (session_id, user_id, client_ip, user_agent, beacon_token_hash)
  SELECT target.id, $2, $3, $4, $5 FROM target, before WHERE $6::int IS NULL OR before.active < $6::int
  RETURNING id, connected_at
), s AS (
  UPDATE sessions s SET active_connections = before.active + 1, total_connections = before.total + 1,
    last_connection_at = c.connected_at, last_activity_at = GREATEST(s.last_activity_at, c.connected_at)
  FROM before, c WHERE s.id = $1
  RETURNING s.*
), audit AS (
  INSERT INTO audit_log (${AUDIT_COLUMNS})
  SELECT a.actor_id, a.actor_username, a.action, a.resource_type, a.resource_id, a.outcome,
    a.changes || jsonb_build_object('connectionId', c.id, 'activeConnections', s.active_connections), a.request_id, a.client_ip
  FROM (SELECT ${auditRowPlaceholders(9)}) AS a(${AUDIT_COLUMNS}), c, s
), ticket AS (
  INSERT INTO gateway_tickets (ticket_hash, session_id, user_id, connection_id, expires_at)
  SELECT $7::varchar, $1, $2, c.id, $8::timestamptz FROM c WHERE $7::varchar IS NOT NULL
)
SELECT s.*, c.id AS connection_id, c.connected_at AS connection_connected_at, before.active AS open_before,
  EXISTS (SELECT 1 FROM target) AS session_exists
FROM before LEFT JOIN c ON true LEFT JOIN s ON true`;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Kubernetes (CEL isIP) wants plain IPv4 for IPv4-mapped IPv6 addresses. */
export function plainIp(ip: string | undefined | null): string | null {
  if (!ip) return null;
  const v = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return v.slice(0, 45);
}

export function toConnectionType(row: ConnectionEntity & { username?: string | null }): ClientConnectionType {
  return {
    id: row.id,
    sessionId: row.sessionId,
    user: row.username ?? null,
    clientIp: row.clientIp,
    userAgent: row.userAgent,
    connectedAt: row.connectedAt,
    lastActivity: row.lastActivityAt,
    disconnectedAt: row.disconnectedAt,
    disconnectReason: row.disconnectReason,
  };
}

export interface ConnectionServiceDeps {
  dataSource: DataSource;
  /** A small pool of its own for heartbeats, so they never queue behind other queries. */
  heartbeatPool: Pool;
  kube: StreamSpaceApi | null;
  namespace: string;
  config: ConnectionsConfig;
  audit: AuditService;
  /** Templates as the watch cache has them (null: read the API server, as without a cluster). */
  templates?: Pick<TemplateService, 'cachedObject' | 'cachedObjects' | 'cachedObjectNow'> | null;
  /** Starts the session of a connect and waits until it is ready (null without a cluster). */
  sessions: SessionService | null;
  pubSub: AppPubSub;
  logger: Logger;
}

/**
 * Connections: who is attached to which session. The `connections` table is the record (rows are kept as
 * history once ended); each open connection is also a Connection object in the cluster (`objects`), and the
 * Session's status carries the counts (`counts`). Heartbeats only move `last_activity_at` (batched, see
 * HeartbeatBatcher). Starting a session for a connect is the sessions module's (SessionStartup).
 */
/**
 * Background writes of the Kubernetes mirrors (Connection objects, the counts in Session status) in flight at once,
 * for all sessions. Each takes an API-server socket: unbounded, 300 connects in a row opened ~80 TLS connections (a
 * handshake each, on both ends) and the API server's own work for the burst delayed the next connects.
 */
const MIRROR_WRITES = 4;

export class ConnectionService {
  readonly heartbeats: HeartbeatBatcher;
  readonly counts: ConnectionCounts;
  readonly objects: ConnectionObjects;
  /**
   * Set when the session gateway runs: connectSession then answers a single-use ticket URL on the session's
   * gateway address instead of the session's own URL, which users can no longer reach directly. The ticket is
   * stored by the connect's own statement, with the connection it is bound to.
   */
  gatewayTicket: ((sessionId: string, appPath?: string) => Promise<{ url: string; ticketHash: string; expiresAt: Date }>) | null = null;
  private readonly log: Logger;
  /** Session.idle's decisions, kept while their inputs are unchanged (a list asks for them again and again). */
  private readonly idleDecisions = new IdleDecisions();

  constructor(private readonly deps: ConnectionServiceDeps) {
    this.heartbeats = new HeartbeatBatcher(deps.heartbeatPool);
    this.log = deps.logger.child({ component: 'connections' });
    // The Kubernetes mirrors' writes share one bound (MIRROR_WRITES in flight): a burst of connects then queues its
    // writes here instead of opening a TLS connection to the API server per write in flight.
    const mirrorWrites = pLimit(MIRROR_WRITES);
    this.counts = new ConnectionCounts({ dataSource: deps.dataSource, kube: deps.kube, pubSub: deps.pubSub, logger: this.log, mirrorWrites });
    this.objects = new ConnectionObjects({ kube: deps.kube, logger: this.log, mirrorWrites });
  }

  async stop(): Promise<void> {
    await this.heartbeats.stop();
    // The mirrors' writes still queued go out before the cluster client is gone.
    await Promise.all([this.objects.flush(), this.counts.flush()]);
  }

  // ---- reads -----------------------------------------------------------------------------------

  private sessionRow(id: string): Promise<SessionEntity | null> {
    return findSessionRow(this.deps.dataSource, this.deps.namespace, id);
  }

  /** The session's template spec (null when it is gone). */
  async templateSpec(name: string): Promise<Partial<TemplateSpec> & { idleTimeout?: string } | null> {
    if (!this.deps.kube) return null;
    const obj = this.deps.templates ? await this.deps.templates.cachedObject(name) : await templateObjects(this.deps.kube).find(name);
    return obj ? ((obj.spec ?? {}) as Partial<TemplateSpec>) : null;
  }

  /**
   * Owner, admin, or an entry of the session's access list (multi-user templates included: being on the list is
   * what lets someone join); else NOT_FOUND, exactly like a session that does not exist.
   */
  private async visibleSession(caller: Caller, id: string, forConnect: boolean): Promise<{ row: SessionEntity; access: SessionAccess; template: Awaited<ReturnType<ConnectionService['templateSpec']>> }> {
    const row = await this.sessionRow(id);
    if (!row) throw notFound('Session', id);
    const access = await sessionAccess(this.deps.dataSource, caller, row);
    if (!access) throw notFound('Session', id);
    return { row, access, template: forConnect ? await this.templateSpec(row.template) : null };
  }

  /** Connections of a session (owner or admin): open ones first, newest first. */
  async listForSession(caller: Caller, sessionId: string, includeEnded = false): Promise<ClientConnectionType[]> {
    const row = await this.sessionRow(sessionId);
    if (!row || !(readsAll(caller) || row.username === caller.username)) throw notFound('Session', sessionId);
    const rows = await this.deps.dataSource.query(
      `SELECT c.*, u.username FROM connections c LEFT JOIN users u ON u.id = c.user_id
       WHERE c.session_id = $1 ${includeEnded ? '' : 'AND c.disconnected_at IS NULL'}
       ORDER BY (c.disconnected_at IS NULL) DESC, c.connected_at DESC LIMIT 200`,
      [sessionId],
    );
    return (rows as Record<string, unknown>[]).map((r) =>
      toConnectionType({
        id: r.id,
        sessionId: r.session_id,
        userId: r.user_id,
        username: r.username,
        clientIp: r.client_ip,
        userAgent: r.user_agent,
        connectedAt: r.connected_at,
        lastActivityAt: r.last_activity_at,
        disconnectedAt: r.disconnected_at,
        disconnectReason: r.disconnect_reason,
      } as ConnectionEntity & { username: string | null }),
    );
  }

  /**
   * Session.idle for many sessions at once (a list page): the idle decisions of sessions, each given as its table row
   * (a page already read) or its id (read here, one statement for all of them). The templates' idle timeouts come
   * from the templates' watch cache.
   */
  async idleMany(sessions: readonly (SessionEntity | string)[]): Promise<(IdleDecision | Error)[]> {
    const missing = sessions.filter((s): s is string => typeof s === 'string');
    const read = missing.length ? await this.deps.dataSource.getRepository(SessionEntity).findBy({ id: In(missing) }) : [];
    const byId = new Map(read.map((r) => [r.id, r]));
    const templateIdle = new Map<string, string | null>();
    if (this.deps.kube && (read.length || missing.length < sessions.length)) {
      // From the templates' watch cache: a list page must not cost an API-server LIST.
      const templates = this.deps.templates ? await this.deps.templates.cachedObjects() : await templateObjects(this.deps.kube).list();
      for (const t of templates) templateIdle.set(t.metadata.name, t.spec?.idleTimeout ?? null);
    }
    return sessions.map((s) => {
      const row = typeof s === 'string' ? byId.get(s) : s;
      return row ? this.idleDecisions.decide(row, templateIdle.get(row.template) ?? null, this.deps.config.defaultIdleTimeoutMs) : notFound('Session', s as string);
    });
  }

  /**
   * The idle decision of a session from its table row without waiting, when the templates' watch cache can tell its
   * template's idle timeout now (else undefined: `idleMany` then decides). Same rules and inputs as `idleMany`.
   */
  idleNow(row: SessionEntity): IdleDecision | undefined {
    let templateIdle: string | null = null;
    if (this.deps.kube) {
      const template = this.deps.templates?.cachedObjectNow(row.template);
      if (template === undefined) return undefined;
      templateIdle = template?.spec?.idleTimeout ?? null;
    }
    return this.idleDecisions.decide(row, templateIdle, this.deps.config.defaultIdleTimeoutMs);
  }

  // ---- connect ---------------------------------------------------------------------------------

  /**
   * Connects the caller to a session: checks access and maxConnections, has the sessions module start it when
   * needed (hibernated: woken; terminated: replaced by a new session of its owner; both only when autoStart
   * allows) and wait until its pod is Ready (or fail with why not), then records the connection.
   */
  async connect(caller: Caller, sessionId: string, source: AuditSource & { userAgent?: string }): Promise<ConnectSessionResultType> {
    const { row: first, template, access } = await this.visibleSession(caller, sessionId, true);
    const sessions = this.deps.sessions;
    if (!sessions) throw noCluster('sessions and templates');
    // A viewer only watches: starting the owner's session (and its cost) is for the owner and collaborators.
    if (access === 'VIEWER' && first.state !== 'running') throw viewerCannotStart(first.name, first.state);
    const spec = first.spec as Partial<SessionSpec>;
    const limit = this.limitOf(spec, template);
    if (limit && first.activeConnections >= limit.maximum) {
      // Fast refusal before any start-up; the authoritative check is in the insert's transaction.
      const active = await this.counts.open(first.id);
      if (active >= limit.maximum) throw tooManyConnections(first.name, limit.maximum, active, limit.source);
    }
    const row = await sessions.startup.ensureRunning(caller, first, source);
    // A terminated session was replaced by a new one: its own settings decide the limit.
    const limitFinal = row.id === first.id ? limit : this.limitOf(row.spec as Partial<SessionSpec>, template ?? (await this.templateSpec(row.template)));
    const ready = await sessions.startup.waitUntilReady(row);
    const beaconToken = randomBytes(24).toString('base64url');
    const ticket = this.gatewayTicket ? await this.gatewayTicket(row.id, new URL(ready.url!).pathname) : null;
    const { connection, session } = await this.record(caller, row, limitFinal, hashToken(beaconToken), ticket, source);
    // The Kubernetes mirrors (the Connection object, the counts in the Session status) are written in the
    // background, in order per object: the table is the record, and the answer need not wait for the API server.
    void this.objects.create(connection, ready, caller.username);
    await this.counts.changed(session);
    return {
      connectionId: connection.id,
      url: ticket ? ticket.url : ready.url!,
      session: toSessionType(session),
      beaconToken,
      heartbeatIntervalSeconds: Math.max(1, Math.floor(this.deps.config.heartbeatIntervalMs / 1000)),
    };
  }

  /**
   * Records the connection, the session's counters and the audit entry in one statement (CONNECT_SQL). With a
   * limit, the session's row is locked first by a statement of its own, so the count in the next one sees every
   * connect that committed before it (a statement's snapshot is taken when it starts, before it would wait for the
   * lock): two racing clients cannot both take the last slot. Without a limit nothing needs the lock, and the one
   * statement is the whole transaction (the counters are then exact unless two clients of the same session connect
   * at the same instant; the next change or the reaper's drift check puts them right).
   */
  private async record(
    caller: Caller,
    row: SessionEntity,
    limit: { maximum: number; source: 'session' | 'template' } | null,
    beaconTokenHash: string,
    ticket: { ticketHash: string; expiresAt: Date } | null,
    source: AuditSource & { userAgent?: string },
  ): Promise<{ connection: ConnectionEntity; session: SessionEntity }> {
    const params = [
      row.id,
      caller.id,
      plainIp(source.clientIp),
      source.userAgent?.slice(0, 1024) ?? null,
      beaconTokenHash,
      limit?.maximum ?? null,
      ticket?.ticketHash ?? null,
      ticket?.expiresAt ?? null,
      ...auditRowParams({ action: 'connection.connect', resourceType: 'session', resourceId: row.id, changes: { session: row.name }, source }),
    ];
    const run = async (m: EntityManager) => {
      if (limit) await m.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [row.id]);
      return ((await m.query(CONNECT_SQL, params)) as Record<string, unknown>[])[0];
    };
    let result: Record<string, unknown> | undefined;
    try {
      result = limit ? await this.deps.dataSource.transaction(run) : await run(this.deps.dataSource.manager);
    } catch (err) {
      // The session was deleted between the read and the insert.
      if ((err as { code?: string }).code === '23503') throw notFound('Session', row.id);
      throw err;
    }
    if (!result?.connection_id) {
      if (!result?.session_exists) throw notFound('Session', row.id);
      throw tooManyConnections(row.name, limit!.maximum, Number(result.open_before), limit!.source);
    }
    const session = entityFromRow(this.deps.dataSource, SessionEntity, result);
    const connection = Object.assign(new ConnectionEntity(), {
      id: result.connection_id as string,
      sessionId: row.id,
      userId: caller.id,
      clientIp: params[2] as string | null,
      userAgent: params[3] as string | null,
      connectedAt: result.connection_connected_at as Date,
      lastActivityAt: result.connection_connected_at as Date,
      disconnectedAt: null,
      disconnectReason: null,
    });
    return { connection, session };
  }

  private limitOf(spec: Partial<SessionSpec>, template: { multiUser?: boolean; maxConcurrentUsers?: number } | null): { maximum: number; source: 'session' | 'template' } | null {
    if (spec.maxConnections) return { maximum: spec.maxConnections, source: 'session' };
    if (template?.multiUser && template.maxConcurrentUsers) return { maximum: template.maxConcurrentUsers, source: 'template' };
    return null;
  }

  /** sessionProgress: the start-up steps of a session the caller may connect to. */
  async progress(caller: Caller, sessionId: string): Promise<AsyncIterableIterator<SessionProgressType>> {
    const { row } = await this.visibleSession(caller, sessionId, false);
    if (!this.deps.sessions) throw noCluster('sessions and templates');
    return this.deps.sessions.startup.progress(row);
  }

  // ---- heartbeat and disconnect ----------------------------------------------------------------

  async heartbeat(caller: Caller, connectionId: string): Promise<boolean> {
    const ok = await this.heartbeats.beat(connectionId, operatesAll(caller) ? null : caller.id);
    if (!ok) throw notFound('Connection', connectionId);
    return true;
  }

  /** Writes the Connection object of an open connection again (the reaper's repair); false when it is not open. */
  async repairObject(connectionId: string): Promise<boolean> {
    const c = await this.deps.dataSource.getRepository(ConnectionEntity).findOneBy({ id: connectionId });
    if (!c || c.disconnectedAt) return false;
    const session = await this.sessionRow(c.sessionId);
    if (!session) return false;
    const users = (await this.deps.dataSource.query('SELECT username FROM users WHERE id = $1', [c.userId])) as { username: string }[];
    await this.objects.create(c, session, users[0]?.username ?? 'unknown');
    return true;
  }

  /** Deletes the Connection objects of connections that are not open (the reaper's sweep); returns how many. */
  sweepObjects(): Promise<number> {
    return this.objects.sweep(async (ids) => {
      const rows = (await this.deps.dataSource.query('SELECT id FROM connections WHERE id = ANY($1::uuid[]) AND disconnected_at IS NULL', [ids.filter((id) => UUID.test(id))])) as { id: string }[];
      return new Set(rows.map((r) => r.id));
    });
  }

  /** Ends the caller's connection (idempotent for an already ended one); someone else's id answers NOT_FOUND. */
  async disconnect(caller: Caller, connectionId: string, source: AuditSource): Promise<ClientConnectionType> {
    if (!UUID.test(connectionId)) throw notFound('Connection', connectionId);
    const repo = this.deps.dataSource.getRepository(ConnectionEntity);
    const existing = await repo.findOneBy({ id: connectionId });
    if (!existing || !(operatesAll(caller) || existing.userId === caller.id)) throw notFound('Connection', connectionId);
    const ended = await this.end([connectionId], 'client', source);
    return toConnectionType(ended[0] ?? existing);
  }

  /** For navigator.sendBeacon: ends the connection whose beacon token matches (no bearer token needed). */
  async disconnectWithBeacon(connectionId: string, token: string, source: AuditSource): Promise<boolean> {
    if (!UUID.test(connectionId) || !token) return false;
    const row = await this.deps.dataSource
      .getRepository(ConnectionEntity)
      .createQueryBuilder('c')
      .addSelect('c.beaconTokenHash')
      .where('c.id = :id', { id: connectionId })
      .getOne();
    if (!row?.beaconTokenHash) return false;
    const a = Buffer.from(row.beaconTokenHash, 'hex');
    const b = Buffer.from(hashToken(token), 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
    const user = row.userId ? await this.deps.dataSource.query('SELECT username FROM users WHERE id = $1', [row.userId]) : [];
    await this.end([connectionId], 'beacon', { ...source, caller: row.userId ? { id: row.userId, username: (user as { username: string }[])[0]?.username ?? '' } : null });
    return true;
  }

  /**
   * Ends open connections (client, beacon, reaper, session-hibernated, ...): one UPDATE, then the sessions'
   * counts, Connection objects, Session status and subscribers follow. Audited for client/beacon ends
   * (a user's action); system ends are logged.
   */
  async end(ids: string[], reason: string, source?: AuditSource): Promise<ConnectionEntity[]> {
    if (!ids.length) return [];
    const ended = await this.deps.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `UPDATE connections SET disconnected_at = now(), disconnect_reason = $2
         WHERE id = ANY($1::uuid[]) AND disconnected_at IS NULL
         RETURNING id, session_id, user_id, client_ip, user_agent, connected_at, last_activity_at, disconnected_at, disconnect_reason`,
        [ids, reason],
      )) as [Record<string, unknown>[], number];
      const list = (rows[0] ?? []).map(
        (r) =>
          ({
            id: r.id,
            sessionId: r.session_id,
            userId: r.user_id,
            clientIp: r.client_ip,
            userAgent: r.user_agent,
            connectedAt: r.connected_at,
            lastActivityAt: r.last_activity_at,
            disconnectedAt: r.disconnected_at,
            disconnectReason: r.disconnect_reason,
          }) as ConnectionEntity,
      );
      if (source && (reason === 'client' || reason === 'beacon')) {
        for (const c of list) {
          await this.deps.audit.record({ action: 'connection.disconnect', resourceType: 'session', resourceId: c.sessionId, changes: { connectionId: c.id, reason }, source }, m);
        }
      }
      return list;
    });
    const sessions = [...new Set(ended.map((c) => c.sessionId))];
    for (const id of sessions) {
      const row = await this.counts.recount(id);
      if (row) await this.counts.changed(row);
    }
    for (const c of ended) await this.objects.delete(c.id);
    if (ended.length && reason !== 'client' && reason !== 'beacon') this.log.info({ count: ended.length, reason, sessions: sessions.length }, 'connections ended');
    return ended;
  }

  /** Subscription filter: the owner of the session (or an admin) sees its counts. */
  static canSee(caller: Caller | null, event: { username: string }): boolean {
    return !!caller && (readsAll(caller) || caller.username === event.username);
  }
}
