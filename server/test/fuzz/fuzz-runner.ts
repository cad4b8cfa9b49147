import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { getOperationAST, parse, type GraphQLSchema } from 'graphql';
import type { TestApp } from '../support/app';
import { checkErrors, checkHttp, type GraphQLErrorShape, type Verdict } from './oracle';
import { RequestGenerator, Rng, type FuzzRequest, type Identity, type Pools, type Transport } from './generator';

/**
 * Sends generated requests to a running app as three identities over HTTP and graphql-ws, checks every answer
 * with the oracle, checks after each batch that the server still answers a health query, and keeps the counts
 * the summary prints. Requests of one batch are generated before the batch is sent (ids seen in answers feed the
 * next batch), so a seed reproduces the sequence of requests.
 */

export const IDENTITIES: Identity[] = ['anonymous', 'user', 'admin'];
export const TRANSPORTS: Transport[] = ['http', 'ws'];

/** Close codes a socket may get for what the fuzzer sends (a malformed message, a duplicate id, too big, ...). */
const ACCEPTED_CLOSE_CODES = new Set([1000, 1001, 1005, 1009, 4400, 4401, 4403, 4408, 4409, 4429, 4499]);
/** How long a subscription is followed before the client completes it. */
const SUBSCRIPTION_WINDOW_MS = 150;
/** An answer slower than this counts as a hang (a finding, not a crash). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Failure {
  seed: number;
  index: number;
  identity: Identity;
  transport: Transport;
  request: FuzzRequest;
  problems: string[];
  answer: string;
}

export interface FuzzStats {
  sent: Record<string, number>;
  codes: Record<string, number>;
  operationTypes: Record<string, number>;
  closeCodes: Record<string, number>;
  http5xx: number;
  internalErrors: number;
  timeouts: number;
  healthChecks: number;
  healthFailures: number;
  crashes: number;
  failures: Failure[];
  /** Error-level lines the server logged for requests (masked errors' details). */
  serverErrorLogs: string[];
  /** The slowest requests (for the summary: where the run's time goes). */
  slowest: { ms: number; what: string }[];
}

export interface Credentials {
  headers: Record<string, string>;
  accessToken: string;
}

export interface FuzzTarget {
  app: TestApp;
  schema: GraphQLSchema;
  namespace: string;
  /** Current credentials of the signed-in identities (repair() may renew them). */
  credentials(identity: Exclude<Identity, 'anonymous'>): Credentials;
  /** Puts the fuzz identities back (role, enabled, signed in) after a batch; returns whether anything was fixed. */
  repair(): Promise<void>;
  /** Ids that must never be fed back to the fuzzer (the bootstrap admin that repairs the others). */
  protectedIds: Set<string>;
}

export function emptyStats(): FuzzStats {
  return {
    sent: {},
    codes: {},
    operationTypes: {},
    closeCodes: {},
    http5xx: 0,
    internalErrors: 0,
    timeouts: 0,
    healthChecks: 0,
    healthFailures: 0,
    crashes: 0,
    failures: [],
    serverErrorLogs: [],
    slowest: [],
  };
}

const bump = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);

