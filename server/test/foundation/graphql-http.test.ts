import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';

describe('GraphQL over HTTP (real server, real PostgreSQL)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_GRAPHQL_MAX_DEPTH: '6', STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: '50', STREAMSPACE_GRAPHQL_MAX_ALIASES: '100' });
  });
  after(async () => {
    await app?.stop();
  });

  it('answers Query.version with the package version and a commit', async () => {
    const { status, body } = await app.gql<{ version: { version: string; commit: string; buildDate: string } }>(
      'query Version { version { version commit buildDate } }',
    );
    expect(status).to.equal(200);
    expect(body.errors).to.equal(undefined);
    expect(body.data!.version.version).to.match(/^\d+\.\d+\.\d+/);
    expect(body.data!.version.commit).to.be.a('string').and.not.equal('');
  });

  it('writes each answer as its UTF-8 bytes with their length, as JSON, without an ETag (POST and GET)', async () => {
    // A variable that does not coerce is echoed in the error: the answer holds characters of 2, 3 and 4 bytes.
    const odd = 'é✓😀';
    const post = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Odd($n: Int!) { sessions(first: $n) { totalCount } }', variables: { n: odd } }),
    });
    const get = await fetch(`${app.url}/graphql?query=${encodeURIComponent('query Version { version { version } }')}`, { headers: { 'apollo-require-preflight': '1' } });
    for (const [res, status] of [[post, 400], [get, 200]] as const) {
      const text = await res.text();
      expect(res.status).to.equal(status);
      expect(res.headers.get('content-type')).to.match(/^application\/(graphql-response\+)?json; charset=utf-8$/);
      expect(res.headers.get('etag')).to.equal(null);
      expect(Number(res.headers.get('content-length'))).to.equal(Buffer.byteLength(text, 'utf8'));
      expect(() => JSON.parse(text) as unknown).not.to.throw();
      if (res === post) expect(text).to.include(odd);
    }
  });

  it('refuses a depth bomb with QUERY_TOO_COMPLEX and a clear message', async () => {
    const bomb = `query Bomb { __schema { types { fields { type ${'{ ofType '.repeat(20)}{ name }${' }'.repeat(20)} } } } }`;
    const res = await app.gql(bomb);
    expect(res.status).to.equal(400);
    expect(res.body.data).to.equal(undefined);
    expect(res.body.errors![0].extensions!.code).to.equal('QUERY_TOO_COMPLEX');
    expect(res.body.errors![0].message).to.match(/Query depth \d+ exceeds the maximum of 6/);
  });

  it('follows fragments when measuring depth', async () => {
    const ok = await app.gql('query Shallow { ...Q } fragment Q on Query { version { ...V } } fragment V on BuildInfo { version }');
    expect(ok.body.errors, 'depth 2 through fragments is allowed').to.equal(undefined);
    const deep = await app.gql(
      'query Deep { ...Q } fragment Q on Query { __type(name: "Query") { ...T } } fragment T on __Type { fields { type { ofType { ofType { ofType { name } } } } } }',
    );
    expect(deep.body.errors![0].extensions!.code).to.equal('QUERY_TOO_COMPLEX');
    expect(deep.body.errors![0].message).to.equal('Query depth 7 exceeds the maximum of 6');
  });

  it('refuses a document nested thousands of levels deep (inline fragments) before parsing it, as a parse error', async () => {
    const nested = `query { ${'... on Query { '.repeat(1900)}version { version }${' }'.repeat(1900)} }`;
    for (const res of [await app.gql(nested), await fetch(`${app.url}/graphql?query=${encodeURIComponent(nested.slice(0, 3000) + ' }'.repeat(200))}`, { headers: { 'apollo-require-preflight': '1' } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { errors?: { message: string; extensions?: { code?: string } }[] } }))]) {
      expect(res.status).to.equal(400);
      expect(res.body.errors![0].extensions!.code).to.equal('GRAPHQL_PARSE_FAILED');
      expect(res.body.errors![0].message).to.equal('Syntax Error: Document is nested more than 100 levels deep (braces, brackets and parentheses). Parsing aborted.');
    }
    const health = await app.gql('query Version { version { version } }');
    expect(health.body.errors).to.equal(undefined);
  });

  it('refuses queries beyond the complexity budget', async () => {
    const aliases = Array.from({ length: 60 }, (_, i) => `v${i}: version { version }`).join(' ');
    const res = await app.gql(`query Wide { ${aliases} }`);
    expect(res.status).to.equal(400);
    expect(res.body.errors![0].extensions!.code).to.equal('QUERY_TOO_COMPLEX');
    expect(res.body.errors![0].message).to.match(/Query complexity \d+ exceeds the maximum of 50/);
  });

  it('answers malformed requests with a client error, not a crash', async () => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).to.equal(400);
    const unknownField = await app.gql('{ nope }');
    expect(unknownField.status).to.equal(400);
    expect(unknownField.body.errors![0].extensions!.code).to.equal('GRAPHQL_VALIDATION_FAILED');
  });

  it('serves Prometheus metrics with HTTP and GraphQL counts by operation name', async () => {
    // An authenticated caller's name gets its own label (anonymous names are counted as `other`: metrics-bounds.test.ts).
    await app.gql('query MetricsProbe { version { version } }', undefined, (await signInAsAdmin(app)).headers);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.match(/process_cpu_user_seconds_total/);
    expect(text).to.match(/streamspace_graphql_operations_total\{operation_name="MetricsProbe",operation_type="query",outcome="success"\} 1/);
    expect(text).to.match(/streamspace_graphql_operation_duration_seconds_count\{operation_name="MetricsProbe",operation_type="query"\} 1/);
    expect(text).to.match(/streamspace_http_requests_total\{method="POST",route="\/graphql",status_code="200"\} \d+/);
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${app.url}/readyz`, { headers: (await signInAsAdmin(app)).headers });
    expect(ready.status).to.equal(200);
    const body = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
    expect(body.checks.find((c) => c.name === 'database')?.ok).to.equal(true);
  });

  it('stamps every log line of a request with its request id', async () => {
    const before = app.logs.length;
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-test-42' },
      body: JSON.stringify({ query: '{ nope }' }),
    });
    expect(res.headers.get('x-request-id')).to.equal('req-test-42');
    const lines = app.logs.slice(before).filter((l) => JSON.stringify(l).includes('req-test-42'));
    expect(lines.length).to.be.greaterThan(0);
    for (const line of lines) expect(line.reqId).to.equal('req-test-42');
  });

  it('a masked internal error names its request id, and the server logged its cause under that id', async () => {
    // A resolver bug: reading the build's commit throws something that is not a typed error.
    const info = app.services.buildInfo as unknown as Record<string, unknown>;
    const commit = info.commit;
    Object.defineProperty(info, 'commit', { configurable: true, get: () => { throw new TypeError('boom in a resolver'); } });
    try {
      const before = app.logs.length;
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-masked-7' },
        body: JSON.stringify({ query: '{ version { commit } }' }),
      });
      const body = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(body.errors[0].extensions).to.deep.equal({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-masked-7' });
      expect(body.errors[0].message).to.equal('Internal server error (request id req-masked-7)');
      expect(JSON.stringify(body)).not.to.contain('boom');
      const logged = app.logs.slice(before).filter((l) => Number(l.level) >= 50);
      expect(logged.map((l) => [l.reqId, l.msg])).to.deep.equal([['req-masked-7', 'unexpected error while resolving GraphQL request']]);
      expect(JSON.stringify(logged[0])).to.contain('boom in a resolver');
    } finally {
      Object.defineProperty(info, 'commit', { configurable: true, writable: true, value: commit });
    }
  });

  it('returns a JSON 404 for unknown routes', async () => {
    const res = await fetch(`${app.url}/nope`, { headers: { accept: 'application/json' } });
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { error: string }).error).to.equal('not_found');
  });
});

describe('GraphQL limits and introspection switches', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_GRAPHQL_INTROSPECTION: 'false', STREAMSPACE_GRAPHQL_IDE: 'false', STREAMSPACE_GRAPHQL_MAX_DEPTH: '2' });
  });
  after(async () => {
    await app?.stop();
  });

  it('refuses introspection when it is switched off', async () => {
    const res = await app.gql('{ __schema { queryType { name } } }');
    expect(res.body.errors![0].message).to.match(/introspection/i);
    expect(res.body.data).to.equal(undefined);
  });

  it('does not serve the IDE when it is switched off', async () => {
    const res = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).to.not.equal(200);
    expect(await res.text()).to.not.match(/graphiql/i);
  });
});
