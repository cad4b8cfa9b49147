import { expect } from 'chai';
import type { Request, Response } from 'express';
import { GraphQLError, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, specifiedRules } from 'graphql';
import { AppMetrics } from '../http/metrics';
import type { GraphQLContext } from './context';
import { ValidatedDocumentCache } from './document-cache';
import { createExecutor } from './executor';
import { postedOperations } from './http-operations';
import { createLimitsChecker } from './limits';
import { LoaderRegistry } from './loaders';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, resolve: (_: unknown, __: unknown, ctx: GraphQLContext) => `hello ${ctx.caller?.username ?? 'anonymous'}` },
      double: { type: GraphQLInt, args: { n: { type: new GraphQLNonNull(GraphQLInt) } }, resolve: (_: unknown, args: { n: number }) => args.n * 2 },
      teapot: {
        type: GraphQLString,
        resolve: () => {
          throw new GraphQLError('short and stout', { extensions: { code: 'TEAPOT', http: { status: 418, headers: new Map([['x-tea', 'earl grey']]) } } });
        },
      },
      broken: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('a bug');
        },
      },
      deep: { type: new GraphQLObjectType({ name: 'Deep', fields: () => ({ n: { type: GraphQLInt, resolve: () => 1 } }) }), resolve: () => ({}) },
    },
  }),
  mutation: new GraphQLObjectType({ name: 'Mutation', fields: { bump: { type: GraphQLInt, resolve: () => 1 } } }),
  subscription: new GraphQLObjectType({ name: 'Subscription', fields: { tick: { type: GraphQLInt } } }),
});

interface Answer {
  status: number;
  headers: Record<string, string | number>;
  body?: string;
}

