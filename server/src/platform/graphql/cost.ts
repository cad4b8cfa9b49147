import 'reflect-metadata';
import { getNullableType, isListType, type GraphQLField } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from './pagination';

/**
 * What an operation costs, so one request cannot ask for unbounded work (limits.ts checks the sum against
 * STREAMSPACE_GRAPHQL_MAX_COMPLEXITY):
 *
 * - every field costs 1 (as graphql-query-complexity's simpleEstimator);
 * - a field with a `first` argument (a page) multiplies what it selects by its page size (default
 *   DEFAULT_PAGE_SIZE); a list without one (a whole collection) by UNPAGED_LIST_SIZE; lists inside a Relay
 *   connection (`edges`, `nodes`) are already counted by the connection's `first`;
 * - a field that reads or writes the Kubernetes API (or opens a watch, a log stream or an exec) adds
 *   KUBERNETES_FIELD_COST, so a request fits only a few of them however it aliases them;
 * - introspection keeps one point per field (GraphiQL's introspection query must fit the default budget).
 *
 * A field's own `complexity` in its options (type-graphql) still wins over these rules.
 */

/** Added to every Kubernetes-backed field. */
export const KUBERNETES_FIELD_COST = 500;

/** The assumed size of a list field that has no `first` argument. */
export const UNPAGED_LIST_SIZE = 20;

/**
 * The fields whose resolution calls the Kubernetes API server (or would, before the watch cache of templates is
 * synced), by schema coordinate. A unit test checks that each still exists in schema.graphql.
 */
export const KUBERNETES_BACKED_FIELDS: ReadonlySet<string> = new Set([
  'Query.templates',
  'Query.template',
  'Query.clusterNamespaces',
  'Query.clusterNodes',
  'Query.clusterResource',
  'Query.clusterResources',
  'Query.podLogs',
  'Query.previewSettings',
  'Mutation.applyClusterResourceYaml',
  'Mutation.applySettings',
  'Mutation.applyTemplateYaml',
  'Mutation.connectSession',
  'Mutation.createSession',
  'Mutation.createTemplate',
  'Mutation.deleteClusterResource',
  'Mutation.deleteSession',
  'Mutation.deleteTemplate',
  'Mutation.hibernateSession',
  'Mutation.installCatalogTemplate',
  'Mutation.restoreSettingVersion',
  'Mutation.updateTemplate',
  'Mutation.wakeSession',
  'Subscription.clusterResourceChanged',
  'Subscription.podExec',
  'Subscription.podLogStream',
  'Subscription.podShell',
  'Subscription.sessionProgress',
]);

function isList(field: GraphQLField<unknown, unknown>): boolean {
  return isListType(getNullableType(field.type));
}

/** The estimator of the API (see above); pass it after fieldExtensionsEstimator. */
export function apiCostEstimator(): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    let own = 1;
    if (KUBERNETES_BACKED_FIELDS.has(`${type.name}.${field.name}`)) own += KUBERNETES_FIELD_COST;
    let size = 1;
    if (field.args.some((a) => a.name === 'first')) {
      const first = args.first;
      size = typeof first === 'number' && first > 0 ? first : DEFAULT_PAGE_SIZE;
    } else if (isList(field) && !type.name.endsWith('Connection')) {
      size = UNPAGED_LIST_SIZE;
    }
    return own + size * childComplexity;
  };
}

/** Whether a field's cost depends on its arguments (a page size): complexityDependsOnVariables needs to know. */
export function costDependsOnArguments(field: GraphQLField<unknown, unknown>): boolean {
  return typeof field.extensions?.complexity === 'function' || field.args.some((a) => a.name === 'first');
}
