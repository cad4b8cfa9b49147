import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { GraphQLBoolean, GraphQLError, GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString, buildSchema, parse, specifiedRules } from 'graphql';
import WebSocket from 'ws';
import { ValidatedDocumentCache } from '../../src/platform/graphql/document-cache';
import { complexityDependsOnVariables, createLimitsChecker } from '../../src/platform/graphql/limits';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin, createUserAndToken } from '../support/auth';

/** How many times the cost of `items` was computed (a measured document walks it once per measurement). */
let itemCosts = 0;

/** A schema with a constant-cost field and a field whose cost grows with its `first` argument. */
function testSchema() {
  const item = new GraphQLObjectType({ name: 'Item', fields: { name: { type: GraphQLString } } });
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        hello: { type: GraphQLString },
        items: {
          type: new GraphQLList(item),
          args: { first: { type: GraphQLInt }, flag: { type: GraphQLBoolean } },
          extensions: {
            complexity: ({ args, childComplexity }: { args: { first?: number }; childComplexity: number }) => {
              itemCosts++;
              return (args.first ?? 10) * childComplexity;
            },
          },
        },
        plain: { type: GraphQLString, args: { id: { type: GraphQLString } } },
      },
    }),
  });
}

describe('GraphQL: validated-document cache and cached limit verdicts (unit)', () => {
  const schema = testSchema();
  const limits = { maxDepth: 3, maxComplexity: 50 };

  it('returns the same document for the same text, and refuses an invalid text every time', () => {
    const cache = new ValidatedDocumentCache(schema, specifiedRules, { max: 2 });
    const a = cache.get('{ hello }');
    expect(cache.get('{ hello }')).to.equal(a);
    for (let i = 0; i < 2; i++) {
      const bad = cache.get('{ nope }');
      expect(bad).to.be.an('array').with.length(1);
      expect((bad as GraphQLError[])[0].message).to.match(/Cannot query field "nope"/);
      const unparsable = cache.get('{ hello ');
      expect((unparsable as GraphQLError[])[0]).to.be.instanceOf(GraphQLError);
    }
    expect(cache.size).to.equal(1);
    // A changed text is a different entry, validated on its own.
    expect(cache.get('{ hello plain }')).to.not.equal(a);
    // Least recently used goes first: touch a, add a third, a stays.
    cache.get('{ hello }');
    cache.get('{ plain }');
    expect(cache.size).to.equal(2);
    expect(cache.get('{ hello }')).to.equal(a);
  });

  it('keeps at most maxTotalLength characters of text, dropping the least recently used', () => {
    const cache = new ValidatedDocumentCache(schema, specifiedRules, { max: 100, maxTotalLength: 100 });
    const text = (i: number) => `{ hello } # ${String(i).padStart(30, '0')}`;
    for (let i = 0; i < 10; i++) cache.get(text(i));
    expect(cache.size).to.equal(Math.floor(100 / text(0).length));
    // The newest is kept: it is returned from the cache (the same object) on the next get.
    expect(cache.get(text(9))).to.equal(cache.get(text(9)));
  });

  it('returns a validation rule that throws (a subscription with @skip(if: "x")) as the refusal', () => {
    const subscriptionSchema = buildSchema('type Query { a: Int } type Subscription { s: Int t: Int }');
    const cache = new ValidatedDocumentCache(subscriptionSchema, specifiedRules);
    const refused = cache.get('subscription { s @skip(if: "x") }');
    expect(refused).to.be.an('array').with.length(1);
    expect((refused as GraphQLError[])[0]).to.be.instanceOf(GraphQLError);
  });

  it('knows when complexity can depend on variables', () => {
    expect(complexityDependsOnVariables(schema, parse('query($id: String) { plain(id: $id) }'))).to.equal(false);
    expect(complexityDependsOnVariables(schema, parse('query($n: Int) { items(first: $n) { name } }'))).to.equal(true);
    expect(complexityDependsOnVariables(schema, parse('query($n: Int) { items(first: 2) { name } plain(id: "x") }'))).to.equal(false);
    expect(complexityDependsOnVariables(schema, parse('query($s: Boolean!) { hello @skip(if: $s) }'))).to.equal(true);
  });

  it('refuses a depth bomb or a too-wide operation again on every send, with a fresh error', () => {
    const check = createLimitsChecker(schema, limits);
    const wide = parse(`{ ${Array.from({ length: 60 }, (_, i) => `h${i}: hello`).join(' ')} }`);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        check(wide, {}, undefined);
      } catch (err) {
        errors.push(err);
      }
    }
    expect(errors).to.have.length(3);
    expect(errors[0]).to.not.equal(errors[1]);
    expect((errors[2] as GraphQLError).extensions.code).to.equal('QUERY_TOO_COMPLEX');
    expect(() => check(parse('{ hello }'), {}, undefined)).to.not.throw();
  });

  it('keeps the verdict of a variable-dependent document per variable values; large variables are measured every time', () => {
    const check = createLimitsChecker(schema, limits);
    const doc = parse('query Items($n: Int, $pad: String) { items(first: $n) { name } }');
    itemCosts = 0;
    expect(() => check(doc, { n: 5 }, 'Items')).to.not.throw();
    expect(() => check(doc, { n: 500 }, 'Items')).to.throw(/complexity 500 exceeds the maximum of 50/);
    expect(itemCosts).to.equal(2);
    for (let i = 0; i < 3; i++) {
      expect(() => check(doc, { n: 5 }, 'Items')).to.not.throw();
      // A remembered refusal is a fresh error each time, with the same message.
      expect(() => check(doc, { n: 500 }, 'Items')).to.throw(/complexity 500 exceeds the maximum of 50/);
    }
    expect(itemCosts, 'the same values again: measured once each').to.equal(2);
    const large = { n: 500, pad: 'x'.repeat(300) };
    expect(() => check(doc, large, 'Items')).to.throw(/complexity 500 exceeds/);
    expect(() => check(doc, large, 'Items')).to.throw(/complexity 500 exceeds/);
    expect(itemCosts, 'variables too large to key a verdict: measured each time').to.equal(4);
  });

  it('does not remember a verdict it could not measure (bad variables)', () => {
    const check = createLimitsChecker(schema, limits);
    const wide = parse(`query W($x: Boolean!) { plain(id: "a") ${Array.from({ length: 60 }, (_, i) => `h${i}: hello`).join(' ')} }`);
    // Missing required variable: the complexity cannot be computed, execution reports the variable.
    expect(() => check(wide, {}, 'W')).to.not.throw();
    expect(() => check(wide, { x: true }, 'W')).to.throw(/complexity \d+ exceeds/);
  });
});

