import type { DataSource, EntityManager } from 'typeorm';
import type { QuotaLimits } from '../../config/config';
import { AppError, ErrorCode, notFound } from '../../platform/graphql/errors';
import { SessionEntity } from '../sessions/session.entity';
import { parseQuantity } from '../templates/quantity';
import { UserEntity } from '../users/user.entity';
import type { QuotaOverrides } from '../users/users.service';

/** What a session operation would add: createSession asks for a new, running session; wakeSession only for running. */
export interface QuotaRequest {
  /** New sessions (1 for createSession, 0 for wakeSession). */
  sessions: number;
  /** Sessions that will be running (1 for both createSession and wakeSession). */
  runningSessions: number;
  /** CPU cores the session may use (its limits, else requests). */
  cpu: number;
  /** Bytes of memory the session may use (its limits, else requests). */
  memory: number;
  /** A session already counted in the usage that this request replaces (the one being woken). */
  excludeSessionId?: string;
}

export interface QuotaUsage {
  sessions: number;
  runningSessions: number;
  cpu: number;
  memory: number;
}

/** Where the default limits come from: the runtime settings (modules/configuration), read from memory. */
export interface QuotaDefaultsSource {
  quotaDefaults(): QuotaLimits;
  /** Resolves once a pending reload of the settings is done. */
  fresh(): Promise<void>;
}

export const QUOTA_FIELDS = ['maxSessions', 'maxRunningSessions', 'cpu', 'memory'] as const;

/**
 * CPU and memory a session counts for, from its `resources` ({requests, limits} with Kubernetes quantities): the
 * limits (what it may use), else the requests. Counting requests let a session with a small request and a large
 * limit use far more than the quota.
 */
export function resourcesOf(resources: unknown): { cpu: number; memory: number } {
  const r = (resources ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  const pick = (name: string) => parseQuantity(r.limits?.[name]) ?? parseQuantity(r.requests?.[name]) ?? 0;
  return { cpu: pick('cpu'), memory: pick('memory') };
}

/** Two-key advisory lock space of the quota check (the second key is the user's id, hashed). */
const QUOTA_LOCK_CLASS = 'streamspace.quota';

/**
 * Per-user limits: default limits (runtime settings whose defaults come from the environment, so an
 * admin's change applies at once to users without their own quota), overridden per user (users.quota, set by admins through
 * updateUser). `check` is called by createSession and wakeSession before anything reaches the cluster.
 * Usage is read from the sessions table: sessions not terminated count; running ones count toward the
 * running, CPU and memory limits.
 */
export class QuotaService {
  private readonly defaults: QuotaDefaultsSource;
  /** The tail of each user's queue on this process: one transaction (one pool connection) per user waits for the lock. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dataSource: DataSource,
    defaults: QuotaLimits | QuotaDefaultsSource,
  ) {
    this.defaults = 'quotaDefaults' in defaults ? defaults : { quotaDefaults: () => defaults, fresh: () => Promise.resolve() };
  }

  effective(overrides: QuotaOverrides | Record<string, unknown> | null | undefined): QuotaLimits & { overridden: string[] } {
    const o = (overrides ?? {}) as Record<string, unknown>;
    const overridden = QUOTA_FIELDS.filter((k) => typeof o[k] === 'number');
    const defaults = this.defaults.quotaDefaults();
    const value = (k: (typeof QUOTA_FIELDS)[number]) => (typeof o[k] === 'number' ? (o[k] as number) : defaults[k]);
    return { maxSessions: value('maxSessions'), maxRunningSessions: value('maxRunningSessions'), cpu: value('cpu'), memory: value('memory'), overridden };
  }

  async limitsFor(userId: string, manager?: EntityManager): Promise<QuotaLimits & { overridden: string[] }> {
    const user = await (manager ?? this.dataSource.manager).getRepository(UserEntity).findOneBy({ id: userId });
    if (!user) throw notFound('User', userId);
    await this.defaults.fresh();
    return this.effective(user.quota);
  }

  async usage(userId: string, manager?: EntityManager, excludeSessionId?: string): Promise<QuotaUsage> {
    const qb = (manager ?? this.dataSource.manager)
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select(['s.id', 's.state', 's.spec'])
      .where('s.user_id = :userId', { userId })
      .andWhere("s.state <> 'terminated'");
    if (excludeSessionId) qb.andWhere('s.id <> :excludeSessionId', { excludeSessionId });
    const rows = await qb.getMany();
    const usage: QuotaUsage = { sessions: rows.length, runningSessions: 0, cpu: 0, memory: 0 };
    for (const row of rows) {
      if (row.state !== 'running') continue;
      usage.runningSessions++;
      const r = resourcesOf((row.spec as { resources?: unknown }).resources);
      usage.cpu += r.cpu;
      usage.memory += r.memory;
    }
    return usage;
  }

  /**
   * Runs `work` (check, create or wake, write the session row) in one transaction holding the user's quota lock, a
   * PostgreSQL advisory transaction lock keyed by the user id, so checks of one user never interleave on any
   * replica: the next check sees the row the previous one wrote. `work` must do its database writes with the
   * manager it is given (a second pool connection could be the one the waiters hold). On one process the user's
   * callers queue in memory first, so waiting holds no pool connection.
   */
  async serialized<T>(userId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const run = previous.then(
      () => this.locked(userId, work),
      () => this.locked(userId, work),
    );
    const tail = run.catch(() => undefined);
    this.queues.set(userId, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(userId) === tail) this.queues.delete(userId);
    }
  }

  private locked<T>(userId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [QUOTA_LOCK_CLASS, userId]);
      return work(manager);
    });
  }

  /**
   * Throws QUOTA_EXCEEDED (with limit, used and requested for the first limit crossed) when the request
   * does not fit. Pass the EntityManager of the transaction that creates or wakes the session (from serialized()).
   */
  async check(userId: string, requested: QuotaRequest, manager?: EntityManager): Promise<void> {
    const limits = await this.limitsFor(userId, manager);
    const used = await this.usage(userId, manager, requested.excludeSessionId);
    if (requested.excludeSessionId) used.sessions += 1; // the woken session still exists
    const checks: [string, number, number, number, (n: number) => string][] = [
      ['maxSessions', limits.maxSessions, used.sessions, requested.sessions, (n) => `${n} sessions`],
      ['maxRunningSessions', limits.maxRunningSessions, used.runningSessions, requested.runningSessions, (n) => `${n} running sessions`],
      ['cpu', limits.cpu, used.cpu, requested.cpu, (n) => `${round(n)} CPU cores`],
      ['memory', limits.memory, used.memory, requested.memory, (n) => `${round(n / 2 ** 30)} GiB of memory`],
    ];
    for (const [resource, limit, inUse, asked, describe] of checks) {
      if (asked > 0 && inUse + asked > limit + 1e-9) {
        throw new AppError(
          ErrorCode.QUOTA_EXCEEDED,
          `Quota exceeded: ${describe(inUse)} in use + ${describe(asked)} requested > limit of ${describe(limit)}`,
          { resource, limit, used: inUse, requested: asked },
        );
      }
    }
  }
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** What one session may ask for at most, per resource, and where that maximum comes from. */
export interface ResourceMaximum {
  cpu: { value: number; from: 'template' | 'quota' };
  memory: { value: number; from: 'template' | 'quota' };
}

