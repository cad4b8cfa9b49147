import { expect } from 'chai';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, type TestUser } from '../support/auth';

interface Raw {
  ws: WebSocket;
  messages: { id?: string; type: string; payload?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: object): void;
  next(type: string, id?: string): Promise<{ id?: string; type: string; payload?: unknown }>;
}

async function open(url: string): Promise<Raw> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const messages: Raw['messages'] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as Raw['messages'][number]);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    closed,
    send: (msg) => ws.send(JSON.stringify(msg)),
    async next(type, id) {
      for (;;) {
        const i = messages.findIndex((m) => m.type === type && (id === undefined || m.id === id));
        if (i >= 0) return messages.splice(i, 1)[0];
        await Promise.race([new Promise<void>((r) => waiters.push(r)), closed.then(() => Promise.reject(new Error(`closed while waiting for ${type}`)))]);
      }
    },
  };
}

async function connected(url: string, token?: string): Promise<Raw> {
  const raw = await open(url);
  raw.send({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} });
  await raw.next('connection_ack');
  return raw;
}

describe('graphql-ws abuse limits: payload size, anonymous and idle sockets, sockets and subscriptions per user', () => {
  let app: TestApp;
  let alice: TestUser;
  before(async () => {
    app = await startTestApp({
      STREAMSPACE_GRAPHQL_WS_MAX_PAYLOAD: '4096',
      STREAMSPACE_GRAPHQL_WS_ANONYMOUS_TIMEOUT: '1s',
      STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER: '2',
      STREAMSPACE_GRAPHQL_WS_MAX_SUBSCRIPTIONS_PER_USER: '2',
    });
    alice = await createUserAndToken(app, 'user');
  });
  after(async () => {
    await app?.stop();
  });

  it('closes a socket that sends a message above maxPayload (1009), not after buffering 100 MiB', async () => {
    const raw = await connected(app.wsUrl, alice.accessToken);
    raw.send({ id: '1', type: 'subscribe', payload: { query: `{ version { version } } # ${'x'.repeat(8192)}` } });
    expect((await raw.closed).code).to.equal(1009);
  });

  it('closes a socket that never sends connection_init (4408), and an anonymous one after its short lifetime (4401)', async () => {
    const silent = await open(app.wsUrl);
    expect((await silent.closed).code).to.equal(4408);
    const anonymous = await connected(app.wsUrl);
    const started = Date.now();
    const closed = await anonymous.closed;
    expect(closed).to.deep.equal({ code: 4401, reason: 'Authentication required' });
    expect(Date.now() - started).to.be.within(500, 5000);
  });

  it('refuses a user a third socket with a clear close reason (4429)', async () => {
    const a = await connected(app.wsUrl, alice.accessToken);
    const b = await connected(app.wsUrl, alice.accessToken);
    const c = await open(app.wsUrl);
    c.send({ type: 'connection_init', payload: { authorization: `Bearer ${alice.accessToken}` } });
    expect(await c.closed).to.deep.equal({ code: 4429, reason: 'Too many sockets: at most 2 per user' });
    a.ws.close();
    await a.closed;
    const d = await connected(app.wsUrl, alice.accessToken);
    b.ws.close();
    d.ws.close();
  });

  it('refuses a user a third subscription across sockets with LIMIT_EXCEEDED', async () => {
    const sub = { query: 'subscription Clock { serverTime(intervalSeconds: 1, count: 100) }' };
    const a = await connected(app.wsUrl, alice.accessToken);
    const b = await connected(app.wsUrl, alice.accessToken);
    try {
      a.send({ id: 's1', type: 'subscribe', payload: sub });
      b.send({ id: 's2', type: 'subscribe', payload: sub });
      await a.next('next', 's1');
      await b.next('next', 's2');
      b.send({ id: 's3', type: 'subscribe', payload: sub });
      const refused = (await b.next('error', 's3')).payload as { message: string; extensions: { code: string } }[];
      expect(refused[0].extensions.code).to.equal('LIMIT_EXCEEDED');
      expect(refused[0].message).to.equal('Too many subscriptions: at most 2 at once per user; end one first');
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });

  it('gives a subscription\'s slot back when the client completes it, and when the stream ends by itself', async () => {
    const sub = { query: 'subscription Clock { serverTime(intervalSeconds: 1, count: 100) }' };
    const short = { query: 'subscription Clock { serverTime(intervalSeconds: 1, count: 1) }' };
    const a = await connected(app.wsUrl, alice.accessToken);
    try {
      a.send({ id: 's1', type: 'subscribe', payload: sub });
      a.send({ id: 's2', type: 'subscribe', payload: short });
      await a.next('next', 's1');
      await a.next('next', 's2');
      // s2 ends by itself after its one tick (the server completes it); the client completes s1.
      await a.next('complete', 's2');
      a.send({ id: 's1', type: 'complete' });
      // Both slots are free again: two new subscriptions are accepted, a third is still refused.
      const accepted = async (name: string) => {
        for (let attempt = 0; attempt <= 20; attempt++) {
          const id = `${name}-${attempt}`;
          a.send({ id, type: 'subscribe', payload: sub });
          // Whichever comes first; the other waiter never matches a later id (each attempt has its own).
          const answer = await Promise.race([a.next('next', id).then(() => 'next'), a.next('error', id).then(() => 'error')].map((p) => p.catch(() => 'closed')));
          if (answer === 'next') return;
          // The slot comes back once the stream has ended on the server: a subscribe sent in that instant may still
          // find it taken; try again shortly (bounded).
          await new Promise((r) => setTimeout(r, 50));
        }
        expect.fail(`subscription ${name} was refused 21 times: the slot was not given back`);
      };
      await accepted('s3');
      await accepted('s4');
      a.send({ id: 's5', type: 'subscribe', payload: sub });
      const refused = (await a.next('error', 's5')).payload as { extensions: { code: string } }[];
      expect(refused[0].extensions.code).to.equal('LIMIT_EXCEEDED');
    } finally {
      a.ws.close();
    }
  });
});
