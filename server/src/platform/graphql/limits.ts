import { getComplexity, simpleEstimator, fieldExtensionsEstimator } from 'graphql-query-complexity';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { ErrorCode } from './errors';

/**
 * One request cannot ask for unbounded work: a depth limit (fragments followed, cycles cut) and a
 * complexity budget (graphql-query-complexity; list fields declare their cost through `complexity`
 * in their field options, everything else costs 1). Used for HTTP (Apollo plugin) and graphql-ws.
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

/** Throws a QUERY_TOO_COMPLEX GraphQLError when the operation exceeds a limit. */
export function assertWithinLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: QueryLimits,
): void {
  const depth = operationDepth(document, operationName);
  if (depth > limits.maxDepth) {
    throw tooComplex(`Query depth ${depth} exceeds the maximum of ${limits.maxDepth}`, { depth, maxDepth: limits.maxDepth });
  }
  let complexity: number;
  try {
    complexity = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    // getComplexity throws on invalid variables or unknown operations; validation reports those better.
    if (err instanceof GraphQLError) return;
    throw err;
  }
  if (complexity > limits.maxComplexity) {
    throw tooComplex(`Query complexity ${complexity} exceeds the maximum of ${limits.maxComplexity}`, {
      complexity,
      maxComplexity: limits.maxComplexity,
    });
  }
}
