import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Pool } from 'pg';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ConnectionsConfig } from '../../config/config';
import { parseDurationMs } from '../../config/config';
import { isAdmin } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { resourcesOf, type QuotaService } from '../quotas/quota.service';
import { LABEL_SESSION } from '../sessions/session-manifests';
import { SESSION_UPDATED, type SessionChange, type SessionMirror } from '../sessions/session-mirror';
import { SessionEntity } from '../sessions/session.entity';
import { toSessionType, type SessionService } from '../sessions/session.service';
import type { SessionManifest, SessionSpec } from '../sessions/session.types';
import { noCluster } from '../templates/template.errors';
import { STREAMSPACE_API_VERSION, STREAMSPACE_GROUP, STREAMSPACE_VERSION, type TemplateSpec } from '../templates/template.types';
import { ConnectionEntity } from './connection.entity';
import { autoStartDisabled, sessionFailed, startupTimedOut, tooManyConnections } from './connection.errors';
import { decideIdle, notReadyReason, type IdleDecision } from './connection-rules';
import type { ClientConnectionType, ConnectionCountChangeType, ConnectSessionResultType, SessionProgressType } from './dto/connection.type';
import { sessionProgressStream } from './session-progress';
import { HeartbeatBatcher } from './heartbeat-batcher';

export const CONNECTION_COUNT_CHANGED = 'CONNECTION_COUNT_CHANGED';

export interface ConnectionCountEvent extends ConnectionCountChangeType {
  /** Owner of the session, for the subscription's authorization filter. */
  username: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function code(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

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

/** When the session last became Running (its Ready=True condition's transition), from the mirrored status. */
export function runningSince(row: Pick<SessionEntity, 'status' | 'phase'>): Date | null {
  if (row.phase !== 'Running') return null;
  const conditions = (row.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] }).conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready' && c.status === 'True');
  return ready?.lastTransitionTime ? new Date(ready.lastTransitionTime) : null;
}

export interface ConnectionServiceDeps {
  dataSource: DataSource;
  /** A small pool of its own for heartbeats, so they never queue behind other queries. */
  heartbeatPool: Pool;
  kubeConfig: KubeConfig | null;
  namespace: string;
  config: ConnectionsConfig;
  defaultStartupTimeoutMs: number;
  audit: AuditService;
  quotas: QuotaService;
  mirror: SessionMirror | null;
  /** Creates the replacement of a terminated session (autoStart). */
  sessions: Pick<SessionService, 'create'> | null;
  pubSub: AppPubSub;
  logger: Logger;
}

/**
 * Connections: who is attached to which session. The `connections` table is the record (rows are kept as
 * history once ended); each open connection is also a Connection object in the cluster, and the Session's
 * status carries the counts. Heartbeats only move `last_activity_at` (batched, see HeartbeatBatcher).
 */