/** One graphql-ws socket speaking graphql-transport-ws by hand (the fuzzer sends what a client library would refuse to). */
export class WsConnection {
  private nextId = 0;
  private readonly handlers = new Map<string, (msg: Record<string, unknown> | null) => void>();
  closeCode: number | null = null;
  private onAnyMessage: (() => void) | null = null;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.onAnyMessage?.();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      const id = typeof msg.id === 'string' ? msg.id : undefined;
      if (id) this.handlers.get(id)?.(msg);
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      for (const h of [...this.handlers.values()]) h(null);
      this.handlers.clear();
      this.onAnyMessage?.();
    });
    socket.on('error', () => {});
  }

  static open(url: string, token: string | undefined): Promise<WsConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'graphql-transport-ws');
      const conn = new WsConnection(socket);
      const timer = setTimeout(() => reject(new Error('graphql-ws: no connection_ack within 10s')), 10_000);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
      socket.on('message', (data: Buffer) => {
        if (String(data).includes('"connection_ack"')) {
          clearTimeout(timer);
          resolve(conn);
        }
      });
      socket.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`graphql-ws: closed with ${code} before connection_ack`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get open(): boolean {
    return this.closeCode === null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a raw frame and waits briefly for the server's reaction (a message or a close). */
  async raw(frame: string): Promise<{ closeCode: number | null }> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100);
      this.onAnyMessage = () => {
        clearTimeout(timer);
        resolve();
      };
      this.socket.send(frame, () => {});
    });
    this.onAnyMessage = null;
    // A close may still be on its way.
    await new Promise((r) => setTimeout(r, 5));
    return { closeCode: this.closeCode };
  }

  /** Runs one operation: its results and errors, or the close code if the socket closed meanwhile. */
  run(payload: Record<string, unknown>, subscription: boolean, windowMs = SUBSCRIPTION_WINDOW_MS): Promise<{ errors: GraphQLErrorShape[]; data: unknown[]; closeCode: number | null; timedOut: boolean }> {
    const id = String(++this.nextId);
    return new Promise((resolve) => {
      const errors: GraphQLErrorShape[] = [];
      const data: unknown[] = [];
      let windowTimer: NodeJS.Timeout | undefined;
      const finish = (timedOut = false) => {
        clearTimeout(windowTimer);
        clearTimeout(hardTimer);
        this.handlers.delete(id);
        resolve({ errors, data, closeCode: this.closeCode, timedOut });
      };
      const complete = () => {
        if (this.open) this.socket.send(JSON.stringify({ id, type: 'complete' }));
        finish();
      };
      const hardTimer = setTimeout(() => {
        if (this.open) this.socket.send(JSON.stringify({ id, type: 'complete' }));
        finish(true);
      }, REQUEST_TIMEOUT_MS);
      this.handlers.set(id, (msg) => {
        if (!msg) return finish();
        if (msg.type === 'next') {
          const p = msg.payload as { errors?: GraphQLErrorShape[]; data?: unknown } | undefined;
          if (p?.data) data.push(p.data);
          errors.push(...(p?.errors ?? []));
          if (subscription && !windowTimer) windowTimer = setTimeout(complete, 0);
        } else if (msg.type === 'error') {
          errors.push(...((msg.payload as GraphQLErrorShape[] | undefined) ?? []));
          finish();
        } else if (msg.type === 'complete') finish();
      });
      if (subscription) windowTimer = setTimeout(complete, windowMs);
      this.socket.send(JSON.stringify({ id, type: 'subscribe', payload }), () => {});
    });
  }

  close(): void {
    this.socket.close(1000);
  }
}

