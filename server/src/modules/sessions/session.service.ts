import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { applySessionLimits, sessionDuration, type SessionPolicies } from './session-policies';
import { SESSION_FINALIZER } from './session-reconciler';
import { checkResourceMaximum, resourceMaximum, resourcesOf, type QuotaService } from '../quotas/quota.service';
import { ANNOTATION_USER_ID, effectiveResources } from './session-manifests';
import { operatesAll, readsAll } from '../../platform/graphql/authorization';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import { sessionAccess, type SessionAccess } from '../sharing/session-access';
import { decodeCursor, invalidCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import { entityFromRow } from '../../platform/database/entity-from-row';
import { queryPrepared, queryPreparedArrays } from '../../platform/database/prepared';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { isConflict, isNotFound, noCluster } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { parseQuantity } from '../templates/quantity';
import { checkResources, isDnsLabel, normalizeTemplate } from '../templates/template-normalize';
import { isSecurityApproved, notApprovedMessage } from '../templates/template-security';
import type { AppTypeEnum, ResourcesType } from '../templates/dto/template.type';
import type { TemplateManifest } from '../templates/template.crd';
import type { TemplateService } from '../templates/template.service';
import { SessionStartup } from './session-startup.service';
import type { StateChange } from './session-state';
import type { SessionTable } from './session-table';
import { badTransition, invalidSessionInput, unapprovedTemplate, unknownTemplate, unusableTemplate } from './session.errors';
import { SessionEntity } from './session.entity';
import { sessionObjects, type SessionManifest, type SessionSpec, type SessionState } from './session.crd';
import type { CreateSessionInput, SessionFilterInput } from './dto/session.input';
import { SessionType, type SessionPhaseEnum, type SessionStateEnum, type StatusCondition } from './dto/session.type';

const DURATION = /^[0-9]+(s|m|h)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The table row a SessionType was made from, kept on it under a symbol (invisible to GraphQL and JSON): the fields of
 * a page of sessions that are computed from the row (`idle`) use it instead of reading the rows again. A property of
 * the object rather than a WeakMap entry per session of a page: it goes with the object, nothing to look up.
 */
const ROW = Symbol('sessionRow');
type WithRow = SessionType & { [ROW]?: SessionEntity };

/**
 * The table row of a session id in a namespace (null: none, or not a UUID). Hand-written, as the list's: TypeORM's
 * findOneBy builds its query and maps its row anew on every call, and a connect reads this row first.
 */
export async function findSessionRow(dataSource: DataSource, namespace: string, id: string): Promise<SessionEntity | null> {
  if (!UUID.test(id)) return null;
  const rows = (await dataSource.query('SELECT * FROM sessions WHERE id = $1 AND namespace = $2', [id, namespace])) as Record<string, unknown>[];
  return rows[0] ? entityFromRow(dataSource, SessionEntity, rows[0]) : null;
}

/**
 * The row a SessionType was made from by toSessionType (undefined for one made otherwise). A session of a page
 * (`list`) carries a row whose spec and status hold only what a page reads (see LIST_COLUMNS).
 */
export function sessionRowOf(session: SessionType): SessionEntity | undefined {
  return (session as WithRow)[ROW];
}

export function toSessionType(row: SessionEntity): SessionType {
  const type: WithRow = sessionTypeOf(row);
  type[ROW] = row;
  return type;
}

/**
 * An instance of the GraphQL class, not a plain object: type-graphql hands a field resolver's @Root() over as is when
 * it is one, and otherwise copies every property into a new instance for each field resolver of each session.
 */
function sessionTypeOf(row: SessionEntity): SessionType {
  const spec = row.spec as unknown as Partial<SessionSpec>;
  const status = row.status as { message?: string; conditions?: StatusCondition[] };
  // Set one by one on the instance (not Object.assign of a literal: one object per session of a page, not two).
  const t = new SessionType();
  t.id = row.id;
  t.name = row.name;
  t.namespace = row.namespace;
  t.user = row.username;
  t.templateName = row.template;
  t.state = row.state as SessionStateEnum;
  t.phase = row.phase as SessionPhaseEnum;
  t.message = status?.message ?? null;
  t.url = row.url;
  t.appType = row.appType as AppTypeEnum;
  t.podName = row.podName;
  t.activeConnections = row.activeConnections;
  t.totalConnections = row.totalConnections;
  t.lastConnection = row.lastConnectionAt;
  t.lastDisconnect = row.lastDisconnectAt;
  t.lastActivity = row.lastActivityAt;
  t.persistentHome = spec.persistentHome ?? false;
  t.idleTimeout = spec.idleTimeout ?? null;
  t.maxSessionDuration = spec.maxSessionDuration ?? null;
  t.resources = spec.resources ? { requests: resourceList(spec.resources.requests), limits: resourceList(spec.resources.limits) } : null;
  t.setStatusConditions(status?.conditions);
  t.createdAt = row.createdAt;
  t.updatedAt = row.updatedAt;
  return t;
}

function resourceList(m?: Record<string, string | number>): ResourcesType['requests'] {
  return m ? { cpu: m.cpu !== undefined ? String(m.cpu) : null, memory: m.memory !== undefined ? String(m.memory) : null } : null;
}

/** A launch that names only the template (no settings, not `newSession`): it wakes a hibernated session of it. */
export function isPlainLaunch(input: CreateSessionInput): boolean {
  return !input.newSession && Object.entries(input).every(([key, value]) => key === 'template' || key === 'newSession' || value === undefined || value === null);
}

/**
 * The columns of a page of sessions, in the order of the arrays its rows are read as (`listRow`): the table's columns
 * but spec and status, then what a page reads of those two documents (the SessionType's fields and the idle decision:
 * sessionTypeOf, decideIdleFor), extracted by PostgreSQL instead of the whole documents: their JSON text was most of
 * a page's bytes, of PostgreSQL's output work and of the driver's parsing (the same 100 rows: 1.9-2.6 ms of machine
 * CPU against 2.7-3.3 ms with the whole documents, measured beside the list bench; decision 0034).
 */
const LIST_COLUMN_LIST = [
  // 0-18: the table's columns but spec and status (listRow's order).
  's.id', 's.name', 's.namespace', 's.user_id', 's.username', 's.template', 's.state', 's.phase', 's.app_type', 's.url', 's.pod_name',
  's.active_connections', 's.total_connections', 's.last_connection_at', 's.last_disconnect_at', 's.last_activity_at', 's.resource_version',
  's.created_at', 's.updated_at',
  // 19-23: of the spec; 24-25: of the status.
  `s.spec->'persistentHome'`, `s.spec->>'idleTimeout'`, `s.spec->>'maxSessionDuration'`, `s.spec->'resources'`, `s.spec->'minConnections'`,
  `s.status->>'message'`, `s.status->'conditions'`,
];
const LIST_COLUMNS = LIST_COLUMN_LIST.join(', ');

/** Where a first page's total count is in a row: after LIST_COLUMNS. */
const LIST_WIDTH = LIST_COLUMN_LIST.length;

/**
 * A row of LIST_COLUMNS as a session's row, its spec and status holding what was read (absent keys: absent). Rows are
 * read as arrays and made into one object literal here: the driver's row objects (one key at a time into an object
 * without a fixed shape) were a sixth of a page's garbage and most of its row parsing (decision 0035).
 */
function listRow(a: unknown[]): SessionEntity {
  const spec: Partial<SessionSpec> = {};
  if (a[19] !== null) spec.persistentHome = a[19] as boolean;
  if (a[20] !== null) spec.idleTimeout = a[20] as string;
  if (a[21] !== null) spec.maxSessionDuration = a[21] as string;
  if (a[22] !== null) spec.resources = a[22] as SessionSpec['resources'];
  if (a[23] !== null) spec.minConnections = a[23] as number;
  const status: Record<string, unknown> = {};
  if (a[24] !== null) status.message = a[24];
  if (a[25] !== null) status.conditions = a[25];
  return {
    id: a[0] as string,
    name: a[1] as string,
    namespace: a[2] as string,
    userId: a[3] as string | null,
    username: a[4] as string,
    template: a[5] as string,
    state: a[6] as string,
    phase: a[7] as string,
    appType: a[8] as string,
    url: a[9] as string | null,
    podName: a[10] as string | null,
    activeConnections: a[11] as number,
    totalConnections: a[12] as number,
    lastConnectionAt: a[13] as Date | null,
    lastDisconnectAt: a[14] as Date | null,
    lastActivityAt: a[15] as Date | null,
    resourceVersion: a[16] as string | null,
    createdAt: a[17] as Date,
    updatedAt: a[18] as Date,
    spec: spec as Record<string, unknown>,
    status,
  };
}

/** A session name: <user>-<template>-<5 random>, a DNS-1035 label (Services need a leading letter). */
export function generateSessionName(user: string, template: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  const suffix = randomBytes(8).toString('hex').replace(/[^a-z0-9]/g, '').slice(0, 5);
  let base = `${clean(user).slice(0, 20)}-${clean(template)}`.replace(/^-+/, '').slice(0, 50).replace(/-+$/, '');
  if (!/^[a-z]/.test(base)) base = `s-${base}`.replace(/-+$/, '');
  return `${base}-${suffix}`;
}

/** Names the create tries before it gives up on finding a free one. */
const NAME_ATTEMPTS = 5;

/**
 * Creates an object under a generated name, with a new name when the API server answers 409 (AlreadyExists): five
 * random characters collide now and then among one user's sessions of a template (about 1 in 20,000 per pair), and
 * Kubernetes' own generateName leaves that retry to the client too. Any other failure, or a 409 on every attempt,
 * is the caller's.
 */
export async function createUnderFreshName<T>(create: (name: string) => Promise<T>, nextName: () => string, attempts = NAME_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create(nextName());
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
    }
  }
}