/** A minimal graphql-transport-ws client: one socket, operations answered by id. */
async function openSocket(url: string, token?: string) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const waiting = new Map<string, { resolve(v: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }): void }>();
  let seq = 0;
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString()) as { id?: string; type: string; payload?: unknown };
      if (msg.type === 'connection_ack') return resolve();
      const w = msg.id ? waiting.get(msg.id) : undefined;
      if (!w) return;
      if (msg.type === 'next') {
        waiting.delete(msg.id!);
        w.resolve(msg.payload as never);
      } else if (msg.type === 'error') {
        waiting.delete(msg.id!);
        w.resolve({ errors: msg.payload as never });
      }
    });
  });
  return {
    run: (query: string, variables?: Record<string, unknown>) =>
      new Promise<{ data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }>((resolve) => {
        const id = String(++seq);
        waiting.set(id, { resolve });
        ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      }),
    close: () => ws.close(1000),
  };
}

describe('GraphQL over graphql-ws: cached documents keep every check', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_GRAPHQL_MAX_DEPTH: '5', STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: '50', STREAMSPACE_GRAPHQL_MAX_ALIASES: '100' });
  });
  after(async () => {
    await app?.stop();
  });

  const HEARTBEAT = 'mutation Beat($id: ID!) { heartbeat(connectionId: $id) }';

  it('authorizes a cached document for each caller on each operation', async () => {
    const admin = await signInAsAdmin(app);
    const user = await createUserAndToken(app);
    const anonymous = await openSocket(app.wsUrl);
    const signedIn = await openSocket(app.wsUrl, admin.accessToken);
    const other = await openSocket(app.wsUrl, user.accessToken);
    try {
      for (let i = 0; i < 3; i++) {
        const refused = await anonymous.run(HEARTBEAT, { id: randomUUID() });
        expect(refused.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
        // Signed in, the same text reaches the service: an unknown connection is NOT_FOUND, not refused.
        const unknown = await signedIn.run(HEARTBEAT, { id: randomUUID() });
        expect(unknown.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
      }
      // Admin-only operation, same text from an admin and from a plain user.
      const adminOnly = '{ users(first: 1) { edges { node { id } } } }';
      const byAdmin = await signedIn.run(adminOnly);
      expect(byAdmin.errors, JSON.stringify(byAdmin.errors)).to.equal(undefined);
      const byUser = await other.run(adminOnly);
      expect(byUser.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    } finally {
      anonymous.close();
      signedIn.close();
      other.close();
    }
  });

  it('refuses an invalid or changed document every time, and a depth bomb on every send', async () => {
    const socket = await openSocket(app.wsUrl);
    try {
      for (let i = 0; i < 2; i++) {
        const invalid = await socket.run('{ version { nope } }');
        expect(invalid.errors?.[0].message).to.match(/Cannot query field "nope"/);
        const ok = await socket.run('{ version { version } }');
        expect(ok.errors).to.equal(undefined);
        const bomb = await socket.run('query Deep { __schema { types { fields { type { ofType { name } } } } } }');
        expect(bomb.errors?.[0].extensions?.code).to.equal('QUERY_TOO_COMPLEX');
        expect(bomb.errors?.[0].message).to.equal('Query depth 6 exceeds the maximum of 5');
        const wide = await socket.run(`query Wide { ${Array.from({ length: 60 }, (_, j) => `v${j}: version { version }`).join(' ')} }`);
        expect(wide.errors?.[0].extensions?.code).to.equal('QUERY_TOO_COMPLEX');
      }
    } finally {
      socket.close();
    }
  });

  it('counts graphql-ws operations in the metrics by their real type and outcome', async () => {
    const admin = await signInAsAdmin(app);
    const socket = await openSocket(app.wsUrl, admin.accessToken);
    try {
      await socket.run('query WsMetricsProbe { version { version } }');
      await socket.run(HEARTBEAT.replace('Beat', 'WsMetricsBeat'), { id: randomUUID() });
    } finally {
      socket.close();
    }
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).to.match(/streamspace_graphql_operations_total\{operation_name="WsMetricsProbe",operation_type="query",outcome="success"\} 1/);
    expect(text).to.match(/streamspace_graphql_operation_duration_seconds_count\{operation_name="WsMetricsProbe",operation_type="query"\} 1/);
    expect(text).to.match(/streamspace_graphql_operations_total\{operation_name="WsMetricsBeat",operation_type="mutation",outcome="error"\} 1/);
  });
});