export class ConnectionService {
  readonly heartbeats: HeartbeatBatcher;
  /**
   * Set when the session gateway runs (issue 13): connectSession then answers a single-use ticket URL on the
   * session's gateway address instead of the session's own URL, which users can no longer reach directly.
   */
  gatewayUrl: ((input: { sessionId: string; userId: string; connectionId: string; appPath?: string }) => Promise<string>) | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: ConnectionServiceDeps) {
    this.heartbeats = new HeartbeatBatcher(deps.heartbeatPool);
    this.log = deps.logger.child({ component: 'connections' });
  }

  private custom(): CustomObjectsApi {
    if (!this.deps.kubeConfig) throw noCluster();
    return this.deps.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private core(): CoreV1Api {
    if (!this.deps.kubeConfig) throw noCluster();
    return this.deps.kubeConfig.makeApiClient(CoreV1Api);
  }

  private params(plural: 'sessions' | 'connections' | 'templates') {
    return { group: STREAMSPACE_GROUP, version: STREAMSPACE_VERSION, namespace: this.deps.namespace, plural };
  }

  async stop(): Promise<void> {
    await this.heartbeats.stop();
  }

  // ---- reads -----------------------------------------------------------------------------------

  private async sessionRow(id: string): Promise<SessionEntity | null> {
    if (!UUID.test(id)) return null;
    return this.deps.dataSource.getRepository(SessionEntity).findOneBy({ id, namespace: this.deps.namespace });
  }

  /** The session's template spec (null when it is gone). */
  async templateSpec(name: string): Promise<Partial<TemplateSpec> & { idleTimeout?: string } | null> {
    if (!this.deps.kubeConfig) return null;
    try {
      const obj = (await this.custom().getNamespacedCustomObject({ ...this.params('templates'), name })) as { spec?: Partial<TemplateSpec> };
      return obj.spec ?? {};
    } catch (err) {
      if (code(err) === 404) return null;
      throw err;
    }
  }

  /** Owner, admin, or any signed-in user for a session of a multi-user template; else NOT_FOUND. */
  private async visibleSession(caller: Caller, id: string, forConnect: boolean): Promise<{ row: SessionEntity; template: Awaited<ReturnType<ConnectionService['templateSpec']>> }> {
    const row = await this.sessionRow(id);
    if (!row) throw notFound('Session', id);
    const owner = isAdmin(caller) || row.username === caller.username;
    if (owner && !forConnect) return { row, template: null };
    const template = await this.templateSpec(row.template);
    if (!owner && !template?.multiUser) throw notFound('Session', id);
    return { row, template };
  }

  /** Connections of a session (owner or admin): open ones first, newest first. */
  async listForSession(caller: Caller, sessionId: string, includeEnded = false): Promise<ClientConnectionType[]> {
    const row = await this.sessionRow(sessionId);
    if (!row || !(isAdmin(caller) || row.username === caller.username)) throw notFound('Session', sessionId);
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

  /** Session.idle for many sessions at once (a list page): one query for the rows, one list of templates. */
  async idleMany(ids: readonly string[]): Promise<(IdleDecision | Error)[]> {
    const rows = await this.deps.dataSource.getRepository(SessionEntity).findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const templateIdle = new Map<string, string | null>();
    if (this.deps.kubeConfig && rows.length) {
      const list = (await this.custom().listNamespacedCustomObject(this.params('templates'))) as { items: { metadata: { name: string }; spec?: { idleTimeout?: string } }[] };
      for (const t of list.items) templateIdle.set(t.metadata.name, t.spec?.idleTimeout ?? null);
    }
    const now = new Date();
    return ids.map((id) => {
      const row = byId.get(id);
      return row ? this.decideIdleFor(row, templateIdle.get(row.template) ?? null, now) : notFound('Session', id);
    });
  }

  decideIdleFor(row: SessionEntity, templateIdleTimeout: string | null, now: Date): IdleDecision {
    const spec = row.spec as Partial<SessionSpec>;
    return decideIdle({
      state: row.state,
      phase: row.phase,
      activeConnections: row.activeConnections,
      minConnections: spec.minConnections,
      sessionIdleTimeout: spec.idleTimeout,
      templateIdleTimeout,
      defaultIdleTimeoutMs: this.deps.config.defaultIdleTimeoutMs,
      runningSince: runningSince(row),
      lastConnection: row.lastConnectionAt,
      lastDisconnect: row.lastDisconnectAt,
      lastActivity: row.lastActivityAt,
      now,
    });
  }

  // ---- connect ---------------------------------------------------------------------------------

  /**
   * Connects the caller to a session: checks access and maxConnections, starts the session when needed
   * (hibernated: woken; terminated: replaced by a new session of its owner; both only when autoStart
   * allows), waits watch-driven
   * until its pod is Ready (or fails with why not), then records the connection.
   */
  async connect(caller: Caller, sessionId: string, source: AuditSource & { userAgent?: string }): Promise<ConnectSessionResultType> {
    const { row: first, template } = await this.visibleSession(caller, sessionId, true);
    if (!this.deps.kubeConfig || !this.deps.mirror) throw noCluster();
    const spec = first.spec as Partial<SessionSpec>;
    const limit = this.limitOf(spec, template);
    if (limit && first.activeConnections >= limit.maximum) {
      // Fast refusal before any start-up; the authoritative check is in the insert's transaction.
      const active = await this.openCount(first.id);
      if (active >= limit.maximum) throw tooManyConnections(first.name, limit.maximum, active, limit.source);
    }
    let row = first;
    let limitNow = limit;
    if (row.state === 'terminated') {
      // A terminated Session cannot run again (its CRD forbids reviving it): a new one of the same template
      // and settings takes its place, for its owner, when autoStart allows.
      if (spec.autoStart === false || row.username !== caller.username) throw autoStartDisabled(row.name, row.state);
      row = await this.recreate(caller, row, source);
      limitNow = this.limitOf(row.spec as Partial<SessionSpec>, template ?? (await this.templateSpec(row.template)));
    } else if (row.state !== 'running') {
      if (spec.autoStart === false) throw autoStartDisabled(row.name, row.state);
      row = await this.start(caller, row, source);
    }
    const limitFinal = limitNow;
    const ready = await this.waitUntilReady(row);
    const beaconToken = randomBytes(24).toString('base64url');
    const { connection, session } = await this.deps.dataSource.transaction(async (m) => {
      // Serialises connects to one session, so two racing clients cannot both take the last slot.
      await m.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [row.id]);
      if (limitFinal) {
        const active = await this.openCount(row.id, m);
        if (active >= limitFinal.maximum) throw tooManyConnections(row.name, limitFinal.maximum, active, limitFinal.source);
      }
      const repo = m.getRepository(ConnectionEntity);
      const saved = await repo.save(
        repo.create({
          sessionId: row.id,
          userId: caller.id,
          clientIp: plainIp(source.clientIp),
          userAgent: source.userAgent?.slice(0, 1024) ?? null,
          beaconTokenHash: hashToken(beaconToken),
        }),
      );
      const session = await this.recount(row.id, m);
      await this.deps.audit.record(
        { action: 'connection.connect', resourceType: 'session', resourceId: row.id, changes: { connectionId: saved.id, session: row.name, activeConnections: session?.activeConnections }, source },
        m,
      );
      return { connection: saved, session };
    });
    await this.afterCountChange(session ?? ready);
    await this.createConnectionObject(connection, ready, caller.username);
    const url = this.gatewayUrl
      ? await this.gatewayUrl({ sessionId: row.id, userId: caller.id, connectionId: connection.id, appPath: new URL(ready.url!).pathname })
      : ready.url!;
    return {
      connectionId: connection.id,
      url,
      session: toSessionType(session ?? ready),
      beaconToken,
      heartbeatIntervalSeconds: Math.max(1, Math.floor(this.deps.config.heartbeatIntervalMs / 1000)),
    };
  }

  private limitOf(spec: Partial<SessionSpec>, template: { multiUser?: boolean; maxConcurrentUsers?: number } | null): { maximum: number; source: 'session' | 'template' } | null {
    if (spec.maxConnections) return { maximum: spec.maxConnections, source: 'session' };
    if (template?.multiUser && template.maxConcurrentUsers) return { maximum: template.maxConcurrentUsers, source: 'template' };
    return null;
  }

  private async openCount(sessionId: string, m?: EntityManager): Promise<number> {
    const rows = (await (m ?? this.deps.dataSource.manager).query('SELECT count(*)::int AS n FROM connections WHERE session_id = $1 AND disconnected_at IS NULL', [sessionId])) as { n: number }[];
    return rows[0].n;
  }

  /** Wakes (hibernated) or restarts (terminated) a session for a connect, within the owner's quota. */
  private async start(caller: Caller, row: SessionEntity, source: AuditSource): Promise<SessionEntity> {
    await this.deps.quotas.check(row.userId ?? caller.id, { sessions: 0, runningSessions: 1, ...resourcesOf((row.spec as { resources?: unknown }).resources), excludeSessionId: row.id });
    let updated: SessionManifest;
    try {
      updated = (await this.custom().patchNamespacedCustomObject(
        { ...this.params('sessions'), name: row.name, body: { spec: { state: 'running' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as SessionManifest;
    } catch (err) {
      if (code(err) === 404) throw notFound('Session', row.id);
      throw err;
    }
    const saved = await this.deps.mirror!.upsert(updated);
    await this.deps.audit.record({ action: 'session.wake', resourceType: 'session', resourceId: row.id, changes: { state: { from: row.state, to: 'running' }, reason: 'connect' }, source });
    this.log.info({ session: row.name, from: row.state }, 'session started for a connection');
    return saved;
  }

  /** A new session replacing a terminated one: same template and settings, same owner (audited as session.create). */
  private async recreate(caller: Caller, row: SessionEntity, source: AuditSource): Promise<SessionEntity> {
    if (!this.deps.sessions) throw noCluster();
    const spec = row.spec as Partial<SessionSpec>;
    const created = await this.deps.sessions.create(
      caller,
      {
        template: row.template,
        ...(spec.resources ? { resources: spec.resources as never } : {}),
        ...(spec.persistentHome !== undefined ? { persistentHome: spec.persistentHome } : {}),
        ...(spec.idleTimeout ? { idleTimeout: spec.idleTimeout } : {}),
        ...(spec.maxSessionDuration ? { maxSessionDuration: spec.maxSessionDuration } : {}),
        ...(spec.startupTimeout ? { startupTimeout: spec.startupTimeout } : {}),
        ...(spec.minConnections !== undefined ? { minConnections: spec.minConnections } : {}),
        ...(spec.maxConnections !== undefined ? { maxConnections: spec.maxConnections } : {}),
      },
      source,
    );
    this.log.info({ terminated: row.name, created: created.name }, 'new session created for a connection to a terminated one');
    const fresh = await this.sessionRow(created.id);
    if (!fresh) throw notFound('Session', created.id);
    return fresh;
  }

  private isReady(row: SessionEntity): boolean {
    return row.state === 'running' && row.phase === 'Running' && !!row.url;
  }

  /**
   * Resolves with the session row once it is Running with a URL. Watch-driven: the session mirror publishes
   * every change of the Session object (the reconciler sets Running only when a pod is Ready), so this waits
   * on those events and one timer for startupTimeout; no polling.
   */
  async waitUntilReady(row: SessionEntity): Promise<SessionEntity> {
    if (this.isReady(row)) return row;
    const spec = row.spec as Partial<SessionSpec>;
    const timeoutMs = spec.startupTimeout ? parseDurationMs(spec.startupTimeout) : this.deps.defaultStartupTimeoutMs;
    const events = (this.deps.pubSub.subscribe as unknown as (topic: string) => AsyncIterableIterator<SessionChange> & { return?: () => Promise<unknown> })(SESSION_UPDATED);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // The first next() starts listening (repeaters are lazy); the re-read below then cannot miss a change.
    const iterator = events[Symbol.asyncIterator]();
    let pending = iterator.next();
    try {
      const fresh = await this.sessionRow(row.id);
      if (!fresh) throw notFound('Session', row.id);
      if (this.isReady(fresh)) return fresh;
      if (fresh.phase === 'Failed' && fresh.state === 'running') await this.failWithReason(fresh, timeoutMs);
      for (;;) {
        const next = await Promise.race([pending, timedOut]);
        if (next === 'timeout') break;
        if (next.done) break;
        pending = iterator.next();
        const change = next.value;
        if (change.session.id !== row.id) continue;
        if (change.type === 'DELETED') throw notFound('Session', row.id);
        const s = change.session;
        if (this.isReady(s)) return s;
        if (s.state !== 'running') throw sessionFailed(s.name, 'Stopped', `the session became ${s.state} while starting`);
        if (s.phase === 'Failed') await this.failWithReason(s, timeoutMs);
      }
      const pods = await this.podsAndEvents(row.name);
      const why = notReadyReason(pods.pods, pods.events);
      throw startupTimedOut(row.name, timeoutMs, why.reason, why.message);
    } finally {
      clearTimeout(timer);
      await events.return?.();
    }
  }

  private async failWithReason(s: SessionEntity, timeoutMs: number): Promise<never> {
    const conditions = (s.status as { conditions?: { type: string; reason: string; message: string }[] }).conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    const { pods, events } = await this.podsAndEvents(s.name);
    const why = notReadyReason(pods, events);
    if (ready?.reason === 'StartupTimeout') throw startupTimedOut(s.name, timeoutMs, why.reason, why.message);
    throw sessionFailed(s.name, ready?.reason ?? 'Failed', ready?.message ?? (s.status as { message?: string }).message ?? why.message);
  }

  async podsAndEvents(sessionName: string): Promise<{ pods: V1Pod[]; events: CoreV1Event[] }> {
    const core = this.core();
    const pods = (await core.listNamespacedPod({ namespace: this.deps.namespace, labelSelector: `${LABEL_SESSION}=${sessionName}` })).items;
    const events: CoreV1Event[] = [];
    for (const p of pods.slice(0, 3)) {
      events.push(...(await core.listNamespacedEvent({ namespace: this.deps.namespace, fieldSelector: `involvedObject.name=${p.metadata!.name}` })).items);
    }
    return { pods, events };
  }

  /** sessionProgress: the start-up steps of a session the caller may connect to. */
  async progress(caller: Caller, sessionId: string): Promise<AsyncIterableIterator<SessionProgressType>> {
    const { row } = await this.visibleSession(caller, sessionId, true);
    if (!this.deps.kubeConfig) throw noCluster();
    return sessionProgressStream({ kubeConfig: this.deps.kubeConfig, namespace: this.deps.namespace, session: row, pubSub: this.deps.pubSub, logger: this.log });
  }

  // ---- heartbeat and disconnect ----------------------------------------------------------------

  async heartbeat(caller: Caller, connectionId: string): Promise<boolean> {
    const ok = await this.heartbeats.beat(connectionId, isAdmin(caller) ? null : caller.id);
    if (!ok) throw notFound('Connection', connectionId);
    return true;
  }

  /** Ends the caller's connection (idempotent for an already ended one); someone else's id answers NOT_FOUND. */
  async disconnect(caller: Caller, connectionId: string, source: AuditSource): Promise<ClientConnectionType> {
    if (!UUID.test(connectionId)) throw notFound('Connection', connectionId);
    const repo = this.deps.dataSource.getRepository(ConnectionEntity);
    const existing = await repo.findOneBy({ id: connectionId });
    if (!existing || !(isAdmin(caller) || existing.userId === caller.id)) throw notFound('Connection', connectionId);
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
      const row = await this.recount(id);
      if (row) await this.afterCountChange(row);
    }
    for (const c of ended) await this.deleteConnectionObject(c.id);
    if (ended.length && reason !== 'client' && reason !== 'beacon') this.log.info({ count: ended.length, reason, sessions: sessions.length }, 'connections ended');
    return ended;
  }

  // ---- counts ----------------------------------------------------------------------------------

  /** Recomputes a session's counters from the connections table into its row (one statement). */
  async recount(sessionId: string, m?: EntityManager): Promise<SessionEntity | null> {
    const manager = m ?? this.deps.dataSource.manager;
    await manager.query(
      `UPDATE sessions s SET active_connections = c.active, total_connections = c.total,
         last_connection_at = c.last_conn, last_disconnect_at = c.last_disc,
         last_activity_at = GREATEST(s.last_activity_at, c.last_act)
       FROM (SELECT count(*) FILTER (WHERE disconnected_at IS NULL)::int AS active, count(*)::int AS total,
               max(connected_at) AS last_conn, max(disconnected_at) AS last_disc, max(last_activity_at) AS last_act
             FROM connections WHERE session_id = $1) c
       WHERE s.id = $1`,
      [sessionId],
    );
    return manager.getRepository(SessionEntity).findOneBy({ id: sessionId });
  }

  /** Tells subscribers and writes the counts into the Session's status (the mirror then carries them). */
  async afterCountChange(row: SessionEntity): Promise<void> {
    await this.deps.pubSub.publish(CONNECTION_COUNT_CHANGED, {
      sessionId: row.id,
      username: row.username,
      activeConnections: row.activeConnections,
      totalConnections: row.totalConnections,
      lastConnection: row.lastConnectionAt,
      lastDisconnect: row.lastDisconnectAt,
    } satisfies ConnectionCountEvent);
    await this.writeSessionCounts(row);
  }

  /** Merge patch of the connection fields of Session.status (the reconciler owns and preserves the rest). */
  async writeSessionCounts(row: SessionEntity): Promise<boolean> {
    if (!this.deps.kubeConfig) return false;
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
      await this.custom().patchNamespacedCustomObjectStatus(
        { ...this.params('sessions'), name: row.name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (code(err) !== 404) this.log.warn({ err: (err as Error).message, session: row.name }, 'could not write connection counts to the Session status');
      return false;
    }
  }

  // ---- Connection objects ----------------------------------------------------------------------

  private async createConnectionObject(c: ConnectionEntity, session: SessionEntity, username: string): Promise<void> {
    if (!this.deps.kubeConfig) return;
    const body = {
      apiVersion: STREAMSPACE_API_VERSION,
      kind: 'Connection',
      metadata: {
        name: c.id,
        namespace: this.deps.namespace,
        labels: { [LABEL_SESSION]: session.name, 'app.kubernetes.io/part-of': 'streamspace' },
        ownerReferences: [{ apiVersion: STREAMSPACE_API_VERSION, kind: 'Session', name: session.name, uid: session.id, blockOwnerDeletion: false }],
      },
      spec: {
        session: session.name,
        user: username,
        ...(c.clientIp ? { clientIP: c.clientIp } : {}),
        ...(c.userAgent ? { userAgent: c.userAgent } : {}),
        connectedAt: new Date(c.connectedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    };
    try {
      await this.custom().createNamespacedCustomObject({ ...this.params('connections'), body });
      await this.writeConnectionActivity(c.id, c.lastActivityAt);
    } catch (err) {
      // The table is the record; the object is a view for kubectl. A failure is logged, never fatal.
      this.log.warn({ err: (err as Error).message, connection: c.id }, 'could not create the Connection object');
    }
  }

  async writeConnectionActivity(id: string, lastActivity: Date, state: 'Active' | 'Idle' = 'Active'): Promise<void> {
    await this.custom().patchNamespacedCustomObjectStatus(
      { ...this.params('connections'), name: id, body: { status: { state, lastActivity: new Date(lastActivity).toISOString().replace(/\.\d{3}Z$/, 'Z') } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async deleteConnectionObject(id: string): Promise<void> {
    if (!this.deps.kubeConfig) return;
    try {
      await this.custom().deleteNamespacedCustomObject({ ...this.params('connections'), name: id });
    } catch (err) {
      if (code(err) !== 404) this.log.warn({ err: (err as Error).message, connection: id }, 'could not delete the Connection object');
    }
  }

  /** Subscription filter: the owner of the session (or an admin) sees its counts. */
  static canSee(caller: Caller | null, event: { username: string }): boolean {
    return !!caller && (isAdmin(caller) || caller.username === event.username);
  }
}
