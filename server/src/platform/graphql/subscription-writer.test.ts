import { expect } from 'chai';
import { GraphQLInt, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, GraphQLString, parse, type DocumentNode, type ExecutionResult } from 'graphql';
import { createAppPubSub } from './pubsub';
import { createSharedSubscribe, SubscriptionEvents } from './shared-subscribe';
import { writtenToSocket, type SubscriptionSink } from './subscription-writer';
import { tickSubscriptionSchema, topicSource } from '../../../test/support/topic-source';

/**
 * A `tick` subscription over the app's pub/sub. Its `stamp` is a scalar whose serialized value counts how often it is
 * turned into JSON; `broken` fails its resolver when the tick says so; `huge` serializes to a BigInt (JSON refuses);
 * a tick marked `last` ends the stream.
 */
function tickSchema() {
  const pubSub = createAppPubSub();
  const counts = { executions: 0, serialized: 0, ended: 0 };
  const Stamp = new GraphQLScalarType({
    name: 'Stamp',
    serialize: (value) => ({
      toJSON: () => {
        counts.serialized++;
        return value;
      },
    }),
  });
  const Huge = new GraphQLScalarType({ name: 'Huge', serialize: (value) => BigInt(value as number) });
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      n: {
        type: GraphQLInt,
        resolve: (tick: { n: number }) => {
          counts.executions++;
          return tick.n;
        },
      },
      stamp: { type: Stamp, resolve: (tick: { n: number }) => `t${tick.n}` },
      broken: {
        type: GraphQLString,
        resolve: (tick: { n: number; fail?: boolean }) => {
          if (tick.fail) throw new Error('the tick failed');
          return 'fine';
        },
      },
      huge: { type: Huge, resolve: (tick: { n: number }) => tick.n },
      later: {
        type: Stamp,
        resolve: async (tick: { n: number }) => {
          counts.executions++;
          await new Promise((resolve) => setImmediate(resolve));
          return `later${tick.n}`;
        },
      },
    },
  });
  // A tick marked `last` ends the stream (as a deleted session ends its viewers' streams).
  const schema = tickSubscriptionSchema(Tick, () => topicSource(pubSub, 'TICK', counts, (tick) => Boolean((tick as { last?: boolean }).last)));
  return { schema, counts, publish: (tick: object) => pubSub.publish('TICK' as never, tick as never) };
}

