import { CustomObjectsApi } from '@kubernetes/client-node';
import { signIn, TEST_ADMIN } from '../support/auth';
import { createTestNamespace, getTestCluster } from '../support/kube';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates, firefoxYaml, type Sess } from '../connections/support';
import { check, deleteNamespace, HeartbeatFleet, percentile, pool, remote, sigkill, spawnServer, sql, stopServer, type ScenarioResult, type SpawnedServer } from './fault-harness';

export interface SigkillSize {
  connections: number;
  sessions: number;
  /** Heartbeat period of each client. */
  intervalMs: number;
}

/**
 * Scenario 1: two replicas on one database; every client heartbeats through replica A, which is then SIGKILLed
 * (and restarted). Clients move to replica B (or the restarted A) by themselves; afterwards no connection or
 * session row is lost or ended, and no session was hibernated, although the idle timeout (10 s) is shorter
 * than the outage of A.
 */
export async function sigkillUnderLoad(size: SigkillSize): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario: '1 SIGKILL of the API replica under load', size: `${size.connections} connections, ${size.sessions} sessions, heartbeat ${size.intervalMs} ms`, figures: {}, checks: [] };
  const cluster = await getTestCluster();
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const ns = await createTestNamespace('fault-kill');
  const databaseUrl = await createTestDatabase('fault_kill');
  const env = {
    DATABASE_URL: databaseUrl,
    STREAMSPACE_CLUSTER: 'kubeconfig',
    KUBECONFIG: cluster.kubeconfigPath,
    STREAMSPACE_NAMESPACE: ns,
    STREAMSPACE_ADMIN_USERNAME: TEST_ADMIN.username,
    STREAMSPACE_ADMIN_PASSWORD: TEST_ADMIN.password,
    STREAMSPACE_LEADER_LEASE_DURATION: '3s',
    STREAMSPACE_HEARTBEAT_TIMEOUT: '20s',
    STREAMSPACE_REAPER_INTERVAL: '500ms',
    STREAMSPACE_HIBERNATION_INTERVAL: '500ms',
    STREAMSPACE_IDLE_TIMEOUT: '10s',
    STREAMSPACE_QUOTA_MAX_SESSIONS: String(size.sessions + 5),
    STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: String(size.sessions + 5),
    STREAMSPACE_QUOTA_CPU: '1000',
    STREAMSPACE_QUOTA_MEMORY: '4000Gi',
    STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER: '1000',
  };
  const servers: SpawnedServer[] = [];
  let fleet: HeartbeatFleet | undefined;
  try {
    const a = await spawnServer(env);
    servers.push(a);
    const leader = async () => {
      try {
        const lease = (await custom.getNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', namespace: ns, plural: 'leases', name: 'streamspace-leader' })) as { spec: { holderIdentity?: string | null } };
        return lease.spec.holderIdentity ?? '';
      } catch {
        return '';
      }
    };
    await waitUntil(async () => (await leader()).includes(`-${a.child.pid}-`), 'replica A to lead', 60_000);
    const b = await spawnServer(env);
    servers.push(b);
    const admin = await signIn(remote(a.url), TEST_ADMIN.username, TEST_ADMIN.password);
    const api = new Api(remote(a.url), admin);
    await applyTemplates(remote(a.url), admin, [firefoxYaml()]);
    const sessions: Sess[] = [];
    for (let i = 0; i < size.sessions; i++) sessions.push(await api.createSession({ template: 'firefox' }));
    // Each session gets its first connection as soon as it runs (it would idle out 10 s later otherwise).
    const anchors: string[] = [];
    for (const s of sessions) {
      await api.waitPhase(s.id, 'Running', 120_000);
      anchors.push((await api.connect(s.id)).connectionId);
    }
    const connectStarted = Date.now();
    const connected = await pool(
      Array.from({ length: size.connections - anchors.length }, (_, i) => sessions[i % sessions.length].id),
      16,
      async (id) => {
        const body = await api.connectRaw(id);
        if (!body.errors) return body.data!.connectSession.connectionId;
        const ids = body.errors.map((e) => e.extensions?.requestId).filter(Boolean) as string[];
        throw new Error(`connectSession failed: ${JSON.stringify(body.errors)}\n${a.output.filter((l) => ids.some((r) => l.includes(r))).join('\n')}`);
      },
    );
    result.figures['connect/s'] = Math.round((connected.length / (Date.now() - connectStarted)) * 1000);

    fleet = new HeartbeatFleet([a.url, b.url], [...anchors, ...connected], admin.headers, { intervalMs: size.intervalMs, maxMs: 10 * 60_000, retryMs: 100 });
    fleet.start();
    // Every client has had a heartbeat accepted by A.
    await waitUntil(() => fleet!.clients.every((c) => c.ok >= 1), 'every client to heartbeat through A', 120_000);

    const killedAt = Date.now();
    await sigkill(a);
    // Every client reaches a live replica again by itself.
    await waitUntil(() => fleet!.clients.every((c) => c.lastOkAt > killedAt), 'every client to heartbeat through another replica', 120_000);
    const reconnectMs = fleet.clients.map((c) => c.lastOkAt - killedAt);
    result.figures['reconnect p50 ms'] = percentile(reconnectMs, 50);
    result.figures['reconnect max ms'] = percentile(reconnectMs, 100);
    await waitUntil(async () => (await leader()).includes(`-${b.child.pid}-`), 'replica B to take over the lease', 60_000);
    result.figures['takeover ms'] = Date.now() - killedAt;

    // Keep heartbeating under the new leader well past the idle timeout (10 s) and many reaper and timer runs,
    // while A comes back and the clients' list names it again (a load balancer would); B keeps leading.
    const since = Date.now();
    const a2 = await spawnServer(env);
    servers.push(a2);
    fleet.urls = [b.url, a2.url];
    await waitUntil(() => Date.now() - since > 12_000 && fleet!.clients.every((c) => c.lastOkAt > since + 3000), 'heartbeats to flow under the new leader', 120_000);
    await fleet.stop();
    const totals = fleet.totals();
    result.figures.heartbeats = totals.ok;
    result.figures['failed attempts'] = totals.failures;

    const [rows] = await sql<{ total: number; open: number; reaped: number }>(
      databaseUrl,
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE disconnected_at IS NULL)::int AS open,
              count(*) FILTER (WHERE disconnected_at IS NOT NULL)::int AS reaped FROM connections`,
    );
    const sessionRows = await sql<{ id: string; state: string; active_connections: number }>(databaseUrl, 'SELECT id, state, active_connections FROM sessions WHERE namespace = $1', [ns]);
    const [{ hibernations }] = await sql<{ hibernations: number }>(databaseUrl, `SELECT count(*)::int AS hibernations FROM audit_log WHERE action = 'session.hibernate'`);
    result.figures['rows lost'] = size.connections - rows.total + (size.sessions - sessionRows.length);
    result.figures['connections ended'] = rows.reaped;
    result.figures['wrongful hibernations'] = hibernations;
    check(result, 'no connection row lost', rows.total === size.connections, rows);
    check(result, 'no connection ended', rows.open === size.connections && totals.refused === 0, { ...rows, refused: totals.refused });
    check(result, 'no session row lost, all running', sessionRows.length === size.sessions && sessionRows.every((s) => s.state === 'running'), sessionRows);
    check(result, 'counters intact', sessionRows.reduce((n, s) => n + s.active_connections, 0) === size.connections, sessionRows.map((s) => s.active_connections));
    check(result, 'no wrongful hibernation', hibernations === 0, { hibernations });
    check(result, 'every client reconnected by itself', fleet.clients.every((c) => c.switches >= 1 && c.lastOkAt > killedAt), { switches: totals.switches });
    const unexpected = Object.keys(totals.codes).filter((c) => c !== 'SERVICE_UNAVAILABLE');
    check(result, 'no unmasked or internal error during failover', unexpected.length === 0, totals.codes);
    return result;
  } finally {
    await fleet?.stop();
    for (const s of servers) await stopServer(s);
    await deleteNamespace(cluster.kubeConfig, ns);
  }
}
