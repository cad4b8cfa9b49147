import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { DataSource, EntityManager } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import { badInput } from '../../platform/graphql/errors';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import { AuditLogEntity } from './audit-log.entity';

/** Where an audited action came from; a GraphQLContext fits as it is. */
export interface AuditSource {
  caller?: Pick<Caller, 'id' | 'username' | 'sid'> | null;
  requestId?: string;
  clientIp?: string;
}

export interface AuditEntry {
  /** Dotted verb, e.g. `user.create`, `session.delete`, `auth.login`. */
  action: string;
  /** e.g. `user`, `session`, `template`. */
  resourceType: string;
  resourceId?: string | null;
  outcome?: 'success' | 'failure';
  /** The input or a before/after; secret fields are redacted before storing. */
  changes?: Record<string, unknown> | null;
  /** Usually the GraphQL context (`ctx`): gives actor, request id and client IP. */
  source?: AuditSource;
  /** Overrides the source's caller (e.g. a failed login names the attempted username). */
  actor?: { id: string | null; username: string | null } | null;
}

export interface AuditFilter {
  actorId?: string;
  actorUsername?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  outcome?: string;
  since?: Date;
  until?: Date;
}

const SECRET_KEY = /(password|passwd|token|secret|key|credential|authorization|cookie)/i;
export const REDACTED = '[REDACTED]';

/**
 * Removes secrets from audit changes: any field whose name contains password, token, secret, key,
 * credential, authorization or cookie is replaced with "[REDACTED]", at any depth.
 */
/** A lone UTF-16 surrogate (half of a pair): PostgreSQL's json refuses its `\uD800` escape. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` with lone surrogates replaced by U+FFFD, as text columns store them (the driver encodes them so). */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[wellFormed(k)] = SECRET_KEY.test(k) && v !== null && v !== undefined ? REDACTED : redactSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** The audit_log columns an entry fills, in the order of `auditRowParams`. */
export const AUDIT_COLUMNS = 'actor_id, actor_username, action, resource_type, resource_id, outcome, changes, request_id, client_ip';

/**
 * An entry as the nine parameters of AUDIT_COLUMNS (changes as JSON text, redacted), for statements that write
 * the audit row beside the change they record (`$n::uuid, $n+1::varchar, ..., $n+6::jsonb, ...`).
 */
export function auditRowParams(entry: AuditEntry): unknown[] {
  const actor = entry.actor !== undefined ? entry.actor : entry.source?.caller ?? null;
  return [
    actor?.id ?? null,
    actor?.username ? actor.username.slice(0, 63) : null,
    entry.action,
    entry.resourceType,
    entry.resourceId ?? null,
    entry.outcome ?? 'success',
    entry.changes ? JSON.stringify(redactSecrets(entry.changes)) : null,
    entry.source?.requestId?.slice(0, 64) ?? null,
    entry.source?.clientIp?.slice(0, 64) ?? null,
  ];
}

/** `$n::uuid, ..., $n+8::varchar`: the typed placeholders of auditRowParams starting at parameter n. */
export function auditRowPlaceholders(n: number): string {
  const types = ['uuid', 'varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'jsonb', 'varchar', 'varchar'];
  return types.map((t, i) => `$${n + i}::${t}`).join(', ');
}

/**
 * The audit log: one append-only row per mutation, login, logout and failed login. Pass the
 * EntityManager of the transaction that makes the change so the row commits (or rolls back) with it.
 */
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  async record(entry: AuditEntry, manager?: EntityManager): Promise<AuditLogEntity> {
    const repo = (manager ?? this.dataSource.manager).getRepository(AuditLogEntity);
    const actor = entry.actor !== undefined ? entry.actor : entry.source?.caller ?? null;
    const row = repo.create({
      actorId: actor?.id ?? null,
      actorUsername: actor?.username ? actor.username.slice(0, 63) : null,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId ?? null,
      outcome: entry.outcome ?? 'success',
      changes: entry.changes ? (redactSecrets(entry.changes) as Record<string, unknown>) : null,
      requestId: entry.source?.requestId?.slice(0, 64) ?? null,
      clientIp: entry.source?.clientIp?.slice(0, 64) ?? null,
    });
    // insert (not save): the id column is GENERATED ALWAYS, and save() would try a select-then-update.
    const result = await repo.insert(row as QueryDeepPartialEntity<AuditLogEntity>);
    const generated = result.generatedMaps[0] as Partial<AuditLogEntity> | undefined;
    return Object.assign(row, generated ?? {});
  }

  /**
   * Records `entry` unless a row of the same action on the same resource was written at or after `since`, in one
   * statement (for changes a new leader may repeat: see StateChange.auditOnceSince). Resolves whether it wrote.
   */
  async recordOnceSince(entry: AuditEntry, since: Date): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO audit_log (${AUDIT_COLUMNS})
       SELECT ${auditRowPlaceholders(1)}
       WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE action = $3 AND resource_type = $4 AND resource_id = $5 AND at >= $10::timestamptz)
       RETURNING id`,
      [...auditRowParams(entry), since],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Newest first, keyset-paginated on the id (an identity column, so insertion order). */
  async list(filter: AuditFilter, first?: number, after?: string): Promise<Connection<AuditLogEntity>> {
    const size = pageSize(first);
    const qb = this.dataSource.getRepository(AuditLogEntity).createQueryBuilder('a');
    if (filter.actorId && !USER_ID.test(filter.actorId)) throw badInput('actorId is not a user id', { actorId: filter.actorId });
    if (filter.actorId) qb.andWhere('a.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.actorUsername) qb.andWhere('a.actor_username = :actorUsername', { actorUsername: filter.actorUsername });
    if (filter.action) {
      // `session.` matches every session action; an exact action otherwise.
      if (filter.action.endsWith('.')) qb.andWhere('a.action LIKE :prefix', { prefix: `${filter.action.replace(/[%_\\]/g, '\\$&')}%` });
      else qb.andWhere('a.action = :action', { action: filter.action });
    }
    if (filter.resourceType) qb.andWhere('a.resource_type = :resourceType', { resourceType: filter.resourceType });
    if (filter.resourceId) qb.andWhere('a.resource_id = :resourceId', { resourceId: filter.resourceId });
    if (filter.outcome) qb.andWhere('a.outcome = :outcome', { outcome: filter.outcome });
    if (filter.since) qb.andWhere('a.at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('a.at < :until', { until: filter.until });
    const totalCount = await qb.clone().getCount();
    if (after) {
      const [id] = decodeCursor(after, 1);
      if (!/^[0-9]{1,19}$/.test(String(id))) throw badInput('The `after` cursor is not valid', { after });
      qb.andWhere('a.id < :id', { id: String(id) });
    }
    const rows = await qb.orderBy('a.id', 'DESC').limit(size + 1).getMany();
    return toConnection(rows, size, totalCount, Boolean(after), (r) => [String(r.id)]);
  }
}
