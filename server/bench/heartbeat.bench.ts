/**
 * Heartbeat benchmark (issue 6): how many heartbeats per second the server sustains, with p50/p99 latency and
 * the database statements (and transactions) per second they cost, beside a raw `pg` one-row UPDATE loop
 * measured in the same run on the same database.
 *
 * Tiers, all on loopback against a real PostgreSQL (embedded), each a bounded loop:
 *  1. raw pg: one UPDATE per heartbeat, sequential on one connection (the naive design's ceiling per connection);
 *  2. raw pg, 3 connections in parallel (same pool size as the batcher);
 *  3. HeartbeatBatcher (the service layer: group commit, one statement per batch);
 *  4. the real app over GraphQL on graphql-ws (auth once per socket; how the portal sends heartbeats);
 *  5. the real app over GraphQL on HTTP POST (bearer token checked per request).
 * The load generator runs in the same process as the server, so tiers 4-5 share the 2 cores with it.
 *
 * Target: >= 10,000 heartbeats/s with p99 < 50 ms. Run: npm run bench, or
 * node -r @swc-node/register bench/heartbeat.bench.ts (BENCH_HEARTBEATS=N to change the loop sizes).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { Client, Pool } from 'pg';
import WebSocket from 'ws';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/config';
import { HeartbeatBatcher } from '../src/modules/connections/heartbeat-batcher';
import { startPostgres } from '../src/platform/database/postgres-server';
import { createLogger } from '../src/platform/logging/logger';

const N = Number(process.env.BENCH_HEARTBEATS ?? 100_000);
const CONNECTIONS = 10_000;
/** Comma-separated tiers to run (raw,batcher,ws,http); all by default. */
const TIERS = new Set((process.env.BENCH_TIERS ?? 'raw,batcher,ws,ws-worker,http').split(','));

interface Result {
  name: string;
  heartbeats: number;
  seconds: number;
  p50: number;
  p99: number;
  statements: number;
  transactions: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function xacts(client: Client): Promise<number> {
  const r = await client.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(r.rows[0].n);
}

/**
 * Runs `total` calls of `one`. Closed loop (`concurrency` callers, each starting its next call when the last
 * finished) measures the ceiling; open loop (`rate` calls per second on a fixed schedule, as independent
 * clients send them) measures latency at a given load, timed from each call's scheduled start so a stalled
 * generator cannot hide queueing (no coordinated omission).
 */
type Load = { concurrency: number } | { rate: number };

async function runLoad(total: number, load: Load, one: (i: number) => Promise<unknown>): Promise<{ seconds: number; lat: Float64Array }> {
  const lat = new Float64Array(total);
  let next = 0;
  const t0 = process.hrtime.bigint();
  if ('concurrency' in load) {
    await Promise.all(
      Array.from({ length: load.concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= total) return;
          const a = process.hrtime.bigint();
          await one(i);
          lat[i] = Number(process.hrtime.bigint() - a) / 1e6;
        }
      }),
    );
  } else {
    const inFlight: Promise<unknown>[] = [];
    const t0ms = Number(t0) / 1e6;
    while (next < total) {
      const elapsed = Number(process.hrtime.bigint()) / 1e6 - t0ms;
      const due = Math.min(total, Math.floor((elapsed * load.rate) / 1000) + 1);
      for (; next < due; next++) {
        const i = next;
        const scheduled = t0ms + (i * 1000) / load.rate;
        inFlight.push(one(i).then(() => (lat[i] = Number(process.hrtime.bigint()) / 1e6 - scheduled)));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, lat };
}

function drive(name: string, total: number, load: Load, one: (i: number) => Promise<unknown>, stats: Client, statementsOf: () => number): Promise<Result> {
  return measure(name, total, () => runLoad(total, load, one), stats, statementsOf);
}

async function measure(name: string, total: number, run: () => Promise<{ seconds: number; lat: Float64Array }>, stats: Client, statementsOf: () => number): Promise<Result> {
  // pg_stat_database counters are flushed by backends with a delay: settle, read, run, settle, read.
  await new Promise((r) => setTimeout(r, 1100));
  const x0 = await xacts(stats);
  const s0 = statementsOf();
  const { seconds, lat } = await run();
  const statements = statementsOf() - s0;
  await new Promise((r) => setTimeout(r, 1100));
  const transactions = (await xacts(stats)) - x0 - 2; // minus the two reads of the counter itself
  const sorted = Array.from(lat).sort((a, b) => a - b);
  return { name, heartbeats: total, seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), statements, transactions };
}

