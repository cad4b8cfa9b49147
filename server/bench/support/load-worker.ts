/**
 * A load generator in a worker thread (its own event loop; on 2 cores it still shares the CPUs with the server),
 * so a bench's server keeps the main thread. Loopback only; every loop is bounded by a count.
 *
 *   const load = startLoadWorker();
 *   const r = await load.call({ op: 'gql', url, token, bodies, concurrency: 8, total: 500 });
 *
 * Ops:
 *  gql        GraphQL POSTs (bodies used round-robin), closed loop; fails on any GraphQL error; latencies in ms
 *  pg         one SQL statement (params round-robin) on a pool of `concurrency` connections, closed loop
 *  subscribe  opens `sockets` graphql-ws sockets with `perSocket` subscriptions each (graphql-transport-ws spoken
 *             directly, as bench/heartbeat.bench.ts does); every `next` is recorded with its arrival time (Date.now())
 *             and the value at `path` in its data
 *  arrivals   the arrival times recorded since the last call, grouped by that value
 *  unsubscribe closes the sockets
 *  tid        the worker thread's id (for cpuDuring's CPU parts)
 */
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Pool } from 'pg';
import WebSocket from 'ws';
import { RawHttpClient, requestBytes } from './raw-http';

export type LoadOp =
  | { op: 'gql'; url: string; token: string; bodies: string[]; concurrency: number; total: number }
  | { op: 'pg'; url: string; sql: string; params: unknown[][]; concurrency: number; total: number }
  | { op: 'subscribe'; url: string; token: string; sockets: number; perSocket: number; query: string; variables: Record<string, unknown>; path: string[] }
  | { op: 'arrivals' }
  | { op: 'unsubscribe' }
  | { op: 'tid' };

export interface LoopResult {
  seconds: number;
  latencies: number[];
}

export interface LoadWorker {
  call<T = LoopResult>(op: LoadOp): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The process's flags a worker may take: its preloads (-r/--require and their modules). V8 flags (--expose-gc,
 * --trace-gc, --max-semi-space-size, ...) are the process's and a worker refuses them at start.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '-r' || argv[i] === '--require') && i + 1 < argv.length) kept.push(argv[i], argv[++i]);
    else if (argv[i].startsWith('--require=')) kept.push(argv[i]);
  }
  return kept;
}

export function startLoadWorker(): LoadWorker {
  const worker = new Worker(__filename, { workerData: { role: 'bench-load' }, execArgv: workerExecArgv(process.execArgv) });
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  return {
    call<T>(op: LoadOp) {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, op });
      });
    },
    async stop() {
      await worker.terminate();
    },
  };
}

async function closedLoop(total: number, concurrency: number, one: (i: number) => Promise<void>): Promise<LoopResult> {
  const latencies = new Array<number>(total);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const a = performance.now();
        await one(i);
        latencies[i] = performance.now() - a;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

const sockets: WebSocket[] = [];
let arrivals = new Map<string, number[]>();

function subscribe(op: Extract<LoadOp, { op: 'subscribe' }>): Promise<{ open: number }> {
  const one = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(op.url, 'graphql-transport-ws', { perMessageDeflate: false });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${op.token}` } })));
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`socket closed: ${code} ${String(reason)}`)));
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string; payload?: { data?: unknown; errors?: unknown } | unknown[] };
        if (msg.type === 'connection_ack') {
          for (let k = 0; k < op.perSocket; k++) ws.send(JSON.stringify({ id: String(k), type: 'subscribe', payload: { query: op.query, variables: op.variables } }));
          resolve(ws);
        } else if (msg.type === 'ping') ws.send('{"type":"pong"}');
        else if (msg.type === 'next') {
          let v: unknown = (msg.payload as { data?: unknown }).data;
          for (const key of op.path) v = (v as Record<string, unknown> | undefined)?.[key];
          const k = String(v);
          let list = arrivals.get(k);
          if (!list) arrivals.set(k, (list = []));
          list.push(Date.now());
        } else if (msg.type === 'error') reject(new Error(`subscription refused: ${JSON.stringify(msg.payload)}`));
      });
    });
  return (async () => {
    // A few at a time: the server authenticates each socket.
    for (let i = 0; i < op.sockets; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, op.sockets - i) }, one))));
    return { open: sockets.length };
  })();
}

async function handle(op: LoadOp): Promise<unknown> {
  switch (op.op) {
    case 'gql': {
      // The lean raw-socket client (support/raw-http.ts), like the heartbeat bench's: fetch would cost this thread a
      // server-sized share of the two cores. The answer is still parsed, as the pg baseline's rows are.
      const url = new URL(op.url);
      const client = new RawHttpClient(Number(url.port), op.concurrency, url.hostname);
      const requests = op.bodies.map((b) => requestBytes('POST', url.pathname, url.host, { 'Content-Type': 'application/json', Authorization: `Bearer ${op.token}` }, b));
      const one = async (i: number) => {
        const res = await client.request(requests[i % requests.length]);
        const body = JSON.parse(res.body.toString()) as { errors?: unknown[] };
        if (res.status !== 200 || body.errors) throw new Error(`HTTP ${res.status}, GraphQL errors: ${JSON.stringify(body.errors).slice(0, 300)}`);
      };
      try {
        await one(0); // warm-up (connection, parsed document)
        return await closedLoop(op.total, op.concurrency, one);
      } finally {
        client.close();
      }
    }
    case 'pg': {
      const pool = new Pool({ connectionString: op.url, max: op.concurrency });
      try {
        await pool.query(op.sql, op.params[0]);
        return await closedLoop(op.total, op.concurrency, async (i) => void (await pool.query(op.sql, op.params[i % op.params.length])));
      } finally {
        await pool.end();
      }
    }
    case 'subscribe':
      return subscribe(op);
    case 'arrivals': {
      const out = Object.fromEntries(arrivals);
      arrivals = new Map();
      return out;
    }
    case 'unsubscribe':
      for (const ws of sockets.splice(0)) {
        ws.removeAllListeners('close');
        ws.terminate();
      }
      return { open: 0 };
    case 'tid': {
      // Synchronous fs runs on the calling thread: /proc/thread-self is this worker's own task.
      const stat = readFileSync('/proc/thread-self/stat', 'utf8');
      return Number(stat.slice(0, stat.indexOf(' ')));
    }
  }
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === 'bench-load') {
  parentPort!.on('message', (m: { id: number; op: LoadOp }) => {
    handle(m.op).then(
      (result) => parentPort!.postMessage({ id: m.id, result }),
      (err: Error) => parentPort!.postMessage({ id: m.id, error: err.message }),
    );
  });
}
