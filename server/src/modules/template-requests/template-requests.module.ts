import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { CatalogService } from '../catalog/catalog.service';
import type { SettingsService } from '../configuration/settings.service';
import type { TemplateService } from '../templates/template.service';
import { TemplateRequestService } from './template-request.service';

/** Users' requests for catalog templates (portal catalog, setting features.catalogBrowsing). */
export function createTemplateRequests(deps: {
  dataSource: DataSource;
  audit: AuditService;
  settings: SettingsService;
  catalog: CatalogService;
  templates: TemplateService;
}): TemplateRequestService {
  return new TemplateRequestService(deps);
}