function print(results: Result[]) {
  const rows = results.map((r) => [
    r.name,
    String(r.heartbeats),
    Math.round(r.heartbeats / r.seconds).toLocaleString('en-US'),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    Math.round(r.statements / r.seconds).toLocaleString('en-US'),
    Math.round(r.transactions / r.seconds).toLocaleString('en-US'),
    (r.heartbeats / Math.max(1, r.statements)).toFixed(1),
  ]);
  const head = ['tier', 'heartbeats', 'heartbeats/s', 'p50 ms', 'p99 ms', 'statements/s', 'db xacts/s', 'beats/stmt'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

interface WorkerJob {
  wsUrl: string;
  token: string;
  ids: string[];
  total: number;
  load: Load;
}

function wsHeartbeats(wsUrl: string, token: string, ids: string[]) {
  const sockets = Array.from({ length: 4 }, () => createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false }));
  const query = 'mutation Heartbeat($id: ID!) { heartbeat(connectionId: $id) }';
  const beat = (i: number) =>
    new Promise<void>((resolve, reject) => {
      let ok = false;
      sockets[i % sockets.length].subscribe(
        { query, variables: { id: ids[(i * 7919) % ids.length] } },
        { next: (r) => void (ok = r.data?.heartbeat === true), error: reject, complete: () => (ok ? resolve() : reject(new Error('heartbeat refused'))) },
      );
    });
  return { beat, close: () => Promise.all(sockets.map((s) => s.dispose())) };
}

/** In a worker thread: the load generator on a core of its own, so the server's thread is not shared with it. */
async function workerMain(job: WorkerJob) {
  const client = wsHeartbeats(job.wsUrl, job.token, job.ids);
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.beat(i)));
  const { seconds, lat } = await runLoad(job.total, job.load, client.beat);
  await client.close();
  parentPort!.postMessage({ seconds, lat }, [lat.buffer]);
}

