import type { DataSource } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import { AppError, ErrorCode, badInput, notFound } from '../../platform/graphql/errors';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import { isAdmin } from '../../platform/graphql/authorization';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { isDnsLabel } from './template-normalize';
import { TemplateRatingEntity } from './template-rating.entity';
import type { TemplateRatingSummaryType, TemplateReviewType, TemplateUsageType } from './dto/template-rating.type';
import type { TemplateService } from './template.service';

export const REVIEW_MAX_LENGTH = 500;
// eslint-disable-next-line no-control-regex -- control characters (but newlines and tabs) are what it refuses
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ReviewRow {
  id: string;
  template: string;
  username: string;
  user_id: string;
  stars: number;
  review: string | null;
  created_at: Date;
  updated_at: Date;
}

function toReview(r: ReviewRow, caller: Caller | null): TemplateReviewType {
  return {
    id: r.id,
    templateName: r.template,
    username: r.username,
    stars: Number(r.stars),
    review: r.review,
    mine: caller?.id === r.user_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const SELECT = `SELECT r.id, r.template, u.username, r.user_id, r.stars, r.review, r.created_at, r.updated_at
  FROM template_ratings r JOIN users u ON u.id = r.user_id`;

/**
 * Users' ratings and short reviews of templates (one per user and template, editable), and the usage figures of
 * templates (installs, launches, running sessions) read from the audit log and the sessions table.
 */
export class TemplateRatingService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      audit: AuditService;
      /** Checks that a template exists before it is rated; null when there is no cluster. */
      templates: Pick<TemplateService, 'getObject'> | null;
    },
  ) {}

  /** Rates (and reviews) a template as the caller, or edits the caller's earlier rating; audited as template.rate. */
  async rate(caller: Caller, templateName: string, stars: number, review: string | null | undefined, source: AuditSource): Promise<TemplateReviewType> {
    if (!Number.isInteger(stars) || stars < 1 || stars > 5) throw badInput('stars must be a whole number from 1 to 5', { field: 'stars' });
    const text = review?.trim() || null;
    if (text && text.length > REVIEW_MAX_LENGTH) throw badInput(`The review must be at most ${REVIEW_MAX_LENGTH} characters`, { field: 'review', max: REVIEW_MAX_LENGTH });
    if (text && CONTROL.test(text)) throw badInput('The review must not contain control characters', { field: 'review' });
    if (!isDnsLabel(templateName) || !this.deps.templates || !(await this.deps.templates.getObject(templateName))) throw notFound('Template', templateName);
    const id = await this.deps.dataSource.transaction(async (manager) => {
      const before = await manager.getRepository(TemplateRatingEntity).findOneBy({ template: templateName, userId: caller.id });
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(TemplateRatingEntity)
        .values({ template: templateName, userId: caller.id, stars, review: text })
        .orUpdate(['stars', 'review', 'updated_at'], ['template', 'user_id'])
        .returning(['id'])
        .execute();
      const rowId = (inserted.raw as { id: string }[])[0].id;
      await this.deps.audit.record(
        {
          action: 'template.rate',
          resourceType: 'template',
          resourceId: templateName,
          changes: {
            reviewId: rowId,
            stars,
            reviewLength: text?.length ?? 0,
            ...(before ? { previous: { stars: before.stars, reviewLength: before.review?.length ?? 0 } } : { created: true }),
          },
          source,
        },
        manager,
      );
      return rowId;
    });
    return this.byId(caller, id);
  }

  /** Deletes a review: the caller's own, or (admins) anyone's; another user's answers FORBIDDEN. Audited as template.review.delete. */
  async remove(caller: Caller, id: string, source: AuditSource): Promise<TemplateReviewType> {
    const found = await this.byId(caller, id);
    const row = await this.deps.dataSource.getRepository(TemplateRatingEntity).findOneByOrFail({ id });
    if (row.userId !== caller.id && !isAdmin(caller)) throw new AppError(ErrorCode.FORBIDDEN, 'Only its author or an administrator may delete a review', { id });
    await this.deps.dataSource.transaction(async (manager) => {
      await manager.getRepository(TemplateRatingEntity).delete({ id });
      await this.deps.audit.record(
        { action: 'template.review.delete', resourceType: 'template', resourceId: row.template, changes: { reviewId: id, author: found.username, stars: row.stars, moderated: row.userId !== caller.id }, source },
        manager,
      );
    });
    return found;
  }

  async byId(caller: Caller | null, id: string): Promise<TemplateReviewType> {
    const rows: ReviewRow[] = UUID.test(id) ? await this.deps.dataSource.query(`${SELECT} WHERE r.id = $1`, [id]) : [];
    if (!rows[0]) throw notFound('Review', id);
    return toReview(rows[0], caller);
  }

  /** Reviews of a template, most recently edited first (keyset pages). */
  async list(caller: Caller, templateName: string, first: number | undefined, after: string | undefined): Promise<Connection<TemplateReviewType>> {
    const size = pageSize(first);
    const params: unknown[] = [templateName];
    let where = 'WHERE r.template = $1';
    if (after) {
      const [at, id] = decodeCursor(after, 2);
      if (!UUID.test(String(id)) || Number.isNaN(Date.parse(String(at)))) throw badInput('The `after` cursor is not valid', { after });
      params.push(String(at), String(id));
      where += ` AND (r.updated_at, r.id) < ($2::timestamptz, $3::uuid)`;
    }
    const [{ count }] = (await this.deps.dataSource.query(`SELECT count(*)::int AS count FROM template_ratings WHERE template = $1`, [templateName])) as { count: number }[];
    const rows: ReviewRow[] = await this.deps.dataSource.query(`${SELECT} ${where} ORDER BY r.updated_at DESC, r.id DESC LIMIT ${size + 1}`, params);
    const connection = toConnection(rows, size, count, Boolean(after), (r) => [r.updated_at.toISOString(), r.id]);
    return { ...connection, edges: connection.edges.map((e) => ({ cursor: e.cursor, node: toReview(e.node, caller) })) };
  }

  /** Average and count per template name (batched: one query for a page of templates). */
  async summaries(names: readonly string[]): Promise<TemplateRatingSummaryType[]> {
    const rows: { template: string; average: string; count: number }[] = await this.deps.dataSource.query(
      `SELECT template, round(avg(stars)::numeric, 2) AS average, count(*)::int AS count FROM template_ratings WHERE template = ANY($1) GROUP BY template`,
      [[...names]],
    );
    const by = new Map(rows.map((r) => [r.template, r]));
    return names.map((n) => {
      const r = by.get(n);
      return r ? { average: Number(r.average), count: r.count } : { average: null, count: 0 };
    });
  }

  /** The caller's own review of each template name, or null (batched). */
  async mine(caller: Caller, names: readonly string[]): Promise<(TemplateReviewType | null)[]> {
    const rows: ReviewRow[] = await this.deps.dataSource.query(`${SELECT} WHERE r.user_id = $1 AND r.template = ANY($2)`, [caller.id, [...names]]);
    const by = new Map(rows.map((r) => [r.template, r]));
    return names.map((n) => {
      const r = by.get(n);
      return r ? toReview(r, caller) : null;
    });
  }

  /**
   * Usage per template name (batched): installs and launches from the audit log (kept in full), sessions whose
   * desired state is running from the sessions table.
   */
  async usage(names: readonly string[]): Promise<TemplateUsageType[]> {
    const list = [...names];
    const [installs, launches, active] = (await Promise.all([
      this.deps.dataSource.query(
        `SELECT resource_id AS name, count(*)::int AS n FROM audit_log WHERE action = 'catalog.install' AND outcome = 'success' AND resource_id = ANY($1) GROUP BY resource_id`,
        [list],
      ),
      this.deps.dataSource.query(
        `SELECT changes->'input'->>'template' AS name, count(*)::int AS n FROM audit_log
          WHERE action = 'session.create' AND outcome = 'success' AND changes->'input'->>'template' = ANY($1) GROUP BY 1`,
        [list],
      ),
      this.deps.dataSource.query(`SELECT template AS name, count(*)::int AS n FROM sessions WHERE state = 'running' AND template = ANY($1) GROUP BY template`, [list]),
    ])) as { name: string; n: number }[][];
    const map = (rows: { name: string; n: number }[]) => new Map(rows.map((r) => [r.name, r.n]));
    const [i, l, a] = [map(installs), map(launches), map(active)];
    return list.map((n) => ({ templateName: n, installs: i.get(n) ?? 0, launches: l.get(n) ?? 0, activeSessions: a.get(n) ?? 0 }));
  }
}
