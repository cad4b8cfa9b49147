import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';

/**
 * GraphQL POSTs are answered without Apollo's request pipeline when they are a plain operation (http-operations.ts,
 * decision 0033); a body with `extensions` always goes to Apollo. Each request below is sent both ways, the plain one
 * twice (a document's first execution is interpreted, the next ones run compiled), and the answers must be the same
 * bytes (status, content type, body; request ids aside, they differ per request).
 */
describe('GraphQL over HTTP: the answers without Apollo are byte for byte Apollo’s (real server, real PostgreSQL)', () => {
  let app: TestApp;
  let admin: Record<string, string>;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_GRAPHQL_MAX_DEPTH: '6', STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: '200' });
    admin = (await signInAsAdmin(app)).headers;
  });
  after(async () => {
    await app?.stop();
  });

  interface Case {
    name: string;
    body: Record<string, unknown>;
    headers?: Record<string, string>;
    /** The status both must answer (a check that the case tests what it says). */
    status: number;
  }

  const post = async (body: Record<string, unknown>, headers: Record<string, string>) => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      length: res.headers.get('content-length'),
      body: text.replace(/request id [\w-]+/g, 'request id <id>').replace(/"requestId":"[\w-]+"/g, '"requestId":"<id>"'),
    };
  };

  it('answers queries, mutations, their errors and every Accept header the same as Apollo', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const cases: Case[] = [
      { name: 'anonymous query', body: { query: 'query Version { version { version commit } }' }, status: 200 },
      { name: 'authenticated query', body: { query: 'query Me { me { username role } }' }, headers: admin, status: 200 },
      { name: 'anonymous caller refused', body: { query: 'query Me { me { username } }' }, status: 200 },
      { name: 'not found, with variables', body: { query: 'query S($id: ID!) { session(id: $id) { id } }', variables: { id: missing } }, headers: admin, status: 200 },
      { name: 'mutation refused', body: { query: 'mutation Beat($c: ID!) { heartbeat(connectionId: $c) }', variables: { c: missing } }, headers: admin, status: 200 },
      { name: 'introspection', body: { query: 'query Types { __schema { queryType { name } types { name kind fields { name type { name kind } } } } }' }, status: 200 },
      { name: 'introspection over the limits', body: { query: 'query Deep { __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }' }, status: 400 },
      { name: 'a page', body: { query: 'query Page { sessions(first: 5) { totalCount edges { node { id } } } }' }, headers: admin, status: 200 },
      {
        name: 'two operations, one named',
        body: { query: 'query A { version { version } } query B { me { username } }', operationName: 'B', variables: null },
        headers: admin,
        status: 200,
      },
      { name: 'graphql-response+json', body: { query: '{ version { version } }' }, headers: { accept: 'application/graphql-response+json,application/json;q=0.9' }, status: 200 },
      { name: 'any type', body: { query: '{ version { version } }' }, headers: { accept: '*/*' }, status: 200 },
      { name: 'html only', body: { query: '{ version { version } }' }, headers: { accept: 'text/html' }, status: 406 },
      { name: 'variables that do not coerce', body: { query: 'query P($n: Int) { sessions(first: $n) { totalCount } }', variables: { n: 'ten' } }, headers: admin, status: 400 },
      { name: 'unknown operation name', body: { query: 'query A { version { version } }', operationName: 'Z' }, status: 400 },
      { name: 'no operation name for two', body: { query: 'query A { version { version } } query B { version { version } }' }, status: 400 },
      { name: 'does not validate', body: { query: '{ versio { version } }' }, status: 400 },
      { name: 'does not parse', body: { query: '{ version { version }' }, status: 400 },
      { name: 'too deep', body: { query: '{ me { sessions { edges { node { template { sessions { totalCount } } } } } } }' }, headers: admin, status: 400 },
      { name: 'expired or forged token', body: { query: '{ version { version } }' }, headers: { authorization: 'Bearer not-a-token' }, status: 401 },
    ];
    for (const { name, body, headers = {}, status } of cases) {
      const plain = await post(body, headers);
      const again = await post(body, headers);
      const viaApollo = await post({ ...body, extensions: {} }, headers);
      expect(again, name).to.deep.equal(plain);
      expect(viaApollo, name).to.deep.equal(plain);
      expect(plain.status, name).to.equal(status);
    }
  });
});
