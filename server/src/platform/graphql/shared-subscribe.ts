import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Waits for an execution's result: one object per subscription, not a promise per subscriber and event. */
export interface ResultWaiter {
  resultReady(execution: Execution, result: ExecutionResult): void;
  resultFailed(err: unknown): void;
}

/**
 * One event's execution for the subscribers that share it: its result (a promise while resolvers run), the
 * subscriptions waiting for it, and its JSON once a writer asked for it.
 */
export class Execution {
  private resolved?: ExecutionResult;
  private failure?: { err: unknown };
  private waiters?: ResultWaiter[];
  private json?: Buffer;

  constructor(readonly result: Result) {
    if (!isPromise(result)) {
      this.resolved = result;
      return;
    }
    result.then(
      (value) => {
        this.resolved = value;
        const waiters = this.waiters;
        this.waiters = undefined;
        if (waiters) for (const waiter of waiters) waiter.resultReady(this, value);
      },
      (err: unknown) => {
        this.failure = { err };
        const waiters = this.waiters;
        this.waiters = undefined;
        if (waiters) for (const waiter of waiters) waiter.resultFailed(err);
      },
    );
  }

  /** Hands the result to `waiter`: at once when it is there, else when it resolves (or its failure). */
  deliverTo(waiter: ResultWaiter): void {
    if (this.resolved) waiter.resultReady(this, this.resolved);
    else if (this.failure) waiter.resultFailed(this.failure.err);
    else (this.waiters ??= []).push(waiter);
  }

  /**
   * The result as UTF-8 JSON followed by `suffix` (the end of the message it goes in), made once for every subscriber
   * that shares it (only once it is there, see `deliverTo`): a writer that sends one result to thousands of sockets
   * does not serialize or encode it thousands of times. The first caller's suffix is the one kept.
   */
  bytes(suffix: string): Buffer {
    return (this.json ??= Buffer.from(JSON.stringify(this.resolved) + suffix));
  }
}

/**
 * A subscription's events and how to answer them: its own source stream (resolver, filters, authorization: one per
 * subscriber) and the shared execution of each event it receives.
 */
export class SubscriptionEvents {
  constructor(
    /** The subscriber's own events (the root values its operation executes on). */
    readonly source: AsyncIterator<unknown>,
    private readonly key: string | null,
    private readonly run: (payload: unknown) => Result,
    private readonly executions: WeakMap<object, Map<string, Execution>>,
  ) {}

  /** The execution of the operation on `payload`, shared with every subscriber of the same key. */
  executionOf(payload: unknown): Execution {
    if (this.key === null || payload === null || typeof payload !== 'object') return new Execution(this.run(payload));
    let byKey = this.executions.get(payload);
    if (!byKey) this.executions.set(payload, (byKey = new Map()));
    let execution = byKey.get(this.key);
    if (!execution) byKey.set(this.key, (execution = new Execution(this.run(payload))));
    return execution;
  }

  /** The results as a stream (graphql-js's `subscribe`); return() and throw() end the source. */
  results(): AsyncGenerator<ExecutionResult> {
    return mapped(this.source, (payload) => this.executionOf(payload).result);
  }
}

export interface SharedSubscribe {
  /** graphql-js's `subscribe` with shared executions: a stream of results, or the errors that refused it. */
  subscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
  /** The subscription's events with their shared executions (for a writer of its own), or the errors that refused it. */
  open(args: ExecutionArgs): Promise<SubscriptionEvents | ExecutionResult>;
}

/**
 * graphql-js's `subscribe` with one execution per event for identical subscribers: subscriptions with the same
 * document, operation, variables and execution key (the caller, see `keyOf`) that receive the same event object
 * (one change reaches every subscriber of a topic as one object) share the result of executing it, instead of
 * each executing the same selection on the same root for the same caller. Ten thousand viewers of one session
 * then cost one execution per change, not ten thousand (and one serialization, for a writer that asks: `Execution.bytes`).
 *
 * Sharing is per event object only (a WeakMap keyed by it: results go with the event), and only among operations
 * of one execution key: `keyOf` returns null for a context whose results must never be shared (each executes as
 * graphql-js would). The source stream (resolver, filters, authorization) stays per subscriber; only the execution
 * of an event every one of them already received is shared. Results are never modified after execution (errors
 * are formatted into new objects), so sharing the object is safe.
 */
export function createSharedSubscribe(keyOf: (contextValue: unknown) => string | null): SharedSubscribe {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, Execution>>();

  const open = async (args: ExecutionArgs): Promise<SubscriptionEvents | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const contextKey = keyOf(args.contextValue);
    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
    const key = contextKey === null ? null : `${documentId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${contextKey}`;
    const run = (payload: unknown): Result => execute({ ...args, rootValue: payload });
    return new SubscriptionEvents(source[Symbol.asyncIterator](), key, run, results);
  };
  return {
    open,
    subscribe: async (args) => {
      const events = await open(args);
      return events instanceof SubscriptionEvents ? events.results() : events;
    },
  };
}

/** `it` with each value mapped; return() and throw() reach the source (its listener stops). */
function mapped<T, R>(it: AsyncIterator<T>, map: (value: T) => R | Promise<R>): AsyncGenerator<R> {
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

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
