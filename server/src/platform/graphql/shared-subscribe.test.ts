import { expect } from 'chai';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createAppPubSub } from './pubsub';
import { createSharedSubscribe } from './shared-subscribe';
import { tickSubscriptionSchema, topicSource } from '../../../test/support/topic-source';

/** A schema whose `tick` subscription passes each published object on, counting how often its fields execute. */
function tickSchema() {
  const pubSub = createAppPubSub();
  const counts = { executions: 0, sources: 0, ended: 0 };
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      n: { type: GraphQLInt },
      label: {
        type: GraphQLString,
        args: { prefix: { type: GraphQLString } },
        resolve: (tick: { n: number }, { prefix }: { prefix?: string }, context: { user: string }) => {
          counts.executions++;
          return `${prefix ?? ''}${context.user}:${tick.n}`;
        },
      },
    },
  });
  const schema = tickSubscriptionSchema(Tick, () => {
    counts.sources++;
    return topicSource(pubSub, 'TICK', counts);
  });
  return { schema, pubSub, counts };
}

const DOCUMENT = parse('subscription T($prefix: String) { tick { n label(prefix: $prefix) } }');

describe('createSharedSubscribe', () => {
  const { subscribe } = createSharedSubscribe((context) => ((context as { user?: string }).user ? JSON.stringify((context as { user: string }).user) : null));

  async function open(schema: GraphQLSchema, user: string | undefined, prefix = '>') {
    const stream = await subscribe({ schema, document: DOCUMENT, variableValues: { prefix }, contextValue: { user } });
    if (!(Symbol.asyncIterator in stream)) throw new Error(`no stream: ${JSON.stringify(stream)}`);
    const it = stream as AsyncGenerator<ExecutionResult>;
    return { next: () => it.next(), stop: () => it.return(undefined) };
  }

  it('executes an event once for every subscriber with the same operation, variables and key', async () => {
    const { schema, pubSub, counts } = tickSchema();
    const subscribers = await Promise.all(Array.from({ length: 50 }, () => open(schema, 'alice')));
    const pending = subscribers.map((s) => s.next());
    pubSub.publish('TICK' as never, { n: 1 } as never);
    const results = await Promise.all(pending);
    expect(results.map((r) => r.value)).to.deep.equal(Array.from({ length: 50 }, () => ({ data: { tick: { n: 1, label: '>alice:1' } } })));
    expect(counts.executions, 'one execution of the event for 50 subscribers').to.equal(1);
    // A second event is a new object: executed once again, not answered from the first.
    const second = subscribers.map((s) => s.next());
    pubSub.publish('TICK' as never, { n: 2 } as never);
    expect((await Promise.all(second)).map((r) => (r.value as ExecutionResult).data)).to.deep.equal(Array.from({ length: 50 }, () => ({ tick: { n: 2, label: '>alice:2' } })));
    expect(counts.executions).to.equal(2);
    expect(counts.sources, 'every subscriber has its own source stream').to.equal(50);
    await Promise.all(subscribers.map((s) => s.stop()));
    expect(counts.ended, 'return() ends every source stream').to.equal(50);
  });

  it('never shares between different keys, different variables, or a context without a key', async () => {
    const { schema, pubSub, counts } = tickSchema();
    const subscribers = [await open(schema, 'alice'), await open(schema, 'bob'), await open(schema, 'alice', '#'), await open(schema, undefined), await open(schema, undefined)];
    const pending = subscribers.map((s) => s.next());
    pubSub.publish('TICK' as never, { n: 7 } as never);
    const labels = (await Promise.all(pending)).map((r) => ((r.value as ExecutionResult).data as { tick: { label: string } }).tick.label);
    expect(labels).to.deep.equal(['>alice:7', '>bob:7', '#alice:7', '>undefined:7', '>undefined:7']);
    expect(counts.executions, 'five executions: nothing in common, or no key').to.equal(5);
    await Promise.all(subscribers.map((s) => s.stop()));
  });

  it('answers a refused subscription with its errors, not a stream', async () => {
    const { schema } = tickSchema();
    const result = await subscribe({ schema, document: parse('subscription { nope }'), contextValue: { user: 'alice' } });
    expect(Symbol.asyncIterator in result).to.equal(false);
    expect((result as ExecutionResult).errors?.[0].message).to.match(/nope/);
  });
});
