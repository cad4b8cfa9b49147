import type { GraphQLSchema } from 'graphql';

/**
 * The services object each built schema was made with, for subscriptions whose `subscribe` function (a static
 * decorator option, not a resolver method) needs services: `SCHEMA_SERVICES.get(info.schema)`.
 * Keyed by schema, so several apps in one process (tests) never see each other's services.
 */
export const SCHEMA_SERVICES = new WeakMap<GraphQLSchema, object>();
