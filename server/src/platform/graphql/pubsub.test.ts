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
});
