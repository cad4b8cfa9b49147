import { expect } from 'chai';
import { createAppPubSub, MAX_QUEUED_EVENTS } from './pubsub';

describe('AppPubSub.subscribeTopic', () => {
  it('delivers the published events of one topic, typed, and stops on return()', async () => {
    const pubSub = createAppPubSub();
    const events = pubSub.subscribeTopic<{ userId: string }>('USER_ACCESS_CHANGED');
    const first = events.next(); // listening starts with the first next()
    pubSub.publish('OTHER_TOPIC' as never, { userId: 'x' } as never);
    pubSub.publish('USER_ACCESS_CHANGED' as never, { userId: 'u1' } as never);
    expect(await first).to.deep.equal({ done: false, value: { userId: 'u1' } });
    await events.return();
    expect(await events.next()).to.deep.equal({ done: true, value: undefined });
  });

  it('holds many subscribers of one topic without the listener-leak warning, and delivers to each', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const pubSub = createAppPubSub();
      const subscribers = Array.from({ length: 50 }, () => pubSub.subscribeTopic<{ userId: string }>('USER_ACCESS_CHANGED'));
      const firsts = subscribers.map((s) => s.next());
      pubSub.publish('USER_ACCESS_CHANGED' as never, { userId: 'u1' } as never);
      expect((await Promise.all(firsts)).map((r) => r.value)).to.deep.equal(Array.from({ length: 50 }, () => ({ userId: 'u1' })));
      await Promise.all(subscribers.map((s) => s.return()));
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('listens from the first next(), routes topic and id as graphql-yoga does, and a return() ends a waiting next()', async () => {
    const pubSub = createAppPubSub();
    const byId = pubSub.subscribe('SESSION' as never, 's1' as never) as unknown as AsyncGenerator<unknown>;
    const plain = pubSub.subscribeTopic<string>('SESSION');
    pubSub.publish('SESSION' as never, 'before anyone listened' as never);
    const firstById = byId.next();
    const firstPlain = plain.next();
    (pubSub.publish as (...a: unknown[]) => void)('SESSION', 's2', 'for s2');
    (pubSub.publish as (...a: unknown[]) => void)('SESSION', 's1', 'for s1');
    pubSub.publish('SESSION' as never, 'plain' as never);
    expect(await firstById).to.deep.equal({ done: false, value: 'for s1' });
    expect(await firstPlain).to.deep.equal({ done: false, value: 'plain' });
    const waiting = plain.next();
    await plain.return();
    expect(await waiting).to.deep.equal({ done: true, value: undefined });
    await byId.return(undefined);
    // Nobody listens any more: a publish reaches no one (and holds nothing).
    pubSub.publish('SESSION' as never, 'after' as never);
    expect(await plain.next()).to.deep.equal({ done: true, value: undefined });
  });

  it('queues events for a slow reader in order, and ends a reader that lets too many pile up', async () => {
    const pubSub = createAppPubSub();
    const slow = pubSub.subscribeTopic<number>('T');
    const fast = pubSub.subscribeTopic<number>('T');
    const first = slow.next();
    void fast.next();
    pubSub.publish('T' as never, 0 as never);
    expect((await first).value).to.equal(0);
    for (let i = 1; i <= 3; i++) pubSub.publish('T' as never, i as never);
    expect([(await slow.next()).value, (await slow.next()).value, (await slow.next()).value]).to.deep.equal([1, 2, 3]);
    for (let i = 0; i <= MAX_QUEUED_EVENTS; i++) pubSub.publish('T' as never, i as never);
    expect(await slow.next()).to.deep.equal({ done: true, value: undefined });
    await fast.return();
  });
});
