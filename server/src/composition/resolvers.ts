import 'reflect-metadata';
import type { NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { CatalogResolver } from '../modules/catalog/catalog.resolver';
import { RepositoryResolver } from '../modules/catalog/repository.resolver';
import { ClusterMetricsResolver } from '../modules/cluster/cluster-metrics.resolver';
import { ClusterResolver } from '../modules/cluster/cluster.resolver';
import { SettingsResolver } from '../modules/configuration/settings.resolver';
import { ConnectionResolver, SessionConnectionsResolver } from '../modules/connections/connection.resolver';
import { FavoriteResolver, RecentAppResolver } from '../modules/favorites/favorite.resolver';
import { GroupsResolver } from '../modules/groups/groups.resolver';
import { MonitoringResolver } from '../modules/monitoring/monitoring.resolver';
import { SessionResolver } from '../modules/sessions/session.resolver';
import { SessionAccessResolver, SharingResolver } from '../modules/sharing/sharing.resolver';
import { SystemResolver } from '../modules/system/system.resolver';
import { CatalogTemplateInstalledResolver, TemplateRequestResolver } from '../modules/template-requests/template-request.resolver';
import { CatalogTemplateRatingResolver, TemplateRatingFieldsResolver, TemplateRatingResolver } from '../modules/templates/template-rating.resolver';
import { TemplateResolver } from '../modules/templates/template.resolver';
import { UsersResolver } from '../modules/users/users.resolver';
import { buildApiSchema, type ResolverClass } from '../platform/graphql/schema';
import type { AppServices } from './services';

/**
 * Every resolver of the API. Each is constructed once with the app's services and declares in its constructor
 * the ones it uses, so a renamed or retyped service fails to compile here.
 */
export const RESOLVERS: NonEmptyArray<ResolverClass<AppServices>> = [
  SystemResolver,
  AuditResolver,
  UsersResolver,
  TemplateResolver,
  SessionResolver,
  RepositoryResolver,
  CatalogResolver,
  FavoriteResolver,
  RecentAppResolver,
  ConnectionResolver,
  SessionConnectionsResolver,
  SharingResolver,
  SessionAccessResolver,
  GroupsResolver,
  ClusterResolver,
  ClusterMetricsResolver,
  SettingsResolver,
  MonitoringResolver,
  TemplateRequestResolver,
  CatalogTemplateInstalledResolver,
  TemplateRatingResolver,
  TemplateRatingFieldsResolver,
  CatalogTemplateRatingResolver,
];

/** The StreamSpace API: with the app's services to serve it, or without (schema:emit and schema:check only print it). */
export function buildAppSchema(services?: AppServices): Promise<GraphQLSchema> {
  return buildApiSchema({ resolvers: RESOLVERS, services, pubSub: services?.pubSub });
}
