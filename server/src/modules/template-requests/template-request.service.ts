import type { DataSource } from 'typeorm';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { CatalogService } from '../catalog/catalog.service';
import type { SettingsService } from '../configuration/settings.service';
import { SETTING_KEYS } from '../configuration/settings.registry';
import type { TemplateService } from '../templates/template.service';
import type { Caller } from '../../platform/graphql/context';
import { badInput } from '../../platform/graphql/errors';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/graphql/pagination';
import { alreadyInstalled, browsingOff, REASON_MAX_LENGTH, reasonTooLong } from './template-request.errors';
import { TemplateRequestEntity } from './template-request.entity';
import type { TemplateRequestType } from './dto/template-request.type';

// eslint-disable-next-line no-control-regex -- NUL and other control characters are what it refuses
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function toType(row: TemplateRequestEntity): TemplateRequestType {
  return {
    id: row.id,
    user: row.user?.username ?? '',
    repository: row.repository,
    template: row.template,
    displayName: row.displayName,
    reason: row.reason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Users' requests to install catalog templates, when the features.catalogBrowsing setting lets users browse the catalog.
 * Admins read them (`templateRequests`) and install from the catalog as usual.
 */
export class TemplateRequestService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      audit: AuditService;
      settings: SettingsService;
      catalog: CatalogService;
      templates: TemplateService;
    },
  ) {}

  /** Whether users may browse the catalog in the portal and request templates (setting features.catalogBrowsing). */
  async browsingEnabled(): Promise<boolean> {
    await this.deps.settings.fresh();
    return this.deps.settings.value<boolean>(SETTING_KEYS.FEATURE_CATALOG) === true;
  }

  /** Whether a Template object of this name is installed (users launch it rather than request it). */
  async installed(name: string): Promise<boolean> {
    const [template] = await this.deps.templates.getMany([name]);
    return template !== null && template !== undefined;
  }

  /**
   * Records that the caller asks for a catalog template; asking again refreshes the request (and its reason).
   * Refused when browsing is off (CONFLICT), for a template the caller cannot see (NOT_FOUND) and for one already
   * installed (CONFLICT). Audited in the same transaction.
   */
  async request(caller: Caller, catalogTemplateId: string, reason: string | null | undefined, source: AuditSource): Promise<TemplateRequestType> {
    if (!(await this.browsingEnabled())) throw browsingOff();
    const text = reason?.trim() || null;
    if (text && text.length > REASON_MAX_LENGTH) throw reasonTooLong();
    if (text && CONTROL.test(text)) throw badInput('The reason must not contain control characters', { field: 'reason' });
    const entry = await this.deps.catalog.get(caller, catalogTemplateId);
    if (await this.installed(entry.name)) throw alreadyInstalled(entry.name);
    const id = await this.deps.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(TemplateRequestEntity)
        .values({ userId: caller.id, repository: entry.repositoryName, template: entry.name, displayName: entry.displayName, reason: text })
        .orUpdate(['display_name', 'reason', 'updated_at'], ['user_id', 'repository', 'template'])
        .returning(['id', 'created_at', 'updated_at'])
        .execute();
      const row = inserted.raw as { id: string; created_at: Date; updated_at: Date }[];
      const again = row[0].created_at.getTime() !== row[0].updated_at.getTime();
      await this.deps.audit.record(
        {
          action: 'template.request',
          resourceType: 'catalog_template',
          resourceId: catalogTemplateId,
          changes: { repository: entry.repositoryName, template: entry.name, reason: text, again },
          source,
        },
        manager,
      );
      return row[0].id;
    });
    const row = await this.deps.dataSource.getRepository(TemplateRequestEntity).findOneOrFail({ where: { id }, relations: { user: true } });
    return toType(row);
  }

  /** The caller's own requests, most recently asked first. */
  async mine(caller: Caller): Promise<TemplateRequestType[]> {
    const rows = await this.deps.dataSource
      .getRepository(TemplateRequestEntity)
      .find({ where: { userId: caller.id }, relations: { user: true }, order: { updatedAt: 'DESC', id: 'DESC' }, take: 500 });
    return rows.map(toType);
  }

  /** Every request, most recently asked first (for admins). */
  async list(first?: number, after?: string): Promise<Connection<TemplateRequestType>> {
    const size = pageSize(first);
    const qb = this.deps.dataSource.getRepository(TemplateRequestEntity).createQueryBuilder('r').leftJoinAndSelect('r.user', 'u');
    const totalCount = await qb.clone().getCount();
    if (after) {
      const [updatedAt, id] = decodeCursor(after, 2) as [string, string];
      qb.andWhere('(r.updated_at, r.id) < (:updatedAt, :id)', { updatedAt: new Date(updatedAt), id });
    }
    const rows = await qb.orderBy('r.updated_at', 'DESC').addOrderBy('r.id', 'DESC').take(size + 1).getMany();
    return toConnection(rows.map(toType), size, totalCount, Boolean(after), (r) => [r.updatedAt.toISOString(), r.id]);
  }
}