/**
 * Sessions for the API: reads from the session table in PostgreSQL (lists, filters, paging), writes to the
 * cluster (Session objects; the reconciler does the rest). Users see only their own sessions: anyone else's id
 * answers NOT_FOUND, exactly like an id that does not exist. `changeState` is the one place a session's state
 * changes (API, connect, hibernation timer); `startup` wakes, re-creates and waits for sessions.
 */
export class SessionService {
  readonly startup: SessionStartup;

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      kube: StreamSpaceApi | null;
      namespace: string;
      audit: AuditService;
      quotas: QuotaService;
      templates: TemplateService;
      sessionTable: SessionTable | null;
      pubSub: AppPubSub;
      logger: Logger;
      /** Used when a session has no spec.startupTimeout. */
      defaultStartupTimeoutMs: number;
      /** The admin's runtime rules for new sessions (resource defaults and maximums, longest life); absent: none. */
      policies?: SessionPolicies;
    },
  ) {
    this.startup = new SessionStartup({ sessions: this, ...deps });
  }

  private objects() {
    if (!this.deps.kube) throw noCluster('sessions and templates');
    return sessionObjects(this.deps.kube);
  }

  /** Whether this caller owns the row or reads every session (admins, operators, auditors). */
  canSee(caller: Caller, row: Pick<SessionEntity, 'username'>): boolean {
    return readsAll(caller) || row.username === caller.username;
  }

  /** Whether this caller owns the row or changes every session (admins, operators; never auditors). */
  canChange(caller: Caller, row: Pick<SessionEntity, 'username'>): boolean {
    return operatesAll(caller) || row.username === caller.username;
  }

  /** The caller's access to the row: owner, admin, or an entry of its access list (null: none). */
  access(caller: Caller, row: Pick<SessionEntity, 'id' | 'username'>): Promise<SessionAccess | null> {
    return sessionAccess(this.deps.dataSource, caller, row);
  }

  async list(caller: Caller, filter: SessionFilterInput = {}, first?: number, after?: string): Promise<Connection<SessionType>> {
    const size = pageSize(first);
    // Hand-written (the rows are read as arrays, see listRow): TypeORM's query builder and its row transformer were a
    // tenth of a 100-session page's time.
    const params: unknown[] = [this.deps.namespace];
    const where = ['s.namespace = $1'];
    const match = (column: string, value: unknown) => {
      params.push(value);
      where.push(`s.${column} = $${params.length}`);
    };
    if (!readsAll(caller)) match('username', caller.username);
    else if (filter.user) match('username', filter.user);
    if (filter.state) match('state', filter.state);
    if (filter.phase) match('phase', filter.phase);
    if (filter.template) match('template', filter.template);
    let totalCount: number;
    let rows: unknown[][];
    // Prepared statements (a list is asked for again and again): the page size is a parameter, not in the text.
    if (after) {
      // A later page: the count is of every matching session, not of those after the cursor (its own statement).
      const [createdAt, id] = decodeCursor(after, 2) as [string, string];
      const since = new Date(createdAt);
      if (Number.isNaN(since.getTime()) || !UUID.test(id)) throw invalidCursor(after);
      const [{ n }] = await queryPrepared<{ n: number }>(this.deps.dataSource, `SELECT count(*)::int AS n FROM sessions s WHERE ${where.join(' AND ')}`, params);
      totalCount = n;
      rows = await queryPreparedArrays(
        this.deps.dataSource,
        `SELECT ${LIST_COLUMNS} FROM sessions s WHERE ${where.join(' AND ')} AND (s.created_at, s.id) < ($${params.length + 1}, $${params.length + 2})
         ORDER BY s.created_at DESC, s.id DESC LIMIT $${params.length + 3}`,
        [...params, since, id, size + 1],
      );
    } else {
      // The first page (what the portal and the admin list ask for): rows and count in one statement.
      rows = await queryPreparedArrays(
        this.deps.dataSource,
        `SELECT ${LIST_COLUMNS}, count(*) OVER ()::int FROM sessions s WHERE ${where.join(' AND ')} ORDER BY s.created_at DESC, s.id DESC LIMIT $${params.length + 1}`,
        [...params, size + 1],
      );
      totalCount = rows.length ? (rows[0][LIST_WIDTH] as number) : 0;
    }
    return toConnection(rows.map((r) => toSessionType(listRow(r))), size, totalCount, Boolean(after), (s) => [s.createdAt.toISOString(), s.id]);
  }

  /** The table row of a session id of this namespace, for anyone (null: no such session). */
  findRow(id: string): Promise<SessionEntity | null> {
    return findSessionRow(this.deps.dataSource, this.deps.namespace, id);
  }

  private async row(caller: Caller, id: string): Promise<SessionEntity> {
    const row = await this.findRow(id);
    if (!row || !this.canChange(caller, row)) throw notFound('Session', id);
    return row;
  }

  /** One session for its owner, an admin, or someone on its access list; NOT_FOUND for anyone else. */
  async get(caller: Caller, id: string): Promise<SessionType> {
    const row = await this.findRow(id);
    if (!row || !(await this.access(caller, row))) throw notFound('Session', id);
    return toSessionType(row);
  }

  async create(caller: Caller, input: CreateSessionInput, source: AuditSource): Promise<SessionType> {
    if (!this.deps.kube) throw noCluster('sessions and templates');
    const errors: string[] = [];
    if (!isDnsLabel(input.template)) throw unknownTemplate(input.template);
    for (const key of ['idleTimeout', 'maxSessionDuration', 'startupTimeout'] as const) {
      const v = input[key];
      if (v !== undefined && v !== null && !DURATION.test(v)) errors.push(`${key}: "${v}" is not a duration such as 30s, 15m or 8h`);
      if (v && /^0+(s|m|h)$/.test(v)) errors.push(`${key}: must be longer than zero`);
    }
    // Connection settings.
    if (input.minConnections !== undefined && input.minConnections !== null && !(Number.isInteger(input.minConnections) && input.minConnections >= 0)) errors.push('minConnections: must be 0 or more');
    if (input.maxConnections !== undefined && input.maxConnections !== null && !(Number.isInteger(input.maxConnections) && input.maxConnections >= 1)) errors.push('maxConnections: must be 1 or more');
    if (input.minConnections != null && input.maxConnections != null && input.minConnections > input.maxConnections) errors.push('minConnections: must not exceed maxConnections');
    let resources: SessionSpec['resources'] | undefined;
    if (input.resources) {
      const raw: Record<string, Record<string, string>> = {};
      for (const kind of ['requests', 'limits'] as const) {
        const l = input.resources[kind];
        if (!l) continue;
        raw[kind] = Object.fromEntries(Object.entries({ cpu: l.cpu, memory: l.memory }).filter(([, v]) => v !== undefined && v !== null)) as Record<string, string>;
      }
      resources = checkResources(raw, 'resources', errors);
    }
    if (errors.length) throw invalidSessionInput(errors);

    // Launching an app (the template alone) the caller already has hibernated wakes that session rather than starting
    // a second one. Settings in the input describe a new session (they cannot apply to the existing one).
    if (isPlainLaunch(input)) {
      const hibernated = await this.hibernatedOf(caller, input.template);
      if (hibernated) {
        return toSessionType(await this.changeState(hibernated, 'running', { action: 'session.wake', source, quotaUserId: caller.id, details: { reason: 'launch' } }));
      }
    }

    // From the watch cache when it has a usable copy (a launch costs the API server no GET: a thousand launches were
    // a thousand GETs); a template it does not know, or whose copy would be refused, is read from the API server.
    const check = (t: TemplateManifest | null) => {
      if (!t) return { refused: unknownTemplate(input.template) };
      const n = normalizeTemplate({ apiVersion: t.apiVersion, kind: t.kind, metadata: { name: t.metadata.name }, spec: t.spec });
      if (!n.ok) return { refused: unusableTemplate(input.template, n.errors.join('; ')) };
      if (!isSecurityApproved({ metadata: t.metadata, spec: n.template.spec })) return { refused: unapprovedTemplate(input.template, notApprovedMessage(input.template, n.template.spec)) };
      return { template: n.template };
    };
    const cached = this.deps.templates.cachedObjectNow(input.template);
    let checked = cached ? check(cached) : null;
    if (!checked || 'refused' in checked) checked = check(await this.deps.templates.getObject(input.template));
    if ('refused' in checked) throw checked.refused;
    const normalized = checked;

    // The session's resources are frozen at creation (template defaults + overrides), so quota usage and
    // the Deployment agree even if the template changes later.
    const draft: SessionManifest = { apiVersion: STREAMSPACE_API_VERSION, kind: 'Session', metadata: { name: 'draft' }, spec: { user: caller.username, template: input.template, resources } };
    const limits = this.deps.policies?.limits();
    const effective = limits ? applySessionLimits(effectiveResources(draft, normalized.template), limits) : effectiveResources(draft, normalized.template);
    const maxSessionDuration = limits ? sessionDuration(input.maxSessionDuration, limits) : input.maxSessionDuration;
    // A user may lower what the template gives, never raise it above the template's (or their quota's) maximum.
    checkResourceMaximum(resources, resourceMaximum(normalized.template.spec.defaultResources, await this.deps.quotas.limitsFor(caller.id)));
    for (const name of ['cpu', 'memory'] as const) {
      const request = parseQuantity(effective.requests?.[name]);
      const limit = parseQuantity(effective.limits?.[name]);
      if (request !== null && limit !== null && request > limit) {
        throw invalidSessionInput([`resources.requests.${name}: must not be more than the limit (${String(effective.limits?.[name])})`]);
      }
    }

    const spec: SessionSpec = {
      user: caller.username,
      template: input.template,
      state: 'running',
      appType: normalized.template.spec.appType,
      ...(effective.requests || effective.limits ? { resources: effective } : {}),
      ...(input.persistentHome !== undefined && input.persistentHome !== null ? { persistentHome: input.persistentHome } : {}),
      ...(input.idleTimeout ? { idleTimeout: input.idleTimeout } : {}),
      ...(maxSessionDuration ? { maxSessionDuration } : {}),
      ...(input.startupTimeout ? { startupTimeout: input.startupTimeout } : {}),
      ...(input.minConnections !== undefined && input.minConnections !== null ? { minConnections: input.minConnections } : {}),
      ...(input.maxConnections !== undefined && input.maxConnections !== null ? { maxConnections: input.maxConnections } : {}),
      ...(input.autoStart !== undefined && input.autoStart !== null ? { autoStart: input.autoStart } : {}),
    };
    const body: SessionManifest = {
      apiVersion: STREAMSPACE_API_VERSION,
      kind: 'Session',
      // The user's immutable id names their home claim (a username can be crafted to collide).
      // Created with the reconciler's finalizer: its first reconcile applies the workload instead of only adding it
      // (a Session made with kubectl gets it from the reconciler).
      metadata: {
        name: '', // given by createUnderFreshName below
        namespace: this.deps.namespace,
        annotations: { [ANNOTATION_USER_ID]: caller.id },
        finalizers: [SESSION_FINALIZER],
      },
      spec,
    };
    // Check, create and write the row under the user's quota lock: parallel creates cannot all pass the check.
    const written = await this.deps.quotas.serialized(caller.id, async (manager) => {
      await this.deps.quotas.check(caller.id, { sessions: 1, runningSessions: 1, ...resourcesOf(effective) }, manager);
      const created = await createUnderFreshName(
        (name) => this.objects().create({ ...body, metadata: { ...body.metadata, name } }),
        () => generateSessionName(caller.username, input.template),
      );
      const result = await this.table().write(created, manager);
      await this.deps.audit.record({ action: 'session.create', resourceType: 'session', resourceId: result.saved.id, changes: { name: created.metadata.name, input: { ...input } }, source }, manager);
      return result;
    });
    // Announced once committed: a subscriber reading the row must find it.
    return toSessionType(await this.table().announce(written));
  }

  /** The caller's newest hibernated session of a template (their own, never one shared with them), if any. */
  private hibernatedOf(caller: Caller, template: string): Promise<SessionEntity | null> {
    return this.deps.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.namespace = :ns AND s.username = :me AND s.template = :template AND s.state = :state', { ns: this.deps.namespace, me: caller.username, template, state: 'hibernated' })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .getOne();
  }

  /** Writes the API server's answer to the session table at once, so the caller can read its session immediately. */
  private table(): SessionTable {
    if (!this.deps.sessionTable) throw noCluster('sessions and templates');
    return this.deps.sessionTable;
  }

  /**
   * The one place a session's state changes (hibernate and wake by the API, wake on connect, the hibernation
   * timer): the quota check when it starts, the patch of spec.state, the session table, the audit row.
   * A Session that no longer exists answers NOT_FOUND.
   */
  async changeState(row: SessionEntity, to: SessionState, change: StateChange): Promise<SessionEntity> {
    const userId = to === 'running' ? (row.userId ?? change.quotaUserId) : undefined;
    const entry = {
      action: change.action,
      resourceType: 'session',
      resourceId: row.id,
      changes: { state: { from: row.state, to }, ...change.details },
      ...(change.source ? { source: change.source } : {}),
      ...(change.actor === null ? { actor: null } : {}),
    };
    // A job's change (the hibernation timer) is audited first, once per idle period: a leader killed between the
    // change and its row leaves the row, and the next leader's repeat adds none.
    const auditFirst = change.auditOnceSince !== undefined;
    const apply = async (manager?: EntityManager) => {
      if (userId) await this.deps.quotas.check(userId, { sessions: 0, runningSessions: 1, ...resourcesOf((row.spec as { resources?: unknown }).resources), excludeSessionId: row.id }, manager);
      if (auditFirst) await this.deps.audit.recordOnceSince(entry, change.auditOnceSince!);
      let updated: SessionManifest;
      try {
        updated = await this.objects().patch(row.name, { spec: { state: to } });
      } catch (err) {
        if (isNotFound(err)) throw notFound('Session', row.id);
        throw err;
      }
      const written = await this.table().write(updated, manager);
      if (!auditFirst) await this.deps.audit.record(entry, manager);
      return written;
    };
    // Waking counts against the running-session, CPU and memory quota: under the user's quota lock, like a create;
    // the row is announced once committed.
    return this.table().announce(await (userId ? this.deps.quotas.serialized(userId, apply) : apply()));
  }

  private async setState(caller: Caller, id: string, action: 'hibernate' | 'wake', source: AuditSource): Promise<SessionType> {
    const row = await this.row(caller, id);
    const target: SessionState = action === 'hibernate' ? 'hibernated' : 'running';
    if (row.state === 'terminated') throw badTransition(action, 'terminated');
    if (row.state === target) throw badTransition(action, target);
    return toSessionType(await this.changeState(row, target, { action: `session.${action}`, source, quotaUserId: caller.id }));
  }

  hibernate(caller: Caller, id: string, source: AuditSource) {
    return this.setState(caller, id, 'hibernate', source);
  }

  wake(caller: Caller, id: string, source: AuditSource) {
    return this.setState(caller, id, 'wake', source);
  }

  async delete(caller: Caller, id: string, source: AuditSource): Promise<SessionType> {
    const row = await this.row(caller, id);
    await this.objects().deleteIfExists(row.name);
    await this.deps.audit.record({ action: 'session.delete', resourceType: 'session', resourceId: id, changes: { name: row.name }, source });
    return toSessionType(row);
  }
}
