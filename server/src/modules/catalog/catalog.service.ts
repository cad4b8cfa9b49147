import { readsAll } from '../../platform/graphql/authorization';
import type { DataSource } from 'typeorm';
import { stringify } from 'yaml';
import type { Caller } from '../../platform/graphql/context';
import { AppError, ErrorCode, badInput, notFound } from '../../platform/graphql/errors';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { TemplateService } from '../templates/template.service';
import type { TemplateSpec } from '../templates/template.crd';
import { securityExceptions } from '../templates/template-security';
import { CatalogSort, type CatalogCategoryType, type CatalogInstallResultType, type CatalogTemplateFilter, type CatalogTemplateType } from './dto/catalog-template.type';

/** Annotations an installed Template carries about where it came from. */
export const CATALOG_REPOSITORY_ANNOTATION = 'stream.streamspace.io/catalog-repository';
export const CATALOG_COMMIT_ANNOTATION = 'stream.streamspace.io/catalog-commit';
export const CATALOG_PATH_ANNOTATION = 'stream.streamspace.io/catalog-path';

/** Where the API serves catalog icons and READMEs (see catalog-assets.routes.ts). */
export const CATALOG_ASSET_BASE = '/api/catalog/templates';

interface Row {
  id: string;
  repository_id: string;
  repository_name: string;
  name: string;
  display_name: string;
  description: string;
  category: string;
  tags: string[];
  app_type: string;
  version: string | null;
  icon_path: string | null;
  readme_path: string | null;
  source_path: string;
  source_commit: string | null;
  install_count: number;
  manifest: { spec?: { baseImage?: string; icon?: string } } & Record<string, unknown>;
  updated_at: Date;
  rank?: string;
  sort_name?: string;
}

export function toCatalogTemplateType(r: Row): CatalogTemplateType {
  const declaredIcon = r.manifest.spec?.icon;
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    description: r.description,
    category: r.category,
    tags: r.tags,
    appType: r.app_type,
    version: r.version,
    baseImage: r.manifest.spec?.baseImage ?? '',
    repositoryId: r.repository_id,
    repositoryName: r.repository_name,
    iconUrl: r.icon_path ? `${CATALOG_ASSET_BASE}/${r.id}/icon` : typeof declaredIcon === 'string' && /^https:\/\//.test(declaredIcon) ? declaredIcon : null,
    readmeUrl: r.readme_path ? `${CATALOG_ASSET_BASE}/${r.id}/readme` : null,
    sourcePath: r.source_path,
    sourceCommit: r.source_commit,
    installCount: r.install_count,
    manifest: r.manifest,
    securityExceptions: securityExceptions((r.manifest.spec ?? {}) as Pick<TemplateSpec, 'security'>),
    updatedAt: r.updated_at,
  };
}

/** Words of a search, for a prefix query ("fire fox" -> fire:* & fox:*); only letters and digits reach to_tsquery. */
export function searchTokens(search: string): string[] {
  return (search.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 10).map((t) => t.slice(0, 64));
}

const SELECT = `t.id, t.repository_id, r.name AS repository_name, t.name, t.display_name, t.description, t.category, t.tags, t.app_type, t.version,
  t.icon_path, t.readme_path, t.source_path, t.source_commit, t.install_count, t.manifest, t.updated_at`;

