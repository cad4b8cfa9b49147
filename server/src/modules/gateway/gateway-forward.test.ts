import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { clientResponseHeaders, createUpstreamPool, forwardHttp, forwardUpgrade, hostOnlyCookie, parseResponseHead, upgradeRequestHead, upstreamRequestHeaders, type ForwardedInfo } from './gateway-forward';

const FWD: ForwardedInfo = { for: '10.1.2.3', host: 'abc.apps.example.com', proto: 'https' };

/** Flat [name, value, ...] as a map of lower-case name -> values. */
function asMap(flat: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < flat.length; i += 2) (out[flat[i].toLowerCase()] ??= []).push(flat[i + 1]);
  return out;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('gateway forwarding: request headers for the app', () => {
  it('drops hop-by-hop headers, those the Connection header names, credentials and forgeable forwarding headers', () => {
    const raw = [
      'Host', 'abc.apps.example.com',
      'Connection', 'keep-alive, X-Secret-Hop',
      'Keep-Alive', 'timeout=5',
      'X-Secret-Hop', 'must not pass',
      'TE', 'trailers',
      'Proxy-Authorization', 'Basic eA==',
      'Authorization', 'Bearer platform-token',
      'Forwarded', 'for=6.6.6.6',
      'X-Forwarded-For', '6.6.6.6',
      'X-Forwarded-Host', 'evil.example',
      'X-Real-IP', '6.6.6.6',
      'Expect', '100-continue',
      'Cookie', 'streamspace_gateway=secret; app=1',
      'Accept', 'text/html',
    ];
    const out = asMap(upstreamRequestHeaders(raw, 'app=1', FWD, false));
    expect(Object.keys(out).sort()).to.deep.equal(['accept', 'cookie', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto']);
    expect(out.host).to.deep.equal(['abc.apps.example.com']);
    expect(out.cookie).to.deep.equal(['app=1']);
    expect(out['x-forwarded-for']).to.deep.equal(['10.1.2.3']);
    expect(out['x-forwarded-host']).to.deep.equal(['abc.apps.example.com']);
    expect(out['x-forwarded-port']).to.deep.equal(['443']);
    expect(out['x-forwarded-proto']).to.deep.equal(['https']);
  });

  it('sends no Cookie and no Transfer-Encoding (the client side frames the body again), and keeps the port of the Host', () => {
    const out = asMap(upstreamRequestHeaders(['Host', 'abc.apps.localhost:8081', 'Transfer-Encoding', 'chunked', 'Cookie', 'streamspace_gateway=x'], undefined, { ...FWD, host: 'abc.apps.localhost:8081', proto: 'http' }, false));
    expect(out.cookie).to.equal(undefined);
    expect(out['transfer-encoding']).to.equal(undefined);
    expect(out['x-forwarded-port']).to.deep.equal(['8081']);
    expect(out['x-forwarded-proto']).to.deep.equal(['http']);
  });

  it('keeps the WebSocket handshake of an upgrade with Connection: Upgrade and the client\'s Upgrade', () => {
    const raw = ['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13', 'Sec-WebSocket-Protocol', 'binary'];
    const out = asMap(upstreamRequestHeaders(raw, undefined, FWD, true));
    expect(out.connection).to.deep.equal(['Upgrade']);
    expect(out.upgrade).to.deep.equal(['websocket']);
    expect(out['sec-websocket-key']).to.deep.equal(['k']);
    expect(out['sec-websocket-protocol']).to.deep.equal(['binary']);
    // A plain request never carries an Upgrade to the app.
    expect(asMap(upstreamRequestHeaders(raw, undefined, FWD, false)).upgrade).to.equal(undefined);
  });
});

describe('gateway forwarding: response headers for the client', () => {
  it('drops hop-by-hop headers and those the app\'s Connection names; every Set-Cookie becomes host-only', () => {
    const raw = [
      'Content-Type', 'text/plain',
      'Connection', 'keep-alive, X-Internal',
      'Keep-Alive', 'timeout=5',
      'X-Internal', 'hop',
      'Transfer-Encoding', 'chunked',
      'Set-Cookie', 'wide=1; Domain=apps.example.com; Path=/',
      'Set-Cookie', 'own=2; Path=/; domain =.example.com; HttpOnly',
      'Set-Cookie', 'plain=3; Path=/',
    ];
    const out = asMap(clientResponseHeaders(raw));
    expect(Object.keys(out).sort()).to.deep.equal(['content-type', 'set-cookie']);
    expect(out['set-cookie']).to.deep.equal(['wide=1; Path=/', 'own=2; Path=/; HttpOnly', 'plain=3; Path=/']);
  });

  it('keeps Connection and Upgrade of a 101', () => {
    const out = asMap(clientResponseHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'a'], true));
    expect(out).to.deep.equal({ connection: ['Upgrade'], upgrade: ['websocket'], 'sec-websocket-accept': ['a'] });
  });

  it('leaves cookies without a Domain untouched', () => {
    expect(hostOnlyCookie('a=domain=b; Path=/')).to.equal('a=domain=b; Path=/');
  });
});

