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
  /** CPU cores the session asks for (its requests, else limits). */
  cpu: number;
  /** Bytes of memory the session asks for (its requests, else limits). */
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

/** CPU and memory of a session's `resources` ({requests, limits} with Kubernetes quantities). */
export function resourcesOf(resources: unknown): { cpu: number; memory: number } {
  const r = (resources ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  const pick = (name: string) => parseQuantity(r.requests?.[name]) ?? parseQuantity(r.limits?.[name]) ?? 0;
  return { cpu: pick('cpu'), memory: pick('memory') };
}

/**
 * Per-user limits: default limits (runtime settings whose defaults come from the environment, so an
 * admin's change applies at once to users without their own quota), overridden per user (users.quota, set by admins through
 * updateUser). `check` is called by createSession and wakeSession before anything reaches the cluster.
 * Usage is read from the sessions table: sessions not terminated count; running ones count toward the
 * running, CPU and memory limits.
 */
export class QuotaService {
  private readonly defaults: QuotaDefaultsSource;

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
   * Throws QUOTA_EXCEEDED (with limit, used and requested for the first limit crossed) when the request
   * does not fit. Pass the EntityManager of the transaction that creates or wakes the session.
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
