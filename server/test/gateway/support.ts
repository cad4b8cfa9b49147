import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A real HTTP + WebSocket server on loopback standing in for a session pod (pods on kwok nodes run nothing).
 * GET /echo answers the request's headers as JSON; GET / answers APP_BODY; /stream streams chunks until closed;
 * a WebSocket greets with APP_GREETING and echoes every message.
 */
export const APP_BODY = 'hello from the session app';
export const APP_GREETING = 'RFB 003.008 (the session app)';

export interface Upstream {
  port: number;
  /** Every request the upstream saw (method, url, headers). */
  seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders }[];
  /** Every WebSocket message the upstream received, with the socket's path (tests tell clients apart by query). */
  received: { url: string; data: Buffer }[];
  /** Upstream-side WebSockets currently open. */
  openSockets(): number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const received: Upstream['received'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    if (req.url?.startsWith('/echo')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    }
    if (req.url === '/set-wide-cookie') {
      res.writeHead(200, { 'set-cookie': 'wide=1; Domain=apps.localhost; Path=/' });
      return void res.end('ok');
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      return; // stays open until the client or the gateway closes it
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(APP_BODY);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push({ method: 'WS', url: req.url, headers: req.headers });
    ws.send(APP_GREETING);
    ws.on('message', (data, isBinary) => {
      received.push({ url: req.url ?? '', data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer) });
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    received,
    openSockets: () => [...wss.clients].filter((c) => c.readyState === WebSocket.OPEN).length,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP request to 127.0.0.1:port with the given Host (Node does not resolve *.localhost by itself). */
export function request(port: number, host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface OpenWs {
  ws: WebSocket;
  messages: string[];
  /** Resolves with the time (Date.now()) the socket closed. */
  closed: Promise<number>;
}

/** A WebSocket through the gateway; rejects with the HTTP status when the upgrade is refused. */
export function openWs(port: number, host: string, path: string, headers: Record<string, string> = {}, protocols: string[] = []): Promise<OpenWs> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers: { host, ...headers } });
    const messages: string[] = [];
    let closedAt: (t: number) => void;
    const closed = new Promise<number>((r) => (closedAt = r));
    ws.on('message', (d) => messages.push(d.toString()));
    ws.on('close', () => closedAt(Date.now()));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => resolve({ ws, messages, closed }));
  });
}

/** The status of a refused upgrade (throws when the upgrade succeeded). */
export async function refusedUpgrade(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  try {
    const open = await openWs(port, host, path, headers);
    open.ws.terminate();
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status) return { status: e.status, body: e.body ?? '' };
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
