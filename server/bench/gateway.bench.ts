/**
 * Session gateway benchmark: the same loopback upstream reached directly and through the gateway, in
 * one run. Prints, never asserts.
 *
 *  http     requests/s and p50/p99 latency, keep-alive, at concurrency 1 and BENCH_CONCURRENCY (16); besides direct
 *           and the gateway, "bare lib" is http-proxy-3 alone in the same thread (no checks), so the gateway's own
 *           cost and the library's show apart
 *  ws       WebSocket stream MB/s (upstream -> client, 64 KB binary frames, like a VNC framebuffer stream)
 *  idle     memory per idle proxied WebSocket with BENCH_IDLE_SOCKETS (1,000) open: the gateway thread's JS heap +
 *           external memory, and the whole process's RSS minus the same number of direct sockets
 *
 * Threads: the gateway runs in the main thread (with its real access check on a real PostgreSQL), the upstream
 * and the load generator each in a worker thread, so the generator does not steal the gateway's event loop
 * (the machine has 2 cores: all three still share them).
 * Goals: >= 0.7x direct req/s, <= +2 ms p50, >= 0.8x direct WS MB/s, <= 50 KB per idle socket.
 * Run: npm run bench, or node --expose-gc -r @swc-node/register bench/gateway.bench.ts
 */
import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WS_MB = Number(process.env.BENCH_WS_MB ?? 256);
const IDLE = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
const FRAME = 64 * 1024;

type Msg = { id: number; [k: string]: unknown };

// ---- upstream worker -------------------------------------------------------------------------

function upstreamMain() {
  const body = Buffer.alloc(1024, 'a');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const frame = Buffer.alloc(FRAME, 7);
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const m = /^stream (\d+)$/.exec(data.toString());
      if (!m) return;
      let left = Number(m[1]);
      const pump = () => {
        while (left > 0) {
          left -= FRAME;
          ws.send(frame, { binary: true });
          if (ws.bufferedAmount > 4 * 1024 * 1024) return void setImmediate(pump);
        }
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (server.address() as { port: number }).port }));
}

// ---- load generator worker -------------------------------------------------------------------

interface Target {
  port: number;
  host: string;
  cookie?: string;
}

function headersFor(t: Target): Record<string, string> {
  return { host: t.host, ...(t.cookie ? { cookie: t.cookie } : {}) };
}

async function httpLoad(t: Target, concurrency: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = http.request({ host: '127.0.0.1', port: t.port, path: '/', agent, headers: headersFor(t) }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  // Warm-up: connections and caches.
  for (let i = 0; i < 200; i++) await one();
  latencies.length = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), n: latencies.length };
}