function harness(options: { contextFails?: Error } = {}) {
  const handedOver: { body: unknown; context?: GraphQLContext; contextError?: unknown }[] = [];
  const formatted: { requestId: string | undefined; code: unknown }[] = [];
  const metrics = new AppMetrics();
  const posted = postedOperations({
    documents: new ValidatedDocumentCache(schema, specifiedRules),
    checkLimits: createLimitsChecker(schema, { maxDepth: 1, maxComplexity: 100 }),
    execute: createExecutor(schema),
    context: async (req) => {
      if (options.contextFails) throw options.contextFails;
      return { requestId: 'req-1', logger: undefined as never, caller: req.headers.authorization ? { id: 'u1', username: 'ann', role: 'user' } : null, loaders: new LoaderRegistry() };
    },
    formatError: (requestId) => (formattedError) => {
      formatted.push({ requestId, code: formattedError.extensions?.code });
      return formattedError;
    },
    metrics,
    apollo: async (req, res, context) => {
      const entry: (typeof handedOver)[number] = { body: req.body };
      handedOver.push(entry);
      await context().then(
        (value) => (entry.context = value),
        (err: unknown) => (entry.contextError = err),
      );
      res.statusCode = 299;
      res.end();
    },
  });
  const send = async (body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> => {
    const answer: Answer = { status: 0, headers: {} };
    const res = {
      statusCode: 200,
      setHeader: (name: string, value: string | number) => (answer.headers[name.toLowerCase()] = value),
      end: (chunk?: Buffer) => {
        answer.body = chunk?.toString('utf8');
      },
    };
    await posted.handler({ method, body, headers: { 'content-type': 'application/json', ...headers } } as unknown as Request, res as unknown as Response, () => {});
    answer.status = res.statusCode;
    return answer;
  };
  return { posted, send, handedOver, formatted, metrics };
}

describe('GraphQL POSTs answered without Apollo (http-operations, unit)', () => {
  it("answers a query and a mutation as Apollo's JSON: errors, data, extensions, a newline, its content type and length", async () => {
    const { posted, send, handedOver } = harness();
    const query = await send({ query: 'query Hi { hello }' }, { authorization: 'Bearer x' });
    expect(query.status).to.equal(200);
    expect(query.body).to.equal('{"data":{"hello":"hello ann"}}\n');
    expect(query.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(query.headers['content-length']).to.equal(Buffer.byteLength(query.body!));
    const mutation = await send({ query: 'mutation { bump }', operationName: null, variables: null });
    expect(mutation.body).to.equal('{"data":{"bump":1}}\n');
    const withVariables = await send({ query: 'query D($n: Int!) { double(n: $n) }', variables: { n: 21 } });
    expect(withVariables.body).to.equal('{"data":{"double":42}}\n');
    expect(handedOver).to.deep.equal([]);
    expect(posted.counts).to.deep.equal({ answered: 3, handedOver: 0 });
  });

  it('negotiates the content type as Apollo does, and hands an Accept it cannot serve to Apollo (406)', async () => {
    const { send, handedOver } = harness();
    const graphqlResponse = await send({ query: '{ hello }' }, { accept: 'application/graphql-response+json,application/json;q=0.9' });
    expect(graphqlResponse.headers['content-type']).to.equal('application/graphql-response+json; charset=utf-8');
    const json = await send({ query: '{ hello }' }, { accept: 'application/json' });
    expect(json.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(handedOver).to.have.length(0);
    const html = await send({ query: '{ hello }' }, { accept: 'text/html' });
    expect(html.status).to.equal(299);
    expect(handedOver).to.have.length(1);
  });

  it('formats errors as Apollo: code defaulted, extensions.http applied to the answer and removed, the request id given', async () => {
    const { send, formatted } = harness();
    const teapot = await send({ query: '{ hello teapot }' });
    expect(teapot.status).to.equal(418);
    expect(teapot.headers['x-tea']).to.equal('earl grey');
    const body = JSON.parse(teapot.body!) as { errors: { message: string; extensions: Record<string, unknown> }[]; data: unknown };
    expect(Object.keys(JSON.parse(teapot.body!) as object)).to.deep.equal(['errors', 'data']);
    expect(body.errors[0].extensions).to.deep.equal({ code: 'TEAPOT' });
    expect(body.data).to.deep.equal({ hello: 'hello anonymous', teapot: null });
    const broken = await send({ query: '{ broken }' });
    expect(broken.status).to.equal(200);
    expect((JSON.parse(broken.body!) as { errors: { extensions: unknown }[] }).errors[0].extensions).to.deep.equal({ code: 'INTERNAL_SERVER_ERROR' });
    expect(formatted).to.deep.equal([
      { requestId: 'req-1', code: 'TEAPOT' },
      { requestId: 'req-1', code: 'INTERNAL_SERVER_ERROR' },
    ]);
  });

  it('hands to Apollo, before any resolver ran, every request it would answer otherwise', async () => {
    const { posted, send, handedOver } = harness();
    const refused: unknown[] = [
      [{ query: '{ hello }' }], // a batch
      { query: '{ hello }', extensions: {} }, // extensions (persisted queries)
      { query: 42 },
      { query: '{ hello }', operationName: 7 },
      { query: '{ hello }', variables: '{}' },
      { query: '{ hello }', variables: [] },
      { query: '{ nope }' }, // does not validate
      { query: '{ hello' }, // does not parse
      { query: 'query A { hello } query B { hello }' }, // no operation name
      { query: 'query A { hello }', operationName: 'B' }, // unknown operation name
      { query: 'subscription { tick }' },
      { query: '{ deep { n } }' }, // over the depth limit
      { query: 'query D($n: Int!) { double(n: $n) }', variables: { n: 'x' } }, // variables do not coerce
    ];
    for (const body of refused) await send(body);
    expect(await send({ query: '{ hello }' }, {}, 'GET')).to.include({ status: 299 });
    // A body of a type a page of another origin can send without a preflight goes to Apollo's CSRF check.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      expect(await send({ query: '{ hello }' }, { 'content-type': type })).to.include({ status: 299 });
    }
    expect(await send({ query: '{ hello }' }, { 'content-type': 'Application/JSON; charset=utf-8' })).to.include({ status: 200 });
    expect(posted.counts).to.deep.equal({ answered: 1, handedOver: refused.length + 5 });
    expect(handedOver.map((h) => h.body)).to.deep.equal([...refused, ...Array<unknown>(5).fill({ query: '{ hello }' })]);
    // The context built for a request whose variables did not coerce is handed over with it.
    expect(handedOver[12].context?.requestId).to.equal('req-1');
  });

  it('hands a context that cannot be built to Apollo as the same error, and stops answering once stopped', async () => {
    const failure = new Error('database down');
    const { posted, send, handedOver } = harness({ contextFails: failure });
    expect((await send({ query: '{ hello }' })).status).to.equal(299);
    expect(handedOver[0].contextError).to.equal(failure);
    const working = harness();
    working.posted.stop();
    expect((await working.send({ query: '{ hello }' })).status).to.equal(299);
    expect(posted.counts.answered + working.posted.counts.answered).to.equal(0);
  });

  it('counts the operations it answers in the metrics, by name, type and outcome', async () => {
    const { send, metrics } = harness();
    await send({ query: 'query Hi { hello }' }, { authorization: 'Bearer x' });
    await send({ query: 'query Broken { broken }' }, { authorization: 'Bearer x' });
    const text = await metrics.registry.metrics();
    expect(text).to.match(/streamspace_graphql_operations_total\{[^}]*operation_name="Hi",operation_type="query",outcome="success"\} 1/);
    expect(text).to.match(/streamspace_graphql_operations_total\{[^}]*operation_name="Broken",operation_type="query",outcome="error"\} 1/);
  });
});