/** Builds parameterised SQL fragments. */
class Sql {
  readonly params: unknown[] = [];
  readonly where: string[] = [];
  p(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/**
 * Browsing the catalog (every signed-in user, filtered by repository visibility), its icons and
 * READMEs, and installing a catalog entry as a Template object.
 */
export class CatalogService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      audit: AuditService;
      templates: TemplateService | null;
      /** Whether users (not only admins) may browse the catalog now (the features.catalogBrowsing setting). */
      browsingAllowed?: () => boolean;
    },
  ) {}

  /** Refuses (FORBIDDEN, feature catalogBrowsing) a user's browse while an admin has switched it off. */
  private mayBrowse(caller: Caller): void {
    if (caller.role === 'admin' || (this.deps.browsingAllowed?.() ?? true)) return;
    throw new AppError(ErrorCode.FORBIDDEN, 'Browsing the catalog is switched off by an administrator', { feature: 'catalogBrowsing' });
  }

  /** Repositories the caller may see: public ones, ones that list the caller, all for admins. */
  private visibility(sql: Sql, caller: Caller): void {
    if (readsAll(caller)) return;
    sql.where.push(`(r.public OR ${sql.p(caller.username)} = ANY(r.allowed_users) OR ${sql.p(caller.id)} = ANY(r.allowed_users))`);
  }

  private filters(sql: Sql, filter: CatalogTemplateFilter | null | undefined): { rank: string | null } {
    if (filter?.category) sql.where.push(`t.category = ${sql.p(filter.category)}`);
    if (filter?.repository) sql.where.push(`r.name = ${sql.p(filter.repository)}`);
    if (filter?.appType) sql.where.push(`t.app_type = ${sql.p(filter.appType)}`);
    if (filter?.tags?.length) sql.where.push(`t.tags @> ${sql.p(filter.tags)}::text[]`);
    const search = filter?.search?.trim();
    if (!search) return { rank: null };
    if (search.length > 200) throw badInput('search must be at most 200 characters', { field: 'search' });
    const tokens = searchTokens(search);
    if (!tokens.length) {
      sql.where.push('false');
      return { rank: null };
    }
    const prefix = sql.p(tokens.map((t) => `${t}:*`).join(' & '));
    const plain = sql.p(search);
    const query = `(to_tsquery('simple', ${prefix}) || plainto_tsquery('english', ${plain}))`;
    sql.where.push(`t.search_vector @@ ${query}`);
    // Weights A (name, display name) > B (tags) > C (description); an exact name match comes first.
    const exact = `CASE WHEN t.name = lower(${plain}) OR lower(t.display_name) = lower(${plain}) THEN 1 ELSE 0 END`;
    return { rank: `round((ts_rank('{0.2, 0.4, 0.7, 1.0}', t.search_vector, ${query}) + ${exact})::numeric, 6)` };
  }

  async list(
    caller: Caller,
    filter: CatalogTemplateFilter | null | undefined,
    first: number | undefined,
    after: string | undefined,
    sort: CatalogSort | null | undefined,
  ): Promise<Connection<CatalogTemplateType>> {
    this.mayBrowse(caller);
    const size = pageSize(first);
    const sql = new Sql();
    this.visibility(sql, caller);
    const { rank } = this.filters(sql, filter);
    const from = `FROM catalog_templates t JOIN repositories r ON r.id = t.repository_id`;
    const whereAll = sql.where.length ? `WHERE ${sql.where.join(' AND ')}` : '';
    const [{ count }] = await this.deps.dataSource.query(`SELECT count(*)::int AS count ${from} ${whereAll}`, sql.params);

    const order = sort ?? (rank ? CatalogSort.RELEVANCE : CatalogSort.NAME);
    if (order === CatalogSort.RELEVANCE && !rank) throw badInput('sort RELEVANCE needs a search', { field: 'sort' });
    let select = SELECT;
    let orderBy: string;
    let keyOf: (r: Row) => unknown[];
    if (order === CatalogSort.RELEVANCE) {
      select += `, ${rank} AS rank`;
      orderBy = `ORDER BY rank DESC, t.id ASC`;
      keyOf = (r) => [Number(r.rank), r.id];
      if (after) {
        const [k, id] = decodeCursor(after, 2);
        sql.where.push(`(${rank} < ${sql.p(Number(k))}::numeric OR (${rank} = ${sql.p(Number(k))}::numeric AND t.id > ${sql.p(String(id))}::uuid))`);
      }
    } else if (order === CatalogSort.POPULARITY) {
      orderBy = `ORDER BY t.install_count DESC, t.id ASC`;
      keyOf = (r) => [r.install_count, r.id];
      if (after) {
        const [k, id] = decodeCursor(after, 2);
        const c = sql.p(Number(k));
        sql.where.push(`(t.install_count < ${c} OR (t.install_count = ${c} AND t.id > ${sql.p(String(id))}::uuid))`);
      }
    } else {
      select += `, lower(t.display_name) AS sort_name`;
      orderBy = `ORDER BY lower(t.display_name) ASC, t.id ASC`;
      keyOf = (r) => [r.sort_name!, r.id];
      if (after) {
        const [k, id] = decodeCursor(after, 2);
        sql.where.push(`(lower(t.display_name), t.id) > (${sql.p(String(k))}, ${sql.p(String(id))}::uuid)`);
      }
    }
    if (after && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(String(decodeCursor(after, 2)[1]))) throw badInput('The `after` cursor is not valid', { after });
    const where = sql.where.length ? `WHERE ${sql.where.join(' AND ')}` : '';
    const rows: Row[] = await this.deps.dataSource.query(`SELECT ${select} ${from} ${where} ${orderBy} LIMIT ${size + 1}`, sql.params);
    const connection = toConnection(rows, size, count as number, Boolean(after), keyOf);
    return { ...connection, edges: connection.edges.map((e) => ({ cursor: e.cursor, node: toCatalogTemplateType(e.node) })) };
  }

  async categories(caller: Caller, filter: CatalogTemplateFilter | null | undefined): Promise<CatalogCategoryType[]> {
    this.mayBrowse(caller);
    const sql = new Sql();
    this.visibility(sql, caller);
    this.filters(sql, { ...filter, category: null });
    const where = sql.where.length ? `WHERE ${sql.where.join(' AND ')}` : '';
    const rows: { name: string; count: number }[] = await this.deps.dataSource.query(
      `SELECT t.category AS name, count(*)::int AS count FROM catalog_templates t JOIN repositories r ON r.id = t.repository_id ${where} GROUP BY t.category ORDER BY t.category`,
      sql.params,
    );
    return rows;
  }

  async get(caller: Caller, id: string): Promise<CatalogTemplateType> {
    this.mayBrowse(caller);
    const row = await this.findRow(caller, id);
    if (!row) throw notFound('Catalog template', id);
    return toCatalogTemplateType(row);
  }

  private async findRow(caller: Caller | null, id: string, byName?: { repository: string; name: string }): Promise<Row | null> {
    const sql = new Sql();
    if (caller) this.visibility(sql, caller);
    else sql.where.push('r.public');
    if (byName) {
      sql.where.push(`r.name = ${sql.p(byName.repository)}`, `t.name = ${sql.p(byName.name)}`);
    } else {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
      sql.where.push(`t.id = ${sql.p(id)}::uuid`);
    }
    const rows: Row[] = await this.deps.dataSource.query(
      `SELECT ${SELECT} FROM catalog_templates t JOIN repositories r ON r.id = t.repository_id WHERE ${sql.where.join(' AND ')}`,
      sql.params,
    );
    return rows[0] ?? null;
  }

  /** An icon or README for the HTTP route; null when missing or not visible to the caller (null = anonymous: public repositories only). */
  async asset(caller: Caller | null, id: string, kind: 'icon' | 'readme'): Promise<{ contentType: string; data: Buffer; oid: string } | null> {
    const row = await this.findRow(caller, id);
    if (!row) return null;
    const assets: { content_type: string; data: Buffer; oid: string }[] = await this.deps.dataSource.query(
      `SELECT content_type, data, oid FROM catalog_template_assets WHERE catalog_template_id = $1 AND kind = $2`,
      [id, kind],
    );
    return assets[0] ? { contentType: assets[0].content_type, data: assets[0].data, oid: assets[0].oid } : null;
  }

  /**
   * Creates or updates the Template object from a catalog entry, with annotations naming the source
   * repository, commit and file; counts the install and audits it (including what changed).
   */
  async install(caller: Caller, repository: string, name: string, source: AuditSource): Promise<CatalogInstallResultType> {
    const row = await this.findRow(caller, '', { repository, name });
    if (!row) throw notFound('Catalog template', `${repository}/${name}`);
    const templates = this.deps.templates;
    if (!templates) throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Installing templates needs a Kubernetes cluster (STREAMSPACE_CLUSTER is none)');
    const manifest = structuredClone(row.manifest) as { metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> };
    manifest.metadata.annotations = {
      ...(manifest.metadata.annotations ?? {}),
      [CATALOG_REPOSITORY_ANNOTATION]: row.repository_name,
      [CATALOG_PATH_ANNOTATION]: row.source_path,
      ...(row.source_commit ? { [CATALOG_COMMIT_ANNOTATION]: row.source_commit } : {}),
    };
    const existing = await templates.getObject(manifest.metadata.name);
    const changes = existing
      ? diffObjects(
          { spec: existing.spec, annotations: pickCatalogAnnotations(existing.metadata.annotations) },
          { spec: manifest.spec, annotations: pickCatalogAnnotations(manifest.metadata.annotations) },
        )
      : [];
    // Never approved by installing: a template from a repository that asks for security exceptions starts no session
    // until an admin approves them (approveTemplateSecurity), after reading them in securityExceptions.
    await templates.applyYaml(stringify(manifest), source, { approveSecurity: false });
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [updated]: [Row[], number] = await this.deps.dataSource.query(
      `UPDATE catalog_templates t SET install_count = t.install_count + 1 FROM repositories r WHERE t.id = $1 AND r.id = t.repository_id RETURNING ${SELECT}`,
      [row.id],
    );
    const counted = updated[0];
    await this.deps.audit.record({
      action: 'catalog.install',
      resourceType: 'template',
      resourceId: manifest.metadata.name,
      changes: { repository: row.repository_name, path: row.source_path, commit: row.source_commit, created: !existing, changes },
      source,
    });
    return { templateName: manifest.metadata.name, created: !existing, changes, catalogTemplate: toCatalogTemplateType(counted ?? row) };
  }
}

function pickCatalogAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [CATALOG_REPOSITORY_ANNOTATION, CATALOG_COMMIT_ANNOTATION, CATALOG_PATH_ANNOTATION]) if (annotations?.[key]) out[key] = annotations[key];
  return out;
}

/** Field-level differences, e.g. `spec.baseImage: "a:1" -> "a:2"`; arrays compare as a whole. */
export function diffObjects(before: unknown, after: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffObjects(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  const a = JSON.stringify(before);
  const b = JSON.stringify(after);
  if (a === b) return [];
  const show = (s: string | undefined) => (s === undefined ? '(none)' : s.length > 200 ? `${s.slice(0, 200)}…` : s);
  return [`${prefix}: ${show(a)} -> ${show(b)}`];
}
