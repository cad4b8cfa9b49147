import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app';

function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

describe('GraphQL subscriptions over graphql-ws (same port and path)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_GRAPHQL_MAX_DEPTH: '5' });
  });
  after(async () => {
    await app?.stop();
  });

  it('streams serverTime ticks and completes', async () => {
    const client = wsClient(app.wsUrl);
    const ticks: string[] = [];
    try {
      for await (const result of client.iterate<{ serverTime: string }>({ query: 'subscription Clock { serverTime(intervalSeconds: 1, count: 2) }' })) {
        expect(result.errors).to.equal(undefined);
        ticks.push(result.data!.serverTime);
      }
    } finally {
      await client.dispose();
    }
    expect(ticks).to.have.length(2);
    for (const t of ticks) expect(new Date(t).getTime()).to.be.closeTo(Date.now(), 10_000);
    expect(new Date(ticks[1]).getTime()).to.be.greaterThan(new Date(ticks[0]).getTime());
  });

  it('also answers queries over the socket', async () => {
    const client = wsClient(app.wsUrl);
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        client.subscribe({ query: '{ version { version } }' }, { next: resolve, error: reject, complete: () => undefined });
      });
      expect(result).to.have.nested.property('data.version.version').that.matches(/^\d+\.\d+\.\d+/);
    } finally {
      await client.dispose();
    }
  });

  it('rejects invalid arguments and too-deep operations with coded errors', async () => {
    const client = wsClient(app.wsUrl);
    const firstError = (query: string) =>
      new Promise<{ message: string; extensions?: { code?: string } }>((resolve, reject) => {
        client.subscribe(
          { query },
          {
            next: (r) => (r.errors ? resolve(r.errors[0] as never) : reject(new Error('expected an error'))),
            error: (errs) => resolve((errs as { message: string }[])[0]),
            complete: () => undefined,
          },
        );
      });
    try {
      const bad = await firstError('subscription { serverTime(intervalSeconds: 0, count: 1) }');
      expect(bad.message).to.equal('intervalSeconds must be between 1 and 60');
      expect(bad.extensions?.code).to.equal('BAD_USER_INPUT');

      const deep = await firstError(`subscription { serverTime(count: 1) } query { __schema { types { fields { type { ofType { name } } } } } }`);
      expect(deep.message).to.match(/operation|depth/i);
      // Thousands of nested inline fragments (no query depth): refused before the recursive parser, the socket stays up.
      const nested = await firstError(`query { ${'... on Query { '.repeat(1900)}version { version }${' }'.repeat(1900)} }`);
      expect(nested.extensions?.code).to.equal('GRAPHQL_PARSE_FAILED');
      expect(nested.message).to.match(/^Syntax Error: Document is nested more than 100 levels deep/);
      const deepOnly = await firstError('query Deep { __schema { types { fields { type { ofType { name } } } } } }');
      expect(deepOnly.extensions?.code).to.equal('QUERY_TOO_COMPLEX');
      expect(deepOnly.message).to.equal('Query depth 6 exceeds the maximum of 5');
    } finally {
      await client.dispose();
    }
  });
});
