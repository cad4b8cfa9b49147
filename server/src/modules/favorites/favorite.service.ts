import type { DataSource } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import { badInput, notFound } from '../../platform/graphql/errors';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { SessionEntity } from '../sessions/session.entity';
import { isDnsLabel } from '../templates/template-normalize';
import type { TemplateService } from '../templates/template.service';
import type { FavoriteType, RecentAppType } from './dto/favorite.type';
import { FavoriteEntity } from './favorite.entity';

/** Most favorites one user may keep; a guard against unbounded rows, far above what a launcher shows. */
export const MAX_FAVORITES = 200;
export const MAX_RECENT_APPS = 50;

/**
 * Per-user launcher preferences: pinned templates (stored) and recently used apps (derived from the
 * caller's rows in the session table, so nothing extra is written when a session starts).
 */
export class FavoriteService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      audit: AuditService;
      /** Checks that a template exists before it is pinned; null when there is no cluster. */
      templates: Pick<TemplateService, 'getObject'> | null;
      hasCluster: boolean;
      /** The namespace whose sessions count as the caller's (the session table holds one namespace). */
      namespace: string;
    },
  ) {}

  async list(caller: Caller): Promise<FavoriteType[]> {
    const rows = await this.deps.dataSource
      .getRepository(FavoriteEntity)
      .find({ where: { userId: caller.id }, order: { createdAt: 'ASC', template: 'ASC' } });
    return rows.map((r) => ({ templateName: r.template, createdAt: r.createdAt }));
  }

  /**
   * Pins (favorite=true) or unpins a template and returns the caller's favorites afterwards. Idempotent:
   * pinning twice keeps the first pin time. Pinning a template that does not exist answers NOT_FOUND;
   * unpinning never does (the template may have been deleted since).
   */
  async set(caller: Caller, template: string, favorite: boolean, source: AuditSource): Promise<FavoriteType[]> {
    if (!isDnsLabel(template)) throw notFound('Template', template);
    if (favorite) {
      if (this.deps.hasCluster && this.deps.templates && !(await this.deps.templates.getObject(template))) throw notFound('Template', template);
      await this.deps.dataSource.transaction(async (manager) => {
        const count = await manager.getRepository(FavoriteEntity).countBy({ userId: caller.id });
        if (count >= MAX_FAVORITES && !(await manager.getRepository(FavoriteEntity).existsBy({ userId: caller.id, template }))) {
          throw badInput(`At most ${MAX_FAVORITES} favorites; unpin one first`, { max: MAX_FAVORITES });
        }
        const inserted = await manager
          .createQueryBuilder()
          .insert()
          .into(FavoriteEntity)
          .values({ userId: caller.id, template })
          .orIgnore()
          .execute();
        if ((inserted.raw as unknown[]).length > 0) {
          await this.deps.audit.record({ action: 'favorite.add', resourceType: 'template', resourceId: template, changes: { favorite: true }, source }, manager);
        }
      });
    } else {
      await this.deps.dataSource.transaction(async (manager) => {
        const removed = await manager.getRepository(FavoriteEntity).delete({ userId: caller.id, template });
        if (removed.affected) {
          await this.deps.audit.record({ action: 'favorite.remove', resourceType: 'template', resourceId: template, changes: { favorite: false }, source }, manager);
        }
      });
    }
    return this.list(caller);
  }

  /** Templates the caller started sessions of, most recent first. */
  async recent(caller: Caller, first = 6): Promise<RecentAppType[]> {
    const limit = Math.max(1, Math.min(MAX_RECENT_APPS, Math.trunc(first)));
    const rows = await this.deps.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select('s.template', 'template')
      .addSelect('MAX(s.created_at)', 'last_used_at')
      .addSelect('COUNT(*)::int', 'session_count')
      .where('s.namespace = :ns', { ns: this.deps.namespace })
      .andWhere('s.username = :username', { username: caller.username })
      .groupBy('s.template')
      .orderBy('last_used_at', 'DESC')
      .addOrderBy('s.template', 'ASC')
      .limit(limit)
      .getRawMany<{ template: string; last_used_at: Date; session_count: number }>();
    return rows.map((r) => ({ templateName: r.template, lastUsedAt: new Date(r.last_used_at), sessionCount: Number(r.session_count) }));
  }
}
