import type { ExecutionResult } from 'graphql';
import type { Execution, ResultWaiter, SubscriptionEvents } from './shared-subscribe';

/** Where one subscription's `next` messages go: its socket, under its operation id. */
export interface SubscriptionSink {
  /** The operation's id in the protocol's messages (the client chose it). */
  readonly id: string;
  /** Writes one text message, `head` then `tail`; a promise while the socket is backed up (the next event waits for it). */
  send(head: Buffer, tail: Buffer): Promise<void> | void;
  /** The payload of a result with errors, as this operation reports them (formatted and counted by the server). */
  withErrors(result: ExecutionResult): unknown;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };

/**
 * A subscription whose events are written straight to its socket as graphql-transport-ws `next` messages
 * (`{"id":…,"type":"next","payload":…}`): the operation's own head, then the payload's JSON and the closing brace,
 * encoded once for every subscriber of the same execution (`Execution.bytes`). graphql-ws's own loop costs, per subscriber and event, an async iteration, an
 * async `emit.next` with two awaits, an object rest and two spreads, a message validation and a serialization:
 * for ten thousand viewers of one session, most of a change's cost. Here an event costs the source's step, one
 * promise reaction and one write; a result still being executed is waited for in a list, not with a promise each.
 *
 * To graphql-ws this is a stream that yields nothing and whose one `next()` settles when the subscription ends:
 * done when the source ends (graphql-ws sends `complete`), rejected when an event fails (graphql-ws sends `error`,
 * formatted by the server's onError). `return()` (the client's `complete`, the socket's close) stops the writes and
 * ends the source, as graphql-ws's loop would. Writing starts with that first `next()`, so a subscription graphql-ws
 * drops before iterating it (the client completed it while it was being set up) never listens.
 */
export function writtenToSocket(events: SubscriptionEvents, sink: SubscriptionSink): AsyncGenerator<never> {
  const head = Buffer.from(`{"id":${JSON.stringify(sink.id)},"type":"next","payload":`);
  let state: 'idle' | 'writing' | 'ended' = 'idle';
  let ended: Promise<IteratorResult<never>> | undefined;
  let settle: { resolve(r: IteratorResult<never>): void; reject(err: unknown): void } | undefined;

  const settled = (): Promise<IteratorResult<never>> => (ended ??= new Promise((resolve, reject) => (settle = { resolve, reject })));
  const endSource = () => Promise.resolve(events.source.return?.(undefined)).catch(() => undefined);
  const finish = () => {
    if (state === 'ended') return;
    state = 'ended';
    settle?.resolve(DONE);
  };
  const fail = (err: unknown) => {
    if (state === 'ended') return;
    state = 'ended';
    void endSource().then(() => settle?.reject(err));
  };
  const write = (execution: Execution, result: ExecutionResult) => {
    if (state === 'ended') return;
    let tail: Buffer;
    try {
      tail = result.errors?.length ? Buffer.from(`${JSON.stringify(sink.withErrors(result))}}`) : execution.bytes('}');
    } catch (err) {
      fail(err);
      return;
    }
    const written = sink.send(head, tail);
    if (written) written.then(pull, fail);
    else pull();
  };
  const waiter: ResultWaiter = { resultReady: write, resultFailed: fail };
  const onEvent = (r: IteratorResult<unknown>) => {
    if (state === 'ended') return;
    if (r.done) {
      finish();
      return;
    }
    try {
      events.executionOf(r.value).deliverTo(waiter);
    } catch (err) {
      fail(err);
    }
  };
  function pull() {
    if (state === 'ended') return;
    events.source.next().then(onEvent, fail);
  }

  const stream: AsyncGenerator<never> = {
    [Symbol.asyncIterator]: () => stream,
    next: () => {
      if (state === 'idle') {
        state = 'writing';
        const result = settled();
        pull();
        return result;
      }
      return state === 'writing' ? settled() : (ended ?? Promise.resolve(DONE));
    },
    return: async () => {
      if (state !== 'ended') {
        state = 'ended';
        await endSource();
        settle?.resolve(DONE);
      }
      return DONE;
    },
    throw: async (err: unknown) => {
      await stream.return(undefined);
      throw err;
    },
  };
  return stream;
}