function inWorker(job: WorkerJob): Promise<{ seconds: number; lat: Float64Array }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: job, execArgv: ['-r', '@swc-node/register'] });
    worker.once('message', (m: { seconds: number; lat: Float64Array }) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-bench-hb-'));
  const pg = await startPostgres({ dir, persistent: false });
  const url = pg.url.replace(/\/[^/]*$/, '/streamspace_bench');
  {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE streamspace_bench');
    await admin.end();
  }
  const logger = createLogger('silent');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: url,
    STREAMSPACE_CLUSTER: 'none',
    STREAMSPACE_ADMIN_USERNAME: 'admin',
    STREAMSPACE_ADMIN_PASSWORD: 'bench-admin-password',
    // The reaper must not end the bench's connections while it runs.
    STREAMSPACE_HEARTBEAT_TIMEOUT: '1h',
    STREAMSPACE_REAPER_INTERVAL: '1h',
  } as NodeJS.ProcessEnv);
  const app = await createApp(config, { logger });
  const stats = new Client({ connectionString: url });
  await stats.connect();
  const results: Result[] = [];
  try {
    // Fixture: one user, one session row, CONNECTIONS open connections.
    const login = await fetch(`${app.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) });
    const { accessToken, user } = (await login.json()) as { accessToken: string; user: { id: string } };
    const sessionId = randomUUID();
    await stats.query(`INSERT INTO sessions (id, name, namespace, user_id, username, template, state, phase) VALUES ($1, 'bench', $2, $3, 'admin', 'bench', 'running', 'Running')`, [sessionId, config.sessions.namespace, user.id]);
    const ids = (
      await stats.query<{ id: string }>(`INSERT INTO connections (session_id, user_id) SELECT $1, $2 FROM generate_series(1, $3) RETURNING id`, [sessionId, user.id, CONNECTIONS])
    ).rows.map((r) => r.id);
    const pick = (i: number) => ids[(i * 7919) % ids.length];
    console.log(`heartbeat benchmark: ${os.cpus().length} cores, PostgreSQL ${pg.url.replace(/\/\/.*@/, '//')} (embedded, loopback), ${CONNECTIONS} open connections`);

    // 1-2. raw pg loops.
    const raw = new Pool({ connectionString: url, max: 3 });
    let rawStatements = 0;
    const rawOne = async (i: number) => {
      rawStatements++;
      await raw.query('UPDATE connections SET last_activity_at = now() WHERE id = $1', [pick(i)]);
    };
    const rawN = Math.min(N, 20_000);
    if (TIERS.has('raw')) {
      results.push(await drive('raw pg UPDATE, 1 connection, sequential', rawN, { concurrency: 1 }, rawOne, stats, () => rawStatements));
      results.push(await drive('raw pg UPDATE, 3 connections', rawN, { concurrency: 3 }, rawOne, stats, () => rawStatements));
    }

    // 3. the batcher alone.
    const pool = new Pool({ connectionString: url, max: 3 });
    const batcher = new HeartbeatBatcher(pool);
    const viaBatcher = async (i: number) => {
      if (!(await batcher.beat(pick(i), user.id))) throw new Error('heartbeat refused');
    };
    if (TIERS.has('batcher')) {
      results.push(await drive('HeartbeatBatcher (service), 1,000 callers', N, { concurrency: 1000 }, viaBatcher, stats, () => batcher.stats.statements));
      results.push(await drive('HeartbeatBatcher (service), open loop 10,000/s', Math.min(N, 50_000), { rate: 10_000 }, viaBatcher, stats, () => batcher.stats.statements));
    }
    await batcher.stop();
    await pool.end();
    await raw.end();

    const appBatcher = app.services.connections.heartbeats;
    const mutation = 'mutation Heartbeat($id: ID!) { heartbeat(connectionId: $id) }';

    // 4. GraphQL over graphql-ws: a few sockets, many operations in flight on each.
    const wsUrl = app.url.replace('http', 'ws').replace('localhost', '127.0.0.1') + '/graphql';
    if (TIERS.has('ws')) {
      const client = wsHeartbeats(wsUrl, accessToken, ids);
      await Promise.all(Array.from({ length: 200 }, (_, i) => client.beat(i))); // warm-up
      results.push(await drive('GraphQL over graphql-ws, 4 sockets, 256 in flight', N, { concurrency: 256 }, client.beat, stats, () => appBatcher.stats.statements));
      results.push(await drive('GraphQL over graphql-ws, open loop 5,000/s', Math.min(N, 25_000), { rate: 5_000 }, client.beat, stats, () => appBatcher.stats.statements));
      await client.close();
    }
    // 4b. The same with the load generator in a worker thread (its own core; the server keeps the main thread).
    if (TIERS.has('ws-worker')) {
      const job = (total: number, load: Load): WorkerJob => ({ wsUrl, token: accessToken, ids, total, load });
      results.push(await measure('graphql-ws, generator in a worker, 256 in flight', N, () => inWorker(job(N, { concurrency: 256 })), stats, () => appBatcher.stats.statements));
      for (const rate of [5_000, 7_500, 10_000]) {
        const total = Math.min(N, rate * 5);
        results.push(await measure(`graphql-ws, generator in a worker, open loop ${rate.toLocaleString('en-US')}/s`, total, () => inWorker(job(total, { rate })), stats, () => appBatcher.stats.statements));
      }
    }

    // 5. GraphQL over HTTP POST with keep-alive.
    const viaHttp = async (i: number) => {
      const res = await fetch(`${app.url.replace('localhost', '127.0.0.1')}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ query: mutation, variables: { id: pick(i) } }),
      });
      const body = (await res.json()) as { data?: { heartbeat?: boolean } };
      if (body.data?.heartbeat !== true) throw new Error(`heartbeat refused: ${JSON.stringify(body)}`);
    };
    const httpN = Math.min(N, 30_000);
    await Promise.all(Array.from({ length: 200 }, (_, i) => viaHttp(i)));
    if (TIERS.has('http')) results.push(await drive('GraphQL over HTTP POST, 64 in flight', httpN, { concurrency: 64 }, viaHttp, stats, () => appBatcher.stats.statements));
  } finally {
    await stats.end();
    await app.stop();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  print(results);
  const best = [...results].sort((a, b) => b.heartbeats / b.seconds - a.heartbeats / a.seconds)[0];
  console.log(
    `target >= 10,000 heartbeats/s with p99 < 50 ms; fastest tier "${best.name}": ${Math.round(best.heartbeats / best.seconds)} /s, p99 ${best.p99.toFixed(1)} ms`,
  );
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  void workerMain(workerData as WorkerJob);
}
