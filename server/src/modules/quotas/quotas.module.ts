import type { DataSource } from 'typeorm';
import type { SettingsService } from '../configuration/settings.service';
import { QuotaService } from './quota.service';

/** Per-user limits; the defaults come from the runtime settings. */
export function createQuotas(deps: { dataSource: DataSource; settings: SettingsService }): QuotaService {
  return new QuotaService(deps.dataSource, deps.settings);
}
