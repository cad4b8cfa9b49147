import { GraphQLInt, GraphQLObjectType, GraphQLSchema } from 'graphql';
import type { AppPubSub } from '../../src/platform/graphql/pubsub';

/**
 * A subscription source for tests of the subscription machinery: the events of `topic`, ending when `last` says so
 * (as a deleted session ends its viewers' streams), counting in `counts.ended` how often it was returned (ended).
 */
export function topicSource(pubSub: AppPubSub, topic: string, counts: { ended: number }, last: (event: unknown) => boolean = () => false): AsyncIterableIterator<unknown> {
  const it = pubSub.subscribeTopic<unknown>(topic);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => it.next().then((r) => (!r.done && last(r.value) ? { done: true as const, value: undefined } : r)),
    return: async () => {
      counts.ended++;
      return it.return(undefined);
    },
  };
}

/** A schema whose `tick` subscription (of type `Tick`) passes each event of `subscribe`'s source on as its root. */
export function tickSubscriptionSchema(Tick: GraphQLObjectType, subscribe: () => AsyncIterableIterator<unknown>): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: { tick: { type: Tick, subscribe, resolve: (tick: unknown) => tick } },
    }),
  });
}
