import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Client } from 'pg';
import type { TestApp } from '../support/app';

/**
 * The fault harness: real server processes spawned as children (SIGKILL-able), a loopback proxy in front of the
 * kube-apiserver that can "restart" it and answer watches with 410 Gone, a bounded heartbeat fleet that fails
 * over between replicas by itself, and small SQL helpers. Every loop here is bounded in count and time and only
 * talks to 127.0.0.1.
 */

const SERVER_DIR = path.resolve(__dirname, '../..');

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  output: string[];
  exited: Promise<number | null>;
}

/** Starts the real server (src/main.ts) as its own process and resolves with its URL once it listens. */
export function spawnServer(env: Record<string, string>): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { ...process.env, STREAMSPACE_GATEWAY_PORT: '0', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        output.push(line);
        if (output.length > 2000) output.splice(0, 1000);
        const m = /StreamSpace is listening on (http:\/\/[^\s"]+)/.exec(line);
        if (m) resolve({ child, url: m[1].replace('localhost', '127.0.0.1'), output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output.slice(-20).join('\n')}`)));
  });
}

/** SIGKILL: no shutdown hook, no lease release, nothing flushed. Resolves once the process is gone. */
export async function sigkill(server: SpawnedServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

export async function stopServer(server: SpawnedServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const t = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  await server.exited;
  clearTimeout(t);
}

/** Just enough of TestApp for the API helpers, against a spawned server. */
export function remote(url: string): TestApp {
  return {
    url,
    logs: [],
    wsUrl: url.replace('http', 'ws') + '/graphql',
    async gql(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, body: (await res.json()) as never };
    },
  } as unknown as TestApp;
}

/** One query on a database URL, on a connection of its own. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const HEARTBEAT = 'mutation H($id: ID!) { heartbeat(connectionId: $id) }';

export interface FleetClient {
  connectionId: string;
  /** Index into the fleet's URL list this client talks to now. */
  target: number;
  ok: number;
  /** Heartbeats answered false: the server ended the connection (a lost connection). */
  refused: number;
  /** Failed attempts (network error, HTTP error, GraphQL error) before the client moved on. */
  failures: number;
  switches: number;
  lastOkAt: number;
  /** Error codes seen in GraphQL answers. */
  codes: Map<string, number>;
}

/**
 * N clients, each keeping one connection alive with a heartbeat every `intervalMs` over HTTP POST (bearer token),
 * the way the portal does. A client whose replica fails (network error or 5xx) moves to the next URL of the list
 * by itself and retries after a short pause. Bounded: `stop()` ends it, and it stops by itself after `maxMs`.
 */
export class HeartbeatFleet {
  readonly clients: FleetClient[];
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    public urls: string[],
    connectionIds: string[],
    private readonly headers: Record<string, string>,
    private readonly options: { intervalMs: number; maxMs: number; retryMs?: number; requestTimeoutMs?: number },
  ) {
    this.clients = connectionIds.map((connectionId) => ({ connectionId, target: 0, ok: 0, refused: 0, failures: 0, switches: 0, lastOkAt: 0, codes: new Map() }));
  }

  start(): void {
    this.until = Date.now() + this.options.maxMs;
    this.loops = this.clients.map((c, i) => this.loop(c, (i * this.options.intervalMs) / this.clients.length));
  }

  /** A client that joins a running fleet (its first heartbeat goes out at once). */
  add(connectionId: string): void {
    const c: FleetClient = { connectionId, target: 0, ok: 0, refused: 0, failures: 0, switches: 0, lastOkAt: 0, codes: new Map() };
    this.clients.push(c);
    if (this.until) this.loops.push(this.loop(c, 0));
  }

  private until = 0;

  private async loop(c: FleetClient, delay: number): Promise<void> {
    // Spread the clients over the interval.
    await sleep(delay);
    while (!this.stopped && Date.now() < this.until) {
      const ok = await this.beat(c);
      await sleep(ok ? this.options.intervalMs : (this.options.retryMs ?? 200));
    }
  }

  private async beat(c: FleetClient): Promise<boolean> {
    const url = this.urls[c.target % this.urls.length];
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.headers },
        body: JSON.stringify({ query: HEARTBEAT, variables: { id: c.connectionId } }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
      const body = (await res.json()) as { data?: { heartbeat: boolean } | null; errors?: { extensions?: { code?: string } }[] };
      for (const e of body.errors ?? []) {
        const code = e.extensions?.code ?? 'NONE';
        c.codes.set(code, (c.codes.get(code) ?? 0) + 1);
      }
      if (res.status >= 500 || body.errors) throw new Error(`status ${res.status}`);
      if (body.data?.heartbeat === true) {
        c.ok++;
        c.lastOkAt = Date.now();
        return true;
      }
      c.refused++;
      return true;
    } catch {
      c.failures++;
      c.target++;
      c.switches++;
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  totals() {
    const sum = (f: (c: FleetClient) => number) => this.clients.reduce((n, c) => n + f(c), 0);
    const codes: Record<string, number> = {};
    for (const c of this.clients) for (const [k, v] of c.codes) codes[k] = (codes[k] ?? 0) + v;
    return { ok: sum((c) => c.ok), refused: sum((c) => c.refused), failures: sum((c) => c.failures), switches: sum((c) => c.switches), codes };
  }
}

/** Best effort: deletes a scenario's namespace so its pods stop taking the simulated nodes' capacity. */
export async function deleteNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  await kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A plain-HTTP proxy on loopback in front of the real kube-apiserver (it authenticates upstream with the
 * cluster's own credentials). `restart(downMs)` does what an apiserver restart does to its clients: every open
 * request and watch is cut, new connections are refused for `downMs`; after it, the first watch of each
 * collection is answered the way an apiserver with a fresh watch cache answers a too-old resourceVersion:
 * `ERROR 410 Expired` in the watch stream. It records which collections were listed and watched, so a test can
 * check that every informer re-listed.
 */
export class KubeFaultProxy {
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  private down = false;
  /** Collections whose next watch is answered with 410 Gone. */
  private goneArmed = false;
  private readonly goneServed = new Set<string>();
  /** path -> times, since the last restart. */
  readonly lists = new Map<string, number>();
  readonly watches = new Map<string, number>();
  gone = 0;

  constructor(private readonly upstream: KubeConfig) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.forward(req, res));
    this.server.on('connection', (s) => {
      if (this.down) {
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** A kubeconfig file naming this proxy (no credentials: the proxy adds them upstream). */
  writeKubeconfig(dir = os.tmpdir()): string {
    const file = path.join(fs.mkdtempSync(path.join(dir, 'streamspace-kube-proxy-')), 'kubeconfig');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: proxy, cluster: {server: "' + this.url + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: proxy, user: {}}]',
        'contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]',
        'current-context: proxy',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Cuts every connection, refuses new ones for downMs, then answers each collection's first watch with 410. */
  async restart(downMs: number): Promise<void> {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.lists.clear();
    this.watches.clear();
    this.goneServed.clear();
    this.goneArmed = true;
    await sleep(downMs);
    this.down = false;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const collection = url.pathname;
    const isWatch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    if (req.method === 'GET') {
      const m = isWatch ? this.watches : this.lists;
      m.set(collection, (m.get(collection) ?? 0) + 1);
    }
    if (isWatch && this.goneArmed && !this.goneServed.has(collection)) {
      this.goneServed.add(collection);
      this.gone++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 },
        }) + '\n',
      );
      return;
    }
    const cluster = this.upstream.getCurrentCluster()!;
    const target = new URL(cluster.server.replace(/\/+$/, '') + (req.url ?? '/'));
    const opts: https.RequestOptions = { method: req.method, headers: { ...req.headers, host: target.host } };
    await this.upstream.applyToHTTPSOptions(opts);
    const up = (target.protocol === 'http:' ? http : https).request(target, opts, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** One fault scenario's outcome: figures for the table, and the checks a test asserts. */
export interface ScenarioResult {
  scenario: string;
  size: string;
  figures: Record<string, string | number>;
  checks: { name: string; ok: boolean; detail: string }[];
}

export function check(result: ScenarioResult, name: string, ok: boolean, detail: unknown = ''): void {
  result.checks.push({ name, ok, detail: typeof detail === 'string' ? detail : JSON.stringify(detail) });
}

export function passed(result: ScenarioResult): boolean {
  return result.checks.length > 0 && result.checks.every((c) => c.ok);
}
