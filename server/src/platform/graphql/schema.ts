import 'reflect-metadata';
import { buildSchema, getMetadataStorage, type ContainerType, type NonEmptyArray } from 'type-graphql';
import { GraphQLObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { enforceSubscriptionAuthorization } from '../auth/subscription-auth';
import { RoleAuthChecker } from './authorization';
import { createAppPubSub, type AppPubSub } from './pubsub';

/**
 * A resolver class: constructed once with the services object `S` and taking from it only what it declares
 * in its constructor (`constructor(deps: { sessions: SessionService })`). A registry typed
 * `ResolverClass<AppServices>[]` fails to compile when a resolver asks for a service the app does not have.
 */
export type ResolverClass<S> = new (services: S) => object;

/** The resolver container of each built schema (several apps in one process, as in tests, never mix). */
const CONTAINERS = new WeakMap<GraphQLSchema, ResolverContainer>();

interface ResolverContainer extends ContainerType {
  get<T extends object>(resolver: abstract new (...args: never[]) => T): T;
}

/**
 * type-graphql asks the container for resolver instances; this one builds each resolver once from the
 * services object (plain constructor injection, no global state).
 */
function createResolverContainer<S>(services: S | undefined): ResolverContainer {
  const instances = new Map<Function, object>();
  return {
    get<T extends object>(resolver: abstract new (...args: never[]) => T): T {
      let instance = instances.get(resolver) as T | undefined;
      if (!instance) {
        if (services === undefined) throw new Error(`${resolver.name}: this schema was built without services (schema:emit)`);
        instance = new (resolver as unknown as new (s: S) => T)(services);
        instances.set(resolver, instance);
      }
      return instance;
    },
  };
}

/**
 * The resolver instance that serves `info`'s schema: for a subscription's `subscribe` function, which
 * type-graphql calls statically (outside any resolver instance), to reach its resolver's dependencies.
 */
export function resolverOf<T extends object>(info: Pick<GraphQLResolveInfo, 'schema'>, resolver: abstract new (...args: never[]) => T): T {
  const container = CONTAINERS.get(info.schema);
  if (!container) throw new Error(`${resolver.name}: this schema was not built by buildApiSchema`);
  return container.get(resolver);
}

export interface BuildApiSchemaOptions<S> {
  resolvers: NonEmptyArray<ResolverClass<S>>;
  /** Omitted when only printing the schema (schema:emit / schema:check). */
  services?: S;
  pubSub?: AppPubSub;
}

/**
 * type-graphql 2 gives every plain field of an object type (a property, no @FieldResolver) a resolver of its own, so
 * that a field-level @Authorized or @UseMiddleware can run there. Without either, that resolver only reads the
 * property, yet each call allocates its resolver data and its resolve info and defers to the executor's slow path: a
 * page of 100 sessions made ~2,000 such calls, a fifth of the page's allocations. This marks those fields `simple`
 * (type-graphql's own option, which leaves them to the default resolver) before the schema is built. Any field
 * name that has @Authorized or @UseMiddleware on any class keeps its resolver everywhere (a conservative match: a
 * guard must never be dropped), as does a field whose GraphQL name differs from its property (the default resolver
 * reads the GraphQL name).
 */
export function markPlainFieldsSimple(): void {
  const storage = getMetadataStorage();
  const guarded = new Set<string>([...storage.authorizedFields, ...storage.middlewares].map((m) => m.fieldName));
  for (const field of storage.fields) {
    if (field.simple === undefined && !guarded.has(field.name) && field.name === field.schemaName) field.simple = true;
  }
}

/**
 * type-graphql calls a `@FieldResolver` method through a generic handler: per call it builds its resolver data, runs
 * the (here empty) middleware chain through an async dispatcher, and sorts the method's parameters anew (getParams'
 * `params.sort`, which allocates): two field resolvers per session made a tenth of a page's garbage. For a field
 * resolver with nothing to run around it (no @Authorized, no @UseMiddleware, no global middleware) whose parameters
 * are only @Root(), @Ctx() and @Info() (no arguments to convert or validate), the field's resolver calls the method
 * directly with those values in order. A root that is not an instance of the declared @Root() type (type-graphql would
 * convert it) goes through type-graphql's own resolver, kept as it was. Returns the fields changed ("Type.field").
 */
export function directFieldResolvers(schema: GraphQLSchema, container: ResolverContainer, globalMiddlewares: readonly unknown[] = []): string[] {
  if (globalMiddlewares.length) return [];
  const storage = getMetadataStorage();
  const changed: string[] = [];
  for (const fr of storage.fieldResolvers) {
    if (fr.kind !== 'external' || fr.roles !== undefined || fr.middlewares?.length || !fr.params || !fr.getObjectType) continue;
    const params = [...fr.params].sort((a, b) => a.index - b.index);
    if (params.some((p, i) => p.index !== i || !(p.kind === 'info' || ((p.kind === 'root' || p.kind === 'context') && p.propertyName === undefined)))) continue;
    const objectClass = fr.getObjectType();
    const typeName = storage.objectTypes.find((o) => o.target === objectClass)?.name;
    const type = typeName ? schema.getType(typeName) : undefined;
    if (!(type instanceof GraphQLObjectType)) continue;
    const field = type.getFields()[fr.schemaName];
    const viaTypeGraphql = field?.resolve;
    if (!viaTypeGraphql) continue;
    const root = params.find((p) => p.kind === 'root');
    const rootClass = root?.kind === 'root' ? root.getType?.() : undefined;
    // A class to check the root against, or none (an untyped @Root() is handed over as is).
    const mustBe = typeof rootClass === 'function' && rootClass !== Object ? (rootClass as abstract new (...args: never[]) => unknown) : undefined;
    const kinds = params.map((p) => p.kind);
    const target = fr.target as abstract new (...args: never[]) => Record<string, (...args: unknown[]) => unknown>;
    const method = fr.methodName;
    let instance: Record<string, (...args: unknown[]) => unknown> | undefined;
    const direct: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
      if (mustBe && source !== null && source !== undefined && !(source instanceof mustBe)) return viaTypeGraphql(source, args, context, info);
      instance ??= container.get(target);
      const values = kinds.map((k) => (k === 'root' ? source : k === 'context' ? context : info));
      return instance[method](...values);
    };
    field.resolve = direct;
    changed.push(`${type.name}.${fr.schemaName}`);
  }
  return changed;
}

