import { endingWithSource, type AppPubSub } from '../../platform/graphql/pubsub';
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
  const iterator = changes[Symbol.asyncIterator]();
  // The first next() starts listening (the pubsub's repeaters are lazy).
  let pending = iterator.next();
  let current: SessionType;
  try {
    current = await sessions.get(caller, id);
  } catch (err) {
    await changes.return?.();
    throw err;
  }
  const stream = (async function* stream(): AsyncGenerator<SessionType> {
    try {
      yield current;
      for (;;) {
        const next = await pending;
        if (next.done) return;
        pending = iterator.next();
        const change = next.value;
        if (change.session.id !== id) continue;
        if (change.type === 'DELETED') return;
        // Someone on the access list stops getting updates once removed from it.
        if (!sessions.canSee(caller, change.session) && !(await sessions.access(caller, change.session))) return;
        yield typedOnce(change.session);
      }
    } finally {
      await changes.return?.();
    }
  })();
  return endingWithSource(stream, () => changes.return?.());
}
