import { execute, getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** One execution of a validated document: what both transports (Apollo over HTTP, graphql-ws) hand over. */
export interface ExecuteArgs {
  document: DocumentNode;
  operationName?: string | null;
  contextValue: unknown;
  variableValues?: Readonly<Record<string, unknown>> | null;
}

export type Execute = (args: ExecuteArgs) => Promise<ExecutionResult> | ExecutionResult;

export interface Executor extends Execute {
  /** Executions so far: by compiled code, and interpreted by graphql-js (first runs, bad operation names or variables). */
  readonly counts: { compiled: number; interpreted: number };
}

/** How many variable values graphql-js reports before it stops (its execute() uses the same). */
const MAX_VARIABLE_ERRORS = 50;

/**
 * Queries and mutations run as code compiled once per document (graphql-jit) instead of graphql-js's interpreter,
 * which walks the document again for every field of every row: a page of 100 sessions is about 2,000 field
 * resolutions, and graphql-js spent a fifth of the page's time on per-field bookkeeping (arguments, paths, promise
 * checks). The same resolvers, scalars and type resolvers run; validation stays with the transports (Apollo, the
 * graphql-ws adapter's ValidatedDocumentCache), so only documents that passed it get here.
 *
 * What a client can get wrong before any resolver runs is answered by graphql-js itself, exactly as before: an
 * operation name the document does not have, and variable values that do not coerce (graphql-jit would throw the
 * scalar's error instead of reporting it). Errors of compiled execution become graphql-js GraphQLErrors (graphql-jit's
 * own lack `extensions`, which Apollo's error formatting reads).
 *
 * Compiled code is kept per document object (a WeakMap): both transports keep their validated documents in an LRU
 * cache and hand over the same object for the same text, so a document is compiled once while it is cached and its
 * code is dropped with it. A document object's first execution is interpreted by graphql-js and only its second
 * compiles: a one-off text (never cached) would cost a compilation, dearer than one execution, for nothing, and a
 * client sending ever new texts must not make the server compile for each.
 */
export function createExecutor(schema: GraphQLSchema): Executor {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>();
  const seen = new WeakSet<DocumentNode>();

  function compiledFor(document: DocumentNode, operationName: string | undefined): CompiledQuery | undefined {
    let byOperation = compiled.get(document);
    if (!byOperation) {
      if (!seen.has(document)) {
        seen.add(document);
        return undefined;
      }
      byOperation = new Map();
      compiled.set(document, byOperation);
    }
    const key = operationName ?? '';
    let query = byOperation.get(key);
    if (!query) {
      query = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
      byOperation.set(key, query);
    }
    // A document graphql-jit cannot compile (none is known: it compiles every valid one) is interpreted instead.
    return isCompiledQuery(query) ? query : undefined;
  }

  const counts = { compiled: 0, interpreted: 0 };
  const run = ({ document, operationName, contextValue, variableValues }: ExecuteArgs) => {
    const interpret = () => {
      counts.interpreted++;
      return execute({ schema, document, operationName, contextValue, variableValues });
    };
    const operation = getOperationAST(document, operationName);
    if (!operation) return interpret(); // graphql-js names what is wrong with the operation name
    const query = compiledFor(document, operationName ?? undefined);
    if (!query) return interpret();
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variableValues ?? {}, { maxErrors: MAX_VARIABLE_ERRORS });
    if (coerced.errors) return interpret();
    counts.compiled++;
    const result = query.query(undefined, contextValue, variableValues);
    return isPromise(result) ? result.then(withGraphQLErrors) : withGraphQLErrors(result);
  };
  return Object.assign(run, { counts });
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map(asGraphQLError) };
}

/**
 * graphql-jit's error as the graphql-js GraphQLError it stands for (message, path, locations, original error). An
 * error of a field with nothing underneath (graphql-jit's own "Cannot return null for non-nullable field") wraps an
 * Error as graphql-js's does: it is the server's fault, and the error formatter masks it as one.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  if (error.constructor === GraphQLError) return error;
  const originalError = error.originalError ?? (error.path ? new Error(error.message) : undefined);
  const converted = new GraphQLError(error.message, { path: error.path, originalError, extensions: error.extensions ?? undefined });
  if (error.locations) Object.defineProperty(converted, 'locations', { value: error.locations, enumerable: true });
  return converted;
}
