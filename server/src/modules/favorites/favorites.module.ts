import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { TemplateService } from '../templates/template.service';
import { FavoriteService } from './favorite.service';

/** Pinned templates and recently used apps of each user. */
export function createFavorites(deps: {
  dataSource: DataSource;
  audit: AuditService;
  templates: TemplateService;
  hasCluster: boolean;
  namespace: string;
}): FavoriteService {
  return new FavoriteService({ dataSource: deps.dataSource, audit: deps.audit, templates: deps.templates, hasCluster: deps.hasCluster, namespace: deps.namespace });
}