describe('gateway forwarding: the upgrade handshake with the app', () => {
  it('serialises the upgrade request and refuses what would split it (CR/LF in a value, a bad path)', () => {
    expect(upgradeRequestHead('/websockify?x=1', ['Host', 'h', 'Upgrade', 'websocket'])).to.equal('GET /websockify?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n');
    expect(() => upgradeRequestHead('/', ['X-A', 'v\r\nX-Injected: 1'])).to.throw();
    expect(() => upgradeRequestHead('/a b', [])).to.throw();
    expect(() => upgradeRequestHead('http://other/', [])).to.throw();
  });

  it('parses the app\'s response head however it is split, and refuses garbage and endless heads', () => {
    const bytes = Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n'), Buffer.from([0x82, 0x01, 0x78])]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const head = parseResponseHead(bytes.subarray(0, cut));
      if (cut < bytes.length - 3) expect(head, `cut at ${cut}`).to.equal(null);
    }
    expect(parseResponseHead(bytes)).to.deep.equal({
      status: 101,
      message: 'Switching Protocols',
      rawHeaders: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'abc='],
      length: bytes.length - 3,
    });
    expect(() => parseResponseHead(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).to.throw();
    expect(() => parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nno colon\r\n\r\n'))).to.throw();
    expect(() => parseResponseHead(Buffer.alloc(70 * 1024, 'a'))).to.throw();
  });
});

