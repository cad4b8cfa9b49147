import type { DataSource } from 'typeorm';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { SharingService } from '../sharing/sharing.service';
import { GroupsService } from './groups.service';

/** Groups of users (admin-managed); sessions can be shared with them (sharing/). */
export function createGroups(deps: { dataSource: DataSource; audit: AuditService; sharing: SharingService; logger: Logger }): GroupsService {
  return new GroupsService(deps);
}
