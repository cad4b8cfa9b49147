import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Caller } from '../../platform/graphql/context';
import { sessionTopic, type SessionChange } from './session-table';
import { toSessionType, type SessionService } from './session.service';
import type { SessionType } from './dto/session.type';

/**
 * `sessionUpdated(id)`: the session as it is now, then each time it changes; the stream ends when the session
 * is deleted. It listens before it reads, so a change between the read and the first event is never lost
 * (a client that opens the view while the pod turns Ready, or that resubscribes after its socket restarted,
 * still ends up with the current state). An id the caller may not see fails at once with NOT_FOUND; the stream
 * ends when the caller is removed from the session's access list.
 */
/** One change reaches every subscriber of its session: convert its row once, not once per subscriber. */
const typed = new WeakMap<SessionChange['session'], SessionType>();
function typedOnce(row: SessionChange['session']): SessionType {
  let t = typed.get(row);
  if (!t) typed.set(row, (t = toSessionType(row)));
  return t;
}

export async function sessionUpdates(pubSub: AppPubSub, sessions: SessionService, caller: Caller, id: string): Promise<AsyncGenerator<SessionType>> {
  const changes = pubSub.subscribeTopic<SessionChange>(sessionTopic(id));
  // The first next() starts listening (the pubsub's streams are lazy); events after it wait in the stream's queue.
  const first = changes.next();
  let current: SessionType;
  try {
    current = await sessions.get(caller, id);
  } catch (err) {
    await changes.return();
    throw err;
  }
  // Not an async generator: this runs once per subscriber for every change (thousands of viewers of one session),
  // so each event costs one promise here, and return() ends the source at once, even while a next() waits.
  let state: 'current' | 'first' | 'open' | 'ended' = 'current';
  const DONE: IteratorResult<SessionType> = { done: true, value: undefined };
  const end = async (): Promise<IteratorResult<SessionType>> => {
    state = 'ended';
    await changes.return();
    return DONE;
  };
  const step = (next: IteratorResult<SessionChange, void>): IteratorResult<SessionType> | Promise<IteratorResult<SessionType>> => {
    if (state === 'ended') return DONE;
    if (next.done) return end();
    const change = next.value;
    if (change.session.id !== id) return changes.next().then(step);
    if (change.type === 'DELETED') return end();
    // Someone on the access list stops getting updates once removed from it.
    if (sessions.canSee(caller, change.session)) return { done: false, value: typedOnce(change.session) };
    return sessions.access(caller, change.session).then(
      (allowed) => (allowed ? { done: false, value: typedOnce(change.session) } : end()),
      async (err: unknown) => {
        await end();
        throw err;
      },
    );
  };
  const stream: AsyncGenerator<SessionType> = {
    [Symbol.asyncIterator]: () => stream,
    next: () => {
      if (state === 'current') {
        state = 'first';
        return Promise.resolve({ done: false, value: current });
      }
      if (state === 'ended') return Promise.resolve(DONE);
      const pending = state === 'first' ? first : changes.next();
      state = 'open';
      return pending.then(step);
    },
    return: () => end(),
    throw: async (err: unknown) => {
      await end();
      throw err;
    },
  };
  return stream;
}
