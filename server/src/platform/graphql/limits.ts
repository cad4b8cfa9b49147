import { getComplexity, fieldExtensionsEstimator } from 'graphql-query-complexity';
import {
  GraphQLError,
  getOperationAST,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { apiCostEstimator, costDependsOnArguments } from './cost';
import { ErrorCode } from './errors';

/**
 * One request cannot ask for unbounded work: a depth limit (fragments followed, cycles cut) and a
 * complexity budget (graphql-query-complexity with the API's cost rules in cost.ts: pages and lists multiply,
 * Kubernetes-backed fields cost extra). Used for HTTP (Apollo plugin) and graphql-ws.
 */
export interface QueryLimits {
  maxDepth: number;
  maxComplexity: number;
}

function tooComplex(message: string, details: Record<string, unknown>) {
  return new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, details, http: { status: 400 } } });
}

export function operationDepth(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

  const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        // Introspection counts too: `__type { ofType { ofType ... } }` is the classic depth bomb.
        max = Math.max(max, 1 + (sel.selectionSet ? depthOf(sel.selectionSet, visiting) : 0));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, depthOf(sel.selectionSet, visiting));
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (!frag || visiting.has(name)) continue; // unknown or cyclic: validation reports it
        visiting.add(name);
        max = Math.max(max, depthOf(frag.selectionSet, visiting));
        visiting.delete(name);
      }
    }
    return max;
  };

  let depth = 0;
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName && def.name?.value !== operationName) continue;
    depth = Math.max(depth, depthOf(def.selectionSet, new Set()));
  }
  return depth;
}

type Verdict = { ok: true } | { ok: false; message: string; details: Record<string, unknown> };

/**
 * Measures an operation against the limits. `measured: false` when its complexity could not be computed
 * (invalid variables, unknown operation name): validation and execution report those better, so the
 * operation is let through, but such a verdict must not be remembered.
 */
function evaluate(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: QueryLimits,
): { verdict: Verdict; measured: boolean } {
  const depth = operationDepth(document, operationName);
  if (depth > limits.maxDepth) {
    return { verdict: { ok: false, message: `Query depth ${depth} exceeds the maximum of ${limits.maxDepth}`, details: { depth, maxDepth: limits.maxDepth } }, measured: true };
  }
  // graphql-query-complexity fails with a TypeError when operationName names no operation (an anonymous one
  // among them): execution reports the unknown operation to the client.
  if (!getOperationAST(document, operationName)) return { verdict: { ok: true }, measured: false };
  let complexity: number;
  try {
    complexity = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [fieldExtensionsEstimator(), apiCostEstimator()],
    });
  } catch (err) {
    // getComplexity throws on invalid variables or unknown operations; validation reports those better.
    if (err instanceof GraphQLError) return { verdict: { ok: true }, measured: false };
    // It recurses once per nested selection set, inline fragments included (which add no depth): a document of
    // thousands of nested `... on Query {` overflows the stack. Nothing that deep is a reasonable operation.
    if (err instanceof RangeError) {
      return { verdict: { ok: false, message: 'Query selections are nested too deeply to measure their complexity', details: { maxDepth: limits.maxDepth } }, measured: true };
    }
    throw err;
  }
  if (complexity > limits.maxComplexity) {
    return {
      verdict: { ok: false, message: `Query complexity ${complexity} exceeds the maximum of ${limits.maxComplexity}`, details: { complexity, maxComplexity: limits.maxComplexity } },
      measured: true,
    };
  }
  return { verdict: { ok: true }, measured: true };
}

/** Throws a QUERY_TOO_COMPLEX GraphQLError when the operation exceeds a limit. */
export function assertWithinLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: QueryLimits,
): void {
  const { verdict } = evaluate(schema, document, variables, operationName, limits);
  if (!verdict.ok) throw tooComplex(verdict.message, verdict.details);
}

function containsVariable(value: ValueNode): boolean {
  switch (value.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return value.values.some(containsVariable);
    case Kind.OBJECT:
      return value.fields.some((f) => containsVariable(f.value));
    default:
      return false;
  }
}

/**
 * Whether the complexity of `document` can change with its variables: only a field whose cost is a function
 * of its arguments (a page size, or `complexity: ({ args }) => ...`) given a variable argument, or `@skip`/`@include` with a
 * variable condition, can make it change. Depth never depends on variables.
 */
export function complexityDependsOnVariables(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let depends = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const field = typeInfo.getFieldDef();
        // Unknown fields are conservatively variable-dependent (validation refuses them anyway).
        if ((!field || costDependsOnArguments(field)) && node.arguments?.some((a) => containsVariable(a.value))) depends = true;
      },
      Directive(node) {
        if (node.arguments?.some((a) => containsVariable(a.value))) depends = true;
      },
    }),
  );
  return depends;
}

/**
 * `assertWithinLimits` with its verdict cached per parsed document (Apollo and our graphql-ws server both
 * reuse the same DocumentNode for the same query text) and operation name: the same operation sent again
 * costs a map lookup instead of two walks of the document. A document whose complexity depends on its
 * variables (see complexityDependsOnVariables) is cached per operation and variable values (up to 16 keys per
 * document, variables of at most MAX_VARIABLES_KEY characters of JSON; others are measured on every request), and
 * one whose complexity could not be measured is measured again every time. Verdicts, not error objects, are cached: every refusal is a fresh
 * GraphQLError.
 */
/** Longest JSON of variables that keys a cached verdict (a page size and a cursor fit; a large input does not). */
const MAX_VARIABLES_KEY = 256;

export function createLimitsChecker(schema: GraphQLSchema, limits: QueryLimits) {
  const verdicts = new WeakMap<DocumentNode, { dependsOnVariables: boolean; byOperation: Map<string, Verdict> }>();
  return function checkLimits(
    document: DocumentNode,
    variables: Record<string, unknown> | null | undefined,
    operationName: string | null | undefined,
  ): void {
    let entry = verdicts.get(document);
    if (!entry) {
      entry = { dependsOnVariables: complexityDependsOnVariables(schema, document), byOperation: new Map() };
      verdicts.set(document, entry);
    }
    // A document whose complexity depends on its variables is keyed by their values too (a page size: the same few
    // values again and again), when they are small.
    let key: string | undefined = operationName ?? '';
    if (entry.dependsOnVariables) {
      const values = variables ? JSON.stringify(variables) : '{}';
      key = values.length <= MAX_VARIABLES_KEY ? `${key}\u0000${values}` : undefined;
    }
    let verdict = key === undefined ? undefined : entry.byOperation.get(key);
    if (!verdict) {
      const result = evaluate(schema, document, variables ?? undefined, operationName, limits);
      verdict = result.verdict;
      // Operation names and variables are the client's to choose: keep the map small.
      if (result.measured && key !== undefined && entry.byOperation.size < 16) entry.byOperation.set(key, verdict);
    }
    if (!verdict.ok) throw tooComplex(verdict.message, verdict.details);
  };
}

export type LimitsChecker = ReturnType<typeof createLimitsChecker>;