describe('gateway forwarding over loopback', () => {
  let app: http.Server;
  let appPort: number;
  let proxy: http.Server;
  let proxyPort: number;
  let agent: ReturnType<typeof createUpstreamPool>;
  const failures: Error[] = [];
  const appSockets = new Set<Socket>();
  let lastRequestClosed: Promise<void> = Promise.resolve();
  let wss: WebSocketServer;

  before(async () => {
    app = http.createServer((req, res) => {
      lastRequestClosed = new Promise((resolve) => res.once('close', () => resolve()));
      if (req.url === '/echo-body') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ body: Buffer.concat(chunks).toString(), headers: req.headers }));
        });
        return;
      }
      if (req.url === '/first-chunk') {
        // Answers with the first piece of the body while the client is still sending: only a streamed body gets here.
        req.once('data', (c: Buffer) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`got ${c.toString()}`);
          req.resume();
        });
        return;
      }
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first\n'); // and nothing more until the client goes away
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'w=1; Domain=apps.localhost' });
      res.end('hello');
    });
    app.on('connection', (s: Socket) => {
      appSockets.add(s);
      s.once('close', () => appSockets.delete(s));
    });
    wss = new WebSocketServer({ noServer: true });
    app.on('upgrade', (req, socket, head) => {
      if (req.url === '/refuse') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\nConnection: close\r\n\r\nno such');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (req.url === '/greet') ws.send('greeting right after the handshake');
        ws.on('message', (d, binary) => ws.send(d, { binary }));
      });
    });
    appPort = await listen(app);
    agent = createUpstreamPool();
    proxy = http.createServer((req, res) => {
      const headers = upstreamRequestHeaders(req.rawHeaders, undefined, { for: '127.0.0.1', host: req.headers.host ?? '', proto: 'http' }, false);
      const target = req.url === '/down' ? { host: '127.0.0.1', port: 1 } : { host: '127.0.0.1', port: appPort };
      forwardHttp(req, res, target, req.url ?? '/', headers, agent, {
        failed(err) {
          failures.push(err);
          res.writeHead(502).end('bad gateway');
        },
      });
    });
    proxy.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const headers = upstreamRequestHeaders(req.rawHeaders, undefined, { for: '127.0.0.1', host: req.headers.host ?? '', proto: 'http' }, true);
      const target = req.url === '/down' ? { host: '127.0.0.1', port: 1 } : { host: '127.0.0.1', port: appPort };
      forwardUpgrade(req, socket, head, target, req.url ?? '/', headers, {
        failed: (err) => {
          failures.push(err);
          socket.destroy();
        },
        opened: (_up, closeBoth) => {
          if (req.url === '/closed-by-gateway') setTimeout(closeBoth, 50);
        },
      });
    });
    proxyPort = await listen(proxy);
  });

  after(async () => {
    await agent.destroy();
    await close(proxy);
    await close(app);
  });

  function send(path: string, method = 'GET', body?: string[], extra: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path, method, headers: { host: 'abc.apps.localhost', ...extra }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      for (const part of body ?? []) req.write(part);
      req.end();
    });
  }

  it('streams a chunked request body to the app and reuses one upstream connection for consecutive requests', async () => {
    const first = await send('/echo-body', 'POST', ['part one, ', 'part two'], { 'transfer-encoding': 'chunked' });
    const seen = JSON.parse(first.body) as { body: string; headers: Record<string, string> };
    expect(seen.body).to.equal('part one, part two');
    // Framed again by the gateway: chunked while the length is unknown, or its length once all of it has arrived.
    expect(seen.headers['transfer-encoding'] === 'chunked' || seen.headers['content-length'] === '18', JSON.stringify(seen.headers)).to.equal(true);
    expect(seen.headers['x-forwarded-host']).to.equal('abc.apps.localhost');
    const socketsBefore = appSockets.size;
    for (let i = 0; i < 3; i++) expect((await send('/')).body).to.equal('hello');
    expect(appSockets.size).to.equal(socketsBefore);
  });

  it('streams a request body as it arrives (the app answers before the client has sent all of it)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path: '/first-chunk', method: 'POST', headers: { host: 'abc.apps.localhost', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          req.end('the rest, sent only after the answer');
          resolve(text);
        });
      });
      req.on('error', reject);
      req.write('the first piece');
    });
    expect(answer).to.equal('got the first piece');
  });

  it('answers the app\'s response with its cookies host-only', async () => {
    const res = await send('/');
    expect(res.status).to.equal(200);
    expect(res.headers['set-cookie']).to.deep.equal(['w=1']);
  });

  it('cancels the app\'s request when the client goes away mid-response', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path: '/slow', headers: { host: 'abc.apps.localhost' }, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    await lastRequestClosed; // would hang (test timeout) if the app's request stayed open
  });

  it('reports an app that cannot be reached (the caller answers 502)', async () => {
    const before = failures.length;
    const res = await send('/down');
    expect(res.status).to.equal(502);
    expect(failures.length).to.equal(before + 1);
  });

  it('pipes a WebSocket both ways after the app\'s 101, relays a refused upgrade, and closes both sides on demand', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`, { headers: { host: 'abc.apps.localhost' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    const big = Buffer.alloc(3 * 1024 * 1024, 5);
    ws.send(big);
    expect((await echoed).equals(big)).to.equal(true);
    ws.close();

    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = new WebSocket(`ws://127.0.0.1:${proxyPort}/refuse`, { headers: { host: 'abc.apps.localhost' } });
      r.once('open', () => reject(new Error('upgraded')));
      r.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
    });
    expect(refused).to.deep.equal({ status: 404, body: 'no such' });

    const cut = new WebSocket(`ws://127.0.0.1:${proxyPort}/closed-by-gateway`, { headers: { host: 'abc.apps.localhost' } });
    await new Promise((resolve, reject) => cut.once('open', resolve).once('error', reject));
    const code = await new Promise<number>((resolve) => cut.once('close', (c) => resolve(c)));
    expect(code).to.equal(1006); // torn down, not a WebSocket close handshake
  });

  it('relays what the app sends at once after its 101, and reports an app that cannot be reached', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/greet`, { headers: { host: 'abc.apps.localhost' } });
    const greeting = await new Promise<string>((resolve, reject) => ws.once('message', (d: Buffer) => resolve(d.toString())).once('error', reject));
    expect(greeting).to.equal('greeting right after the handshake');
    ws.close();
    const before = failures.length;
    const down = new WebSocket(`ws://127.0.0.1:${proxyPort}/down`, { headers: { host: 'abc.apps.localhost' } });
    await new Promise<void>((resolve) => down.once('error', () => resolve()));
    expect(failures.length).to.equal(before + 1);
  });

  it('a client\'s close handshake reaches the app, and the app\'s side of the relay closes too', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`, { headers: { host: 'abc.apps.localhost' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const appSide = [...wss.clients].at(-1)!;
    const appSaw = new Promise<number>((resolve) => appSide.once('close', (code) => resolve(code)));
    ws.close(4001, 'bye');
    expect(await appSaw).to.equal(4001);
  });

  it('keeps every byte in order when the client reads slower than the app sends (reading pauses, nothing is overwritten)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`, { headers: { host: 'abc.apps.localhost' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const raw = (ws as unknown as { _socket: Socket })._socket;
    // 24 MB in 1 MB messages of distinct bytes, echoed by the app; the client stops reading for a while.
    const parts = Array.from({ length: 24 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    const got: Buffer[] = [];
    const all = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        got.push(d);
        if (got.length === parts.length) resolve();
      }),
    );
    raw.pause();
    for (const p of parts) ws.send(p);
    await new Promise((r) => setTimeout(r, 300));
    raw.resume();
    await all;
    got.forEach((d, i) => expect(d.equals(parts[i]), `message ${i}`).to.equal(true));
    ws.close();
  });
});
