import 'reflect-metadata';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { SystemResolver } from '../../modules/system/system.resolver';
import { createAppPubSub, type AppPubSub } from './pubsub';

/** Every resolver of the API. A resolver is constructed once with the application's services. */
export const RESOLVERS: NonEmptyArray<new (services: never) => object> = [SystemResolver];

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
  return buildSchema({
    resolvers: RESOLVERS as unknown as NonEmptyArray<Function>,
    container: createResolverContainer(options.services ?? {}),
    pubSub: options.pubSub ?? createAppPubSub(),
    validate: false,
    // DateTimeISO is type-graphql 2's default Date scalar (from graphql-scalars).
  });
}
