import { expect } from 'chai';
import { createAppPubSub } from './pubsub';

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
});