/** A socket's writes, as the server's sink would make them (`withErrors` formats errors the way onNext does). */
function recordingSink(id: string, overrides: Partial<SubscriptionSink> = {}) {
  const written: string[] = [];
  const sink: SubscriptionSink = {
    id,
    send: (head, tail) => void written.push(Buffer.concat([head, tail]).toString()),
    withErrors: (result) => ({ ...result, errors: result.errors?.map((e) => ({ message: `formatted: ${e.message}` })) }),
    ...overrides,
  };
  return { sink, written };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('writtenToSocket', () => {
  const shared = createSharedSubscribe((context) => (context as { user?: string }).user ?? null);

  // One parsed document per query text, as the server's document cache hands it out (sharing is per document).
  const documents = new Map<string, DocumentNode>();
  async function open(schema: GraphQLSchema, query: string, user = 'alice'): Promise<SubscriptionEvents> {
    let document = documents.get(query);
    if (!document) documents.set(query, (document = parse(query)));
    const events = await shared.open({ schema, document, contextValue: { user } });
    if (!(events instanceof SubscriptionEvents)) throw new Error(`refused: ${JSON.stringify(events)}`);
    return events;
  }

  it('writes each event as a graphql-transport-ws next message, executed and serialized once for all who share it', async () => {
    const { schema, counts, publish } = tickSchema();
    const query = 'subscription { tick { n stamp } }';
    const subscribers = await Promise.all(Array.from({ length: 50 }, async (_, i) => ({ ...recordingSink(`op-${i}`), events: await open(schema, query) })));
    const streams = subscribers.map(({ events, sink }) => writtenToSocket(events, sink));
    const ends = streams.map((s) => s.next());
    await turns();
    publish({ n: 1 });
    publish({ n: 2 });
    await turns();
    subscribers.forEach(({ written }, i) => {
      expect(written.map((text) => JSON.parse(text) as unknown)).to.deep.equal([
        { id: `op-${i}`, type: 'next', payload: { data: { tick: { n: 1, stamp: 't1' } } } },
        { id: `op-${i}`, type: 'next', payload: { data: { tick: { n: 2, stamp: 't2' } } } },
      ]);
    });
    expect(counts.executions, 'one execution per event for 50 subscribers').to.equal(2);
    expect(counts.serialized, 'one JSON per event for 50 subscribers').to.equal(2);
    await Promise.all(streams.map((s) => s.return(undefined)));
    expect(await Promise.all(ends), 'the pending next() settles done when the subscription is returned').to.deep.equal(
      streams.map(() => ({ done: true, value: undefined })),
    );
    expect(counts.ended, 'return() ends every source').to.equal(50);
    publish({ n: 3 });
    await turns();
    expect(subscribers.every(({ written }) => written.length === 2), 'nothing is written after return()').to.equal(true);
  });

  it('waits for a result its resolvers are still computing: one execution and one JSON for all who share it', async () => {
    const { schema, counts, publish } = tickSchema();
    const subscribers = await Promise.all(Array.from({ length: 20 }, async (_, i) => ({ ...recordingSink(`a-${i}`), events: await open(schema, 'subscription { tick { later } }') })));
    const streams = subscribers.map(({ events, sink }) => writtenToSocket(events, sink));
    const ends = streams.map((s) => s.next());
    await turns();
    publish({ n: 4 });
    await turns(10);
    subscribers.forEach(({ written }, i) => {
      expect(written.map((text) => JSON.parse(text) as unknown)).to.deep.equal([{ id: `a-${i}`, type: 'next', payload: { data: { tick: { later: 'later4' } } } }]);
    });
    expect(counts.executions, 'one execution for 20 subscribers').to.equal(1);
    expect(counts.serialized, 'one JSON for 20 subscribers').to.equal(1);
    await Promise.all(streams.map((s) => s.return(undefined)));
    await Promise.all(ends);
  });

  it('formats a result with errors for its own operation, and keeps going', async () => {
    const { schema, publish } = tickSchema();
    const { sink, written } = recordingSink('e1');
    const stream = writtenToSocket(await open(schema, 'subscription { tick { n broken } }'), sink);
    const end = stream.next();
    await turns();
    publish({ n: 1, fail: true });
    publish({ n: 2 });
    await turns();
    const [first, second] = written.map((text) => JSON.parse(text) as { payload: ExecutionResult });
    expect(first!.payload.data).to.deep.equal({ tick: { n: 1, broken: null } });
    expect(first!.payload.errors).to.deep.equal([{ message: 'formatted: the tick failed' }]);
    expect(second!.payload).to.deep.equal({ data: { tick: { n: 2, broken: 'fine' } } });
    await stream.return(undefined);
    expect(await end).to.deep.equal({ done: true, value: undefined });
  });

  it('waits for a backed-up socket before the next event, in order', async () => {
    const { schema, publish } = tickSchema();
    let release: () => void = () => undefined;
    const { sink, written } = recordingSink('b1');
    const send = sink.send;
    const stream = writtenToSocket(await open(schema, 'subscription { tick { n } }'), {
      ...sink,
      send: (head, tail) => {
        send(head, tail);
        if (written.length === 1) return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const end = stream.next();
    await turns();
    publish({ n: 1 });
    publish({ n: 2 });
    publish({ n: 3 });
    await turns();
    expect(written.length, 'the second event waits while the first write is not flushed').to.equal(1);
    release();
    await turns();
    expect(written.map((t) => (JSON.parse(t) as { payload: { data: { tick: { n: number } } } }).payload.data.tick.n)).to.deep.equal([1, 2, 3]);
    await stream.return(undefined);
    await end;
  });

  it('ends done when its source ends, and fails (source ended) when a result cannot be written', async () => {
    const { schema, counts, publish } = tickSchema();
    const { sink, written } = recordingSink('f1');
    const events = await open(schema, 'subscription { tick { n huge } }');
    const stream = writtenToSocket(events, sink);
    const end = stream.next();
    await turns();
    publish({ n: 1 });
    let failure: unknown;
    await end.catch((err: unknown) => (failure = err));
    expect(failure, 'JSON refuses a BigInt: the subscription fails').to.be.instanceOf(TypeError);
    expect(written).to.deep.equal([]);
    expect(counts.ended, 'its source was ended').to.equal(1);


    // A source that ends by itself (a deleted session's stream does): next() settles done, graphql-ws sends `complete`.
    const ending = recordingSink('f2');
    const second = writtenToSocket(await open(schema, 'subscription { tick { n } }'), ending.sink);
    const secondEnd = second.next();
    await turns();
    publish({ n: 2 });
    publish({ n: 3, last: true });
    expect(await secondEnd).to.deep.equal({ done: true, value: undefined });
    expect(ending.written.map((t) => JSON.parse(t) as unknown)).to.deep.equal([{ id: 'f2', type: 'next', payload: { data: { tick: { n: 2 } } } }]);
  });

  it('never listens when returned before its first next()', async () => {
    const { schema, counts, publish } = tickSchema();
    const { sink, written } = recordingSink('r1');
    const stream = writtenToSocket(await open(schema, 'subscription { tick { n } }'), sink);
    expect(await stream.return(undefined)).to.deep.equal({ done: true, value: undefined });
    expect(counts.ended).to.equal(1);
    publish({ n: 1 });
    await turns();
    expect(written).to.deep.equal([]);
    expect(await stream.next()).to.deep.equal({ done: true, value: undefined });
  });
});
