import 'reflect-metadata';
import { AuditLogEntity } from '../modules/audit/audit-log.entity';
import { LoginRateLimitEntity } from '../modules/auth/login-rate-limit.entity';
import { RefreshTokenEntity } from '../modules/auth/refresh-token.entity';
import { SigningKeyEntity } from '../modules/auth/signing-key.entity';
import { CatalogTemplateAssetEntity } from '../modules/catalog/catalog-template-asset.entity';
import { CatalogTemplateEntity } from '../modules/catalog/catalog-template.entity';
import { RepositoryEntity } from '../modules/catalog/repository.entity';
import { ConfigurationEntity } from '../modules/configuration/configuration.entity';
import { ConfigurationVersionEntity } from '../modules/configuration/configuration-version.entity';
import { ConnectionEntity } from '../modules/connections/connection.entity';
import { FavoriteEntity } from '../modules/favorites/favorite.entity';
import { GroupMemberEntity } from '../modules/groups/group-member.entity';
import { GroupEntity } from '../modules/groups/group.entity';
import { GatewayHostEntity } from '../modules/gateway/gateway-host.entity';
import { GatewayTicketEntity } from '../modules/gateway/gateway-ticket.entity';
import { AlertRuleEntity } from '../modules/monitoring/alert-rule.entity';
import { AlertEntity } from '../modules/monitoring/alert.entity';
import { MetricSampleEntity } from '../modules/monitoring/metric-sample.entity';
import { SessionEntity } from '../modules/sessions/session.entity';
import { SessionGroupShareEntity } from '../modules/sharing/session-group-share.entity';
import { SessionShareEntity } from '../modules/sharing/session-share.entity';
import { TemplateRequestEntity } from '../modules/template-requests/template-request.entity';
import { TemplateRatingEntity } from '../modules/templates/template-rating.entity';
import { UserEntity } from '../modules/users/user.entity';

/** Every entity of the application; the migrations must create exactly these tables (migrations:check). */
export const ENTITIES = [
  UserEntity,
  SessionEntity,
  ConnectionEntity,
  RepositoryEntity,
  CatalogTemplateEntity,
  CatalogTemplateAssetEntity,
  ConfigurationEntity,
  AuditLogEntity,
  SigningKeyEntity,
  RefreshTokenEntity,
  FavoriteEntity,
  LoginRateLimitEntity,
  GatewayHostEntity,
  GatewayTicketEntity,
  SessionShareEntity,
  GroupEntity,
  GroupMemberEntity,
  SessionGroupShareEntity,
  ConfigurationVersionEntity,
  MetricSampleEntity,
  AlertRuleEntity,
  AlertEntity,
  TemplateRequestEntity,
  TemplateRatingEntity,
];
