import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../../src/platform/database/postgres-server';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { createTestNamespace, getTestCluster } from '../support/kube';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates, firefoxYaml } from '../connections/support';
import { check, deleteNamespace, HeartbeatFleet, percentile, pool, sleep, sql, type ScenarioResult } from './fault-harness';

export interface OutageSize {
  /** How long PostgreSQL stays stopped. */
  outageMs: number;
  connections: number;
}

interface Outcome {
  op: string;
  ms: number;
  /** 'ok', an error code, 'HTTP <status>' without a GraphQL body, or 'HANG' (no answer within the client's limit). */
  code: string;
  during: boolean;
}

const HANG_MS = 20_000;

/**
 * Scenario 2: PostgreSQL is stopped for `outageMs` under traffic (reads, audited writes, heartbeats), then
 * started again on the same port. Every request answers (no hang), every failure is the typed
 * SERVICE_UNAVAILABLE (never a masked internal error), no acknowledged write is lost, and the same server
 * process recovers by itself; open connections survive.
 */
export async function databaseOutage(size: OutageSize): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario: '2 PostgreSQL stopped', size: `${size.outageMs / 1000} s outage, ${size.connections} connections, reads + writes`, figures: {}, checks: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-fault-pg-'));
  let pg: PostgresServer | undefined = await startPostgres({ dir, persistent: true });
  const port = pg.port;
  const databaseUrl = pg.url;
  const cluster = await getTestCluster();
  const ns = await createTestNamespace('fault-pg');
  let app: TestApp | undefined;
  let fleet: HeartbeatFleet | undefined;
  let running = true;
  const loops: Promise<void>[] = [];
  try {
    app = await startTestApp({
      DATABASE_URL: databaseUrl,
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      // The default heartbeat timeout (60 s): the outage is shorter, so no connection may be reaped after it.
      STREAMSPACE_HEARTBEAT_TIMEOUT: '60s',
      STREAMSPACE_REAPER_INTERVAL: '500ms',
      STREAMSPACE_HIBERNATION_INTERVAL: '500ms',
      STREAMSPACE_IDLE_TIMEOUT: '1h',
    });
    const admin = await signInAsAdmin(app);
    const api = new Api(app, admin);
    await applyTemplates(app, admin, [firefoxYaml()]);
    const session = await api.createSession({ template: 'firefox' });
    await api.waitPhase(session.id, 'Running');
    const connectionIds = await pool(Array.from({ length: size.connections }), 8, async () => (await api.connect(session.id)).connectionId);

    let down = false;
    const outcomes: Outcome[] = [];
    const acked: string[] = [];
    const call = async (op: string, query: string, variables: Record<string, unknown>): Promise<string> => {
      const started = Date.now();
      const during = down;
      let code: string;
      try {
        const res = await fetch(`${app!.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...admin.headers },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(HANG_MS),
        });
        const text = await res.text();
        let body: { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          body = undefined;
        }
        code = body?.errors?.length ? (body.errors[0].extensions?.code ?? 'NO CODE') : body?.data ? 'ok' : `HTTP ${res.status}`;
      } catch (err) {
        code = (err as Error).name === 'TimeoutError' ? 'HANG' : `NETWORK ${(err as Error).message}`;
      }
      outcomes.push({ op, ms: Date.now() - started, code, during: during || down });
      return code;
    };
    let n = 0;
    // Audited writes (three writers): a user each; the ones answered ok must exist afterwards.
    for (let w = 0; w < 3; w++) {
      loops.push(
        (async () => {
          while (running) {
            const username = `outage-${process.pid}-${++n}`;
            const code = await call('createUser', 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { username, password: 'pw-outage-123456', role: 'user' } });
            if (code === 'ok') acked.push(username);
            await sleep(50);
          }
        })(),
      );
    }
    loops.push(
      (async () => {
        while (running) {
          await call('session', 'query($id: ID!) { session(id: $id) { id phase activeConnections } }', { id: session.id });
          await sleep(100);
        }
      })(),
    );
    fleet = new HeartbeatFleet([app.url], connectionIds, admin.headers, { intervalMs: 500, maxMs: 10 * 60_000, retryMs: 500, requestTimeoutMs: HANG_MS });
    fleet.start();
    await sleep(3000);

    down = true;
    const stoppedAt = Date.now();
    await pg.stop();
    pg = undefined;
    await sleep(Math.max(0, size.outageMs - (Date.now() - stoppedAt)));
    pg = await startPostgres({ dir, persistent: true, port });
    const restartedAt = Date.now();
    result.figures['outage s'] = Math.round((restartedAt - stoppedAt) / 100) / 10;
    // Recovery without a restart of the server: reads, writes and heartbeats succeed again.
    await waitUntil(async () => (await call('session', 'query($id: ID!) { session(id: $id) { id } }', { id: session.id })) === 'ok', 'reads to succeed again', 60_000);
    down = false;
    await waitUntil(() => outcomes.some((o) => o.op === 'createUser' && o.code === 'ok' && !o.during), 'writes to succeed again', 60_000);
    await waitUntil(() => fleet!.clients.every((c) => c.lastOkAt > restartedAt), 'every heartbeat to be accepted again', 60_000);
    result.figures['recovery ms'] = Date.now() - restartedAt;
    running = false;
    await Promise.all(loops);
    await fleet.stop();

    const duringOutage = outcomes.filter((o) => o.during);
    const codes: Record<string, number> = {};
    for (const o of duringOutage) codes[o.code] = (codes[o.code] ?? 0) + 1;
    const hb = fleet.totals();
    for (const [k, v] of Object.entries(hb.codes)) codes[`heartbeat ${k}`] = v;
    result.figures['requests in outage'] = duringOutage.length + hb.failures;
    result.figures['unavailable'] = duringOutage.filter((o) => o.code === 'SERVICE_UNAVAILABLE').length + (hb.codes.SERVICE_UNAVAILABLE ?? 0);
    result.figures['max answer ms'] = percentile(outcomes.map((o) => o.ms), 100);
    result.figures['acked writes'] = acked.length;

    const unexpected = Object.keys(codes).filter((c) => !['ok', 'SERVICE_UNAVAILABLE', 'heartbeat SERVICE_UNAVAILABLE'].includes(c));
    const internal = [...new Set(app.logs.filter((l) => Number(l.level) >= 50 && l.err).map((l) => `${l.msg}: ${(l.err as { message?: string }).message ?? JSON.stringify(l.err)}`))];
    check(result, 'every failure is typed SERVICE_UNAVAILABLE', unexpected.length === 0, { codes, internal: internal.slice(0, 10) });
    check(result, 'the outage was felt (requests failed)', (codes.SERVICE_UNAVAILABLE ?? 0) > 0, codes);
    check(result, 'never a hang', outcomes.every((o) => o.code !== 'HANG'), { max: result.figures['max answer ms'] });
    const stored = new Set((await sql<{ username: string }>(databaseUrl, 'SELECT username FROM users WHERE username = ANY($1)', [acked])).map((r) => r.username));
    const lost = acked.filter((u) => !stored.has(u));
    result.figures['acked writes lost'] = lost.length;
    check(result, 'no acknowledged write lost', lost.length === 0, lost);
    const [{ open }] = await sql<{ open: number }>(databaseUrl, 'SELECT count(*)::int AS open FROM connections WHERE disconnected_at IS NULL');
    check(result, 'heartbeats refused cleanly, connections kept', hb.refused === 0 && open === size.connections, { refused: hb.refused, open });
    const ready = await fetch(`${app.url}/readyz`);
    check(result, 'the same process is ready again', ready.status === 200, ready.status);
    return result;
  } finally {
    running = false;
    await Promise.all(loops);
    await fleet?.stop();
    await app?.stop();
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    await deleteNamespace(cluster.kubeConfig, ns);
  }
}
