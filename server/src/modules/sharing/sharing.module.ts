import type { DataSource } from 'typeorm';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { ConnectionService } from '../connections/connection.service';
import type { SessionService } from '../sessions/session.service';
import { SharingService } from './sharing.service';

/** Sessions' access lists (sharing with users as viewer or collaborator). */
export function createSharing(deps: {
  dataSource: DataSource;
  namespace: string;
  audit: AuditService;
  sessions: SessionService;
  connections: ConnectionService;
  pubSub: AppPubSub;
  logger: Logger;
  /** Whether owners may share sessions now (a runtime setting); absent: always. */
  sharingAllowed?: () => boolean;
}): SharingService {
  return new SharingService(deps);
}