export class FuzzRunner {
  readonly stats = emptyStats();
  private readonly pools: Pools = { ids: [], names: ['fuzz-template'] };
  private readonly sockets = new Map<Identity, Promise<WsConnection>>();
  private readonly onUnhandled = (reason: unknown) => {
    this.stats.crashes++;
    this.stats.serverErrorLogs.push(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  };

  constructor(
    private readonly target: FuzzTarget,
    readonly seed: number,
    private readonly options: { concurrency: number; maxString: number },
  ) {}

  private token(identity: Identity): string | undefined {
    return identity === 'anonymous' ? undefined : this.target.credentials(identity).accessToken;
  }

  /** The identity's socket, opened once for all workers (concurrent opens would pile up against the per-user limit). */
  private async socket(identity: Identity): Promise<WsConnection> {
    const existing = this.sockets.get(identity);
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn?.open) return conn;
      if (this.sockets.get(identity) !== existing) return this.socket(identity);
      conn?.close();
    }
    const opening = WsConnection.open(this.target.app.wsUrl, this.token(identity));
    this.sockets.set(identity, opening);
    try {
      return await opening;
    } catch (err) {
      if (this.sockets.get(identity) === opening) this.sockets.delete(identity);
      throw err;
    }
  }

  private async closeSockets() {
    const all = [...this.sockets.values()];
    this.sockets.clear();
    for (const s of all) (await s.catch(() => undefined))?.close();
  }

  /** Sends `count` generated requests in batches of `batchSize`, checking health and repairing identities between batches. */
  async run(count: number, batchSize: number, onBatch?: (done: number) => void): Promise<void> {
    const generator = new RequestGenerator(this.target.schema, new Rng(this.seed), this.pools, { maxString: this.options.maxString, namespace: this.target.namespace });
    process.on('unhandledRejection', this.onUnhandled);
    try {
      let index = 0;
      while (index < count) {
        const batch: { index: number; identity: Identity; transport: Transport; request: FuzzRequest }[] = [];
        for (let i = 0; i < batchSize && index < count; i++, index++) {
          const identity = IDENTITIES[index % 3]!;
          const transport = TRANSPORTS[Math.floor(index / 3) % 2]!;
          batch.push({ index, identity, transport, request: generator.next(transport) });
        }
        await this.sendAll(batch);
        await this.afterBatch();
        onBatch?.(index);
      }
    } finally {
      process.off('unhandledRejection', this.onUnhandled);
      await this.closeSockets();
    }
  }

  /** Sends given requests (a regression corpus) as every identity over every transport it applies to. */
  async replay(entries: { name: string; request: FuzzRequest; transports?: Transport[] }[]): Promise<void> {
    const batch = entries.flatMap((e, i) =>
      IDENTITIES.flatMap((identity) => (e.transports ?? TRANSPORTS).map((transport) => ({ index: i, identity, transport, request: e.request }))),
    );
    await this.sendAll(batch);
    await this.afterBatch();
    await this.closeSockets();
  }

  private async sendAll(batch: { index: number; identity: Identity; transport: Transport; request: FuzzRequest }[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const item = batch[next++]!;
        await this.send(item.index, item.identity, item.transport, item.request);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
  }

  private record(index: number, identity: Identity, transport: Transport, request: FuzzRequest, verdict: Verdict, answer: string) {
    for (const code of verdict.codes) bump(this.stats.codes, code);
    if (verdict.problems.length) {
      this.stats.failures.push({ seed: this.seed, index, identity, transport, request, problems: verdict.problems, answer: answer.slice(0, 2000) });
    }
    this.stats.internalErrors += verdict.problems.filter((p) => p.startsWith('masked internal error')).length;
  }

  async send(index: number, identity: Identity, transport: Transport, request: FuzzRequest): Promise<void> {
    bump(this.stats.sent, `${identity}/${transport}`);
    bump(this.stats.operationTypes, request.operationType);
    const started = performance.now();
    if (transport === 'http') await this.sendHttp(index, identity, request);
    else await this.sendWs(index, identity, request);
    const ms = performance.now() - started;
    const { slowest } = this.stats;
    if (slowest.length < 5 || ms > slowest[slowest.length - 1]!.ms) {
      const text = typeof request.payload?.query === 'string' ? request.payload.query : (request.rawFrame ?? request.raw?.body ?? '');
      slowest.push({ ms, what: `#${index} ${identity}/${transport}: ${text.slice(0, 140).replace(/\s+/g, ' ')}` });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 5);
    }
  }

  private async sendHttp(index: number, identity: Identity, request: FuzzRequest): Promise<void> {
    const { app } = this.target;
    const auth = identity === 'anonymous' ? {} : this.target.credentials(identity).headers;
    let res: Response;
    try {
      if (request.get && request.payload) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(request.payload)) params.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        res = await fetch(`${app.url}/graphql?${params}`, {
          headers: { ...auth, 'apollo-require-preflight': 'true', accept: 'application/json' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } else {
        res = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': request.raw?.contentType ?? 'application/json', ...auth },
          body: request.raw?.body ?? JSON.stringify(request.payload),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      }
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      if (timedOut) this.stats.timeouts++;
      this.record(index, identity, 'http', request, { codes: [timedOut ? 'timeout' : 'network error'], problems: [`no HTTP answer: ${(err as Error).message}`] }, '');
      return;
    }
    const text = await res.text();
    if (res.status >= 500) this.stats.http5xx++;
    bump(this.stats.codes, `HTTP ${res.status}`);
    this.record(index, identity, 'http', request, checkHttp(res.status, text), text);
    if (res.status === 200) this.harvestText(text);
  }

  private async sendWs(index: number, identity: Identity, request: FuzzRequest): Promise<void> {
    let conn: WsConnection;
    try {
      conn = await this.socket(identity);
    } catch (err) {
      const message = (err as Error).message;
      // The admin identity may have disabled or demoted this one (repaired after the batch): its token is refused.
      if (identity !== 'anonymous' && message.includes('closed with 4403')) {
        bump(this.stats.codes, 'ws 4403 (identity disabled by the fuzzing admin)');
        return;
      }
      this.record(index, identity, 'ws', request, { codes: ['ws connect failed'], problems: [`cannot open a socket: ${message}`] }, '');
      return;
    }
    if (request.rawFrame !== undefined || request.raw) {
      const { closeCode } = await conn.raw(request.rawFrame ?? request.raw!.body);
      if (closeCode !== null) this.closed(index, identity, request, closeCode);
      return;
    }
    const { errors, data, closeCode, timedOut } = await conn.run(request.payload ?? {}, request.operationType === 'subscription' || selectsSubscription(request.payload));
    if (timedOut) {
      this.stats.timeouts++;
      this.record(index, identity, 'ws', request, { codes: ['timeout'], problems: ['no answer over graphql-ws within 30s'] }, '');
    }
    this.record(index, identity, 'ws', request, checkErrors(errors), JSON.stringify(errors));
    this.harvest(data);
    if (closeCode !== null) this.closed(index, identity, request, closeCode);
  }

  private closed(index: number, identity: Identity, request: FuzzRequest, code: number) {
    bump(this.stats.closeCodes, String(code));
    if (!ACCEPTED_CLOSE_CODES.has(code)) {
      this.record(index, identity, 'ws', request, { codes: [`ws close ${code}`], problems: [`socket closed with ${code}`] }, '');
    }
  }

  /** Health query over HTTP and graphql-ws, error-level server logs collected, identities repaired, ids harvested. */
  private async afterBatch(): Promise<void> {
    const { app } = this.target;
    this.stats.healthChecks++;
    try {
      const live = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      const answer = await app.gql<{ version: { version: string } }>('{ version { version } }');
      if (live.status !== 200 || !answer.body.data?.version.version) throw new Error(`healthz ${live.status}, version ${JSON.stringify(answer.body)}`);
    } catch (err) {
      this.stats.healthFailures++;
      this.stats.serverErrorLogs.push(`health check failed: ${(err as Error).message}`);
    }
    for (const line of app.logs) {
      if (typeof line.level === 'number' && line.level >= 50) {
        const err = line.err as { type?: string; message?: string; stack?: string } | undefined;
        this.stats.serverErrorLogs.push(`${String(line.msg)}: ${err?.stack ?? err?.message ?? ''}`.slice(0, 3000));
      }
    }
    app.logs.length = 0;
    await this.target.repair();
    // Sockets of repaired identities carry stale tokens: open fresh ones for the next batch.
    await this.closeSockets();
  }

  private harvestText(text: string) {
    try {
      this.harvest((JSON.parse(text) as { data?: unknown }).data);
    } catch {
      // not JSON: nothing to learn
    }
  }

  /** Ids in answers (objects the fuzzer created or may see) become arguments of the next batches. */
  private harvest(value: unknown, depth = 0): void {
    if (!value || typeof value !== 'object' || depth > 12) return;
    if (Array.isArray(value)) {
      for (const v of value.slice(0, 20)) this.harvest(v, depth + 1);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'string') {
        if (/^(id|\w+Id)$/.test(key) && /^[0-9a-f-]{36}$/.test(v) && !this.target.protectedIds.has(v) && !this.pools.ids.includes(v)) {
          this.pools.ids.push(v);
          if (this.pools.ids.length > 200) this.pools.ids.shift();
        }
      } else this.harvest(v, depth + 1);
    }
  }
}

