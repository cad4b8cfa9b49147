import 'reflect-metadata';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { AuditResolver } from '../../modules/audit/audit.resolver';
import { FavoriteResolver, RecentAppResolver } from '../../modules/favorites/favorite.resolver';
import { ClusterResolver } from '../../modules/cluster/cluster.resolver';
import { SettingsResolver } from '../../modules/configuration/settings.resolver';
import { CatalogResolver } from '../../modules/catalog/catalog.resolver';
import { RepositoryResolver } from '../../modules/catalog/repository.resolver';
import { SystemResolver } from '../../modules/system/system.resolver';
import { SessionResolver } from '../../modules/sessions/session.resolver';
import { ConnectionResolver, SessionConnectionsResolver } from '../../modules/connections/connection.resolver';
import { TemplateResolver } from '../../modules/templates/template.resolver';
import { UsersResolver } from '../../modules/users/users.resolver';
import { enforceSubscriptionAuthorization } from '../auth/subscription-auth';
import { RoleAuthChecker } from './authorization';
import { createAppPubSub, type AppPubSub } from './pubsub';
import { SCHEMA_SERVICES } from './schema-services';

/** Every resolver of the API. A resolver is constructed once with the application's services. */
export const RESOLVERS: NonEmptyArray<new (services: never) => object> = [SystemResolver, AuditResolver, UsersResolver, TemplateResolver, SessionResolver, RepositoryResolver, CatalogResolver, FavoriteResolver, RecentAppResolver, ConnectionResolver, SessionConnectionsResolver, ClusterResolver, SettingsResolver];

/**
 * type-graphql asks the container for resolver instances; ours builds each resolver once from the
 * services object (plain constructor injection, no global state, so tests can run several apps).
 */
export function createResolverContainer(services: object): ContainerType {
  const instances = new Map<Function, object>();
  return {
    get(someClass: new (s: object) => object) {
      let instance = instances.get(someClass);
      if (!instance) {
        instance = new someClass(services);
        instances.set(someClass, instance);
      }
      return instance;
    },
  } as ContainerType;
}

export interface BuildAppSchemaOptions {
  /** Omitted when only printing the schema (schema:emit / schema:check). */
  services?: object;
  pubSub?: AppPubSub;
}

export async function buildAppSchema(options: BuildAppSchemaOptions = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS as unknown as NonEmptyArray<Function>,
    container: createResolverContainer(options.services ?? {}),
    pubSub: options.pubSub ?? createAppPubSub(),
    authChecker: RoleAuthChecker,
    authMode: 'error',
    validate: false,
    // DateTimeISO is type-graphql 2's default Date scalar (from graphql-scalars).
  });
  enforceSubscriptionAuthorization(schema);
  if (options.services) SCHEMA_SERVICES.set(schema, options.services);
  // type-graphql has no decorator for the root types; describe them here so the IDE's docs start well.
  const roots: [GraphQLObjectType | null | undefined, string][] = [
    [schema.getQueryType(), 'Read operations of the StreamSpace API.'],
    [schema.getMutationType(), 'Write operations of the StreamSpace API; every one is authorized and audited.'],
    [schema.getSubscriptionType(), 'Live updates over graphql-ws (same URL as HTTP GraphQL).'],
  ];
  for (const [type, description] of roots) if (type) type.description = description;
  return schema;
}