function openSocket(t: Target): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/websockify`, { headers: headersFor(t), perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_r, res) => reject(new Error(`upgrade status ${res.statusCode}`)));
  });
}

async function wsStream(t: Target, mb: number) {
  const ws = await openSocket(t);
  const total = mb * 1024 * 1024;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    ws.on('message', (d: Buffer) => {
      got += d.length;
      if (got >= total) resolve();
    });
    ws.send(`stream ${total}`);
  });
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  return { mbps: mb / seconds };
}

const idle: WebSocket[] = [];

function generatorMain() {
  parentPort!.on('message', (msg: Msg) => {
    const reply = (r: Record<string, unknown>) => parentPort!.postMessage({ id: msg.id, ...r });
    const t = msg.target as Target;
    const run = async () => {
      switch (msg.op) {
        case 'http':
          return httpLoad(t, msg.concurrency as number, msg.seconds as number);
        case 'ws':
          return wsStream(t, msg.mb as number);
        case 'open':
          for (let i = 0; i < (msg.n as number); i++) idle.push(await openSocket(t));
          return { open: idle.length };
        case 'close':
          for (const ws of idle.splice(0)) ws.terminate();
          return { open: 0 };
        default:
          throw new Error(`unknown op ${String(msg.op)}`);
      }
    };
    run().then(reply, (err: Error) => reply({ error: err.message }));
  });
}

// ---- main: the gateway -----------------------------------------------------------------------

function call(worker: Worker, msg: Record<string, unknown>): Promise<Record<string, number>> {
  const id = Math.random();
  return new Promise((resolve, reject) => {
    const onMessage = (r: Msg) => {
      if (r.id !== id) return;
      worker.off('message', onMessage);
      if (r.error) reject(new Error(r.error as string));
      else resolve(r as unknown as Record<string, number>);
    };
    worker.on('message', onMessage);
    worker.postMessage({ ...msg, id });
  });
}

function gc() {
  (globalThis as { gc?: () => void }).gc?.();
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
}

function jsMemory() {
  const m = process.memoryUsage();
  return { js: m.heapUsed + m.external, rss: m.rss };
}

async function main() {
  const { startPostgres } = await import('../src/platform/database/postgres-server');
  const { createDataSource } = await import('../src/platform/database/data-source');
  const { createAppPubSub } = await import('../src/platform/graphql/pubsub');
  const { createLogger } = await import('../src/platform/logging/logger');
  const { startGateway } = await import('../src/modules/gateway/gateway.module');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-gateway-bench-'));
  const pg = await startPostgres({ dir, persistent: false });
  const ds = createDataSource({ url: pg.url });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const userId = randomUUID();
  const sessionId = randomUUID();
  await ds.query(`INSERT INTO users (id, username) VALUES ($1, 'bench')`, [userId]);
  await ds.query(`INSERT INTO sessions (id, name, namespace, user_id, username, template, state, phase) VALUES ($1, 'bench-s', 'bench', $2, 'bench', 'notes', 'running', 'Running')`, [sessionId, userId]);
  const [{ id: connectionId }] = (await ds.query(`INSERT INTO connections (session_id, user_id) VALUES ($1, $2) RETURNING id`, [sessionId, userId])) as { id: string }[];

  const upstream = new Worker(__filename, { workerData: { role: 'upstream' } });
  const upstreamPort = await new Promise<number>((resolve) => upstream.once('message', (m: { port: number }) => resolve(m.port)));
  const generator = new Worker(__filename, { workerData: { role: 'generator' } });

  const gateway = await startGateway({
    config: { mode: 'host', port: 0, appsDomain: undefined, appsScheme: 'http', ticketTtlMs: 30_000, recheckIntervalMs: 15_000, activityIntervalMs: 5000 },
    host: '127.0.0.1',
    dataSource: ds,
    pubSub: createAppPubSub(),
    logger: createLogger('warn'),
    kubeConfig: null,
    heartbeat: async () => true,
    upstreamFor: async () => ({ host: '127.0.0.1', port: upstreamPort }),
  });
  const gwPort = (gateway.server.address() as { port: number }).port;
  const ticket = new URL(await gateway.issueTicket({ sessionId, userId, connectionId }));
  const cookie = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: gwPort, path: ticket.pathname + ticket.search, headers: { host: ticket.host } }, (res) => {
        res.resume();
        const c = res.headers['set-cookie']?.[0]?.split(';')[0];
        if (res.statusCode === 303 && c) resolve(c);
        else reject(new Error(`redeem answered ${res.statusCode}`));
      })
      .on('error', reject);
  });
  // The library alone (no access check, no header work), in the same thread: what the gateway's own work costs.
  const { createProxyServer } = await import('http-proxy-3');
  const bareProxy = createProxyServer({});
  const bareAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const bare = http.createServer((req, res) => bareProxy.web(req, res, { target: { host: '127.0.0.1', port: upstreamPort, protocol: 'http:' }, agent: bareAgent }));
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareTarget: Target = { port: (bare.address() as { port: number }).port, host: 'bare' };
  const direct: Target = { port: upstreamPort, host: `127.0.0.1:${upstreamPort}` };
  const viaGateway: Target = { port: gwPort, host: ticket.host, cookie };

  const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
  console.log(`gateway bench: node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}; http ${SECONDS}s per run`);
  console.log('  http             |      req/s |   p50 ms |   p99 ms');
  const httpRows: Record<string, { rps: number; p50: number; p99: number }> = {};
  for (const c of [1, CONCURRENCY]) {
    for (const [name, t] of [
      ['direct', direct],
      ['bare lib', bareTarget],
      ['gateway', viaGateway],
    ] as const) {
      const r = await call(generator, { op: 'http', target: t, concurrency: c, seconds: SECONDS });
      httpRows[`${name}-${c}`] = { rps: r.rps, p50: r.p50, p99: r.p99 };
      console.log(`  ${`${name} c=${c}`.padEnd(16)} | ${fmt(r.rps, 0)}  | ${fmt(r.p50, 3)}| ${fmt(r.p99, 3)}`);
    }
  }
  const ws: Record<string, number> = {};
  for (const [name, t] of [
    ['direct', direct],
    ['gateway', viaGateway],
  ] as const) {
    ws[name] = (await call(generator, { op: 'ws', target: t, mb: WS_MB })).mbps;
    console.log(`  ws stream ${name.padEnd(8)}: ${fmt(ws[name])} MB/s (${WS_MB} MB, 64 KB frames)`);
  }

  await settle();
  const base = jsMemory();
  await call(generator, { op: 'open', target: direct, n: IDLE });
  await settle();
  const withDirect = jsMemory();
  await call(generator, { op: 'close', target: direct });
  await settle();
  const base2 = jsMemory();
  await call(generator, { op: 'open', target: viaGateway, n: IDLE });
  await settle();
  const withGateway = jsMemory();
  const open = gateway.service.openSockets;
  await call(generator, { op: 'close', target: viaGateway });
  const jsPerSocket = (withGateway.js - base2.js) / IDLE / 1024;
  const rssPerSocket = (withGateway.rss - base2.rss - (withDirect.rss - base.rss)) / IDLE / 1024;
  console.log(`  idle sockets: ${IDLE} open through the gateway (${open} registered)`);
  console.log(`    gateway thread JS heap + external: ${jsPerSocket.toFixed(1)} KB per socket`);
  console.log(`    process RSS, gateway minus direct:  ${rssPerSocket.toFixed(1)} KB per socket (both sides of the proxy; noisy)`);

  const c1 = (k: string) => httpRows[k];
  const ratio = c1(`gateway-${CONCURRENCY}`).rps / c1(`direct-${CONCURRENCY}`).rps;
  const p50Delta = c1('gateway-1').p50 - c1('direct-1').p50;
  const wsRatio = ws.gateway / ws.direct;
  console.log('  goals (printed, not asserted):');
  console.log(`    req/s gateway/direct at c=${CONCURRENCY}: ${ratio.toFixed(2)}x (goal >= 0.7x) ${ratio >= 0.7 ? 'met' : 'NOT met'}`);
  console.log(`    p50 added at c=1: ${p50Delta.toFixed(3)} ms (goal <= 2 ms) ${p50Delta <= 2 ? 'met' : 'NOT met'}`);
  console.log(`    WS MB/s gateway/direct: ${wsRatio.toFixed(2)}x (goal >= 0.8x) ${wsRatio >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`    memory per idle socket: ${Math.max(jsPerSocket, rssPerSocket).toFixed(1)} KB (goal <= 50 KB) ${Math.max(jsPerSocket, rssPerSocket) <= 50 ? 'met' : 'NOT met'}`);

  bareAgent.destroy();
  bare.closeAllConnections();
  bare.close();
  await gateway.stop();
  await generator.terminate();
  await upstream.terminate();
  await ds.destroy();
  await pg.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else if ((workerData as { role: string }).role === 'upstream') {
  upstreamMain();
} else {
  generatorMain();
}
