import type { DataSource } from 'typeorm';
import { AuditService } from './audit.service';

/** The audit log: every module records its changes through it. */
export function createAudit(deps: { dataSource: DataSource }): AuditService {
  return new AuditService(deps.dataSource);
}