const DIRECT_FIELDS = new WeakMap<GraphQLSchema, string[]>();

/** The fields ("Type.field") whose @FieldResolver a schema built by buildApiSchema calls directly. */
export function directFieldResolversOf(schema: GraphQLSchema): string[] {
  return DIRECT_FIELDS.get(schema) ?? [];
}

export async function buildApiSchema<S>(options: BuildApiSchemaOptions<S>): Promise<GraphQLSchema> {
  const container = createResolverContainer(options.services);
  markPlainFieldsSimple();
  const schema = await buildSchema({
    resolvers: options.resolvers as NonEmptyArray<Function>,
    container,
    pubSub: options.pubSub ?? createAppPubSub(),
    authChecker: RoleAuthChecker,
    authMode: 'error',
    validate: false,
    // DateTimeISO is type-graphql 2's default Date scalar (from graphql-scalars).
  });
  enforceSubscriptionAuthorization(schema);
  DIRECT_FIELDS.set(schema, directFieldResolvers(schema, container));
  CONTAINERS.set(schema, container);
  // type-graphql has no decorator for the root types; describe them here so the IDE's docs start well.
  const roots: [GraphQLObjectType | null | undefined, string][] = [
    [schema.getQueryType(), 'Read operations of the StreamSpace API.'],
    [schema.getMutationType(), 'Write operations of the StreamSpace API; every one is authorized and audited.'],
    [schema.getSubscriptionType(), 'Live updates over graphql-ws (same URL as HTTP GraphQL).'],
  ];
  for (const [type, description] of roots) if (type) type.description = description;
  return schema;
}