/** Heap used after a full garbage collection (the flag is set at run time, so mocha needs no --expose-gc). */
export function heapAfterGc(): { heapUsed: number; rss: number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export function formatSummary(stats: FuzzStats, seed: number, memory: { before: { heapUsed: number; rss: number }; after: { heapUsed: number; rss: number } }, seconds: number): string {
  const lines: string[] = [];
  const total = Object.values(stats.sent).reduce((a, b) => a + b, 0);
  lines.push(`GraphQL fuzz summary (seed ${seed}, ${total} requests in ${seconds.toFixed(0)} s)`);
  lines.push('');
  lines.push('| identity | http | ws | total |');
  lines.push('|---|---:|---:|---:|');
  for (const identity of IDENTITIES) {
    const h = stats.sent[`${identity}/http`] ?? 0;
    const w = stats.sent[`${identity}/ws`] ?? 0;
    lines.push(`| ${identity} | ${h} | ${w} | ${h + w} |`);
  }
  lines.push('');
  lines.push(`operation types: ${Object.entries(stats.operationTypes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push('');
  lines.push('| error code / HTTP status | count |');
  lines.push('|---|---:|');
  for (const [code, n] of Object.entries(stats.codes).sort((a, b) => b[1] - a[1])) lines.push(`| ${code} | ${n} |`);
  lines.push('');
  lines.push(`graphql-ws close codes: ${Object.entries(stats.closeCodes).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'}`);
  lines.push(
    `crashes ${stats.crashes}, failed health checks ${stats.healthFailures}/${stats.healthChecks}, HTTP 5xx ${stats.http5xx}, masked internal errors ${stats.internalErrors}, timeouts ${stats.timeouts}, failing answers ${stats.failures.length}`,
  );
  lines.push(`heap after GC: before ${mb(memory.before.heapUsed)}, after ${mb(memory.after.heapUsed)} (${mb(memory.after.heapUsed - memory.before.heapUsed)}); RSS before ${mb(memory.before.rss)}, after ${mb(memory.after.rss)}`);
  lines.push('slowest requests:');
  for (const s of stats.slowest) lines.push(`  ${s.ms.toFixed(0)} ms ${s.what}`);
  return lines.join('\n');
}

/**
 * Whether the payload's operation is a subscription, whatever the generator meant: a "malformed" request whose
 * malformation left a valid subscription is followed for a window like any other (it answers only on events).
 */
function selectsSubscription(payload: Record<string, unknown> | undefined): boolean {
  if (typeof payload?.query !== 'string') return false;
  try {
    const operationName = typeof payload.operationName === 'string' ? payload.operationName : undefined;
    return getOperationAST(parse(payload.query, { maxTokens: 10_000 }), operationName)?.operation === 'subscription';
  } catch {
    return false;
  }
}
