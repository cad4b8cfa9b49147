import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * graphql-js's `subscribe` with one execution per event for identical subscribers: subscriptions with the same
 * document, operation, variables and execution key (the caller, see `keyOf`) that receive the same event object
 * (one change reaches every subscriber of a topic as one object) share the result of executing it, instead of
 * each executing the same selection on the same root for the same caller. Ten thousand viewers of one session
 * then cost one execution per change, not ten thousand.
 *
 * Sharing is per event object only (a WeakMap keyed by it: results go with the event), and only among operations
 * of one execution key: `keyOf` returns null for a context whose results must never be shared (each executes as
 * graphql-js would). The source stream (resolver, filters, authorization) stays per subscriber; only the execution
 * of an event every one of them already received is shared. Results are never modified after execution (errors
 * are formatted into new objects), so sharing the object is safe.
 */
export function createSharedSubscribe(keyOf: (contextValue: unknown) => string | null): (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, Result>>();

  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const contextKey = keyOf(args.contextValue);
    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
    const key = contextKey === null ? null : `${documentId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${contextKey}`;
    const run = (payload: unknown): Result => execute({ ...args, rootValue: payload });
    const resultOf = (payload: unknown): Result => {
      if (key === null || payload === null || typeof payload !== 'object') return run(payload);
      let shared = results.get(payload);
      if (!shared) results.set(payload, (shared = new Map()));
      let result = shared.get(key);
      if (!result) shared.set(key, (result = run(payload)));
      return result;
    };
    return mapped(source, resultOf);
  };
}

/** `source` with each value mapped; return() and throw() reach the source (its listener stops). */
function mapped<T, R>(source: AsyncIterable<T>, map: (value: T) => R | Promise<R>): AsyncGenerator<R> {
  const it = source[Symbol.asyncIterator]();
  const wrapped: AsyncGenerator<R> = {
    [Symbol.asyncIterator]: () => wrapped,
    // Without an async function's extra promises (once per subscriber for every event); a shared result that is
    // already there (graphql-js executes synchronously when no resolver is async) is not awaited at all.
    next: () =>
      it.next().then((r): IteratorResult<R> | Promise<IteratorResult<R>> => {
        if (r.done) return { done: true, value: undefined };
        const failed = async (err: unknown): Promise<never> => {
          await it.return?.(undefined);
          throw err;
        };
        let value: R | Promise<R>;
        try {
          value = map(r.value);
        } catch (err) {
          return failed(err);
        }
        return isPromise(value) ? value.then((v) => ({ done: false, value: v }), failed) : { done: false, value };
      }),
    return: async () => {
      await it.return?.(undefined);
      return { done: true, value: undefined };
    },
    throw: async (err) => {
      await it.return?.(undefined);
      throw err;
    },
  };
  return wrapped;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