/**
 * The most one session may ask for: the template's limits (an admin wrote them), else the user's whole CPU or
 * memory quota (an admin's setting as well). A user may lower what the template gives, never raise it.
 */
export function resourceMaximum(templateResources: unknown, limits: Pick<QuotaLimits, 'cpu' | 'memory'>): ResourceMaximum {
  const t = (templateResources ?? {}) as { limits?: Record<string, unknown> };
  const pick = (name: 'cpu' | 'memory') => {
    const fromTemplate = parseQuantity(t.limits?.[name]);
    return fromTemplate !== null ? { value: fromTemplate, from: 'template' as const } : { value: limits[name], from: 'quota' as const };
  };
  return { cpu: pick('cpu'), memory: pick('memory') };
}

/**
 * Refuses (QUOTA_EXCEEDED, reason ResourcesAboveMaximum, with the resource, the field, what was asked and the
 * maximum) a session's own requests or limits above `maximum`.
 */
export function checkResourceMaximum(asked: unknown, maximum: ResourceMaximum): void {
  const r = (asked ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  for (const field of ['limits', 'requests'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const value = parseQuantity(r[field]?.[resource]);
      if (value === null) continue;
      const max = maximum[resource];
      if (value > max.value + 1e-9) {
        const show = (n: number) => (resource === 'cpu' ? `${round(n)} CPU cores` : `${round(n / 2 ** 30)} GiB of memory`);
        const by = max.from === 'template' ? "the template's limit" : 'your quota';
        throw new AppError(ErrorCode.QUOTA_EXCEEDED, `Resources above the maximum: ${resource} ${field} of ${show(value)} > ${by} of ${show(max.value)}`, {
          reason: 'ResourcesAboveMaximum',
          resource,
          field,
          requested: value,
          maximum: max.value,
          maximumFrom: max.from,
        });
      }
    }
  }
}
