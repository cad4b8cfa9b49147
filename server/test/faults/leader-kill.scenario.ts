import { CustomObjectsApi } from '@kubernetes/client-node';
import { Client } from 'pg';
import { signIn, TEST_ADMIN } from '../support/auth';
import { createTestNamespace, getTestCluster } from '../support/kube';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates, QUICK_IDLE_TEMPLATE } from '../connections/support';
import { designTemplate, TestGitRepo } from '../catalog/git-fixture';
import { check, HeartbeatFleet, pool, remote, sigkill, sleep, spawnServer, sql, stopServer, type ScenarioResult, type SpawnedServer } from './fault-harness';

export interface LeaderKillSize {
  sessions: number;
  connectionsPerSession: number;
}

/**
 * Scenario 4: two replicas; every session's clients leave at once (no disconnect, heartbeats just stop), so the
 * reaper, then the hibernation timer (idle timeout 3 s) become due together, and a catalog repository is due for
 * its scheduled sync. The leader is SIGKILLed the moment its first idle hibernation is written, in the middle of
 * its timer run. The other replica takes over: every session is hibernated exactly once (one audited
 * session.hibernate each, never two), every connection ended once (counters exact), the repository synced once.
 */
export async function leaderKill(size: LeaderKillSize): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario: '4 leader killed with jobs due', size: `${size.sessions} sessions x ${size.connectionsPerSession} connections, 1 repository`, figures: {}, checks: [] };
  const cluster = await getTestCluster();
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const ns = await createTestNamespace('fault-leader');
  const databaseUrl = await createTestDatabase('fault_leader');
  const repo = new TestGitRepo('fault-leader');
  repo.write('templates/tools/notes/template.yaml', designTemplate('notes')).commit('one template');
  const env = {
    DATABASE_URL: databaseUrl,
    STREAMSPACE_CLUSTER: 'kubeconfig',
    KUBECONFIG: cluster.kubeconfigPath,
    STREAMSPACE_NAMESPACE: ns,
    STREAMSPACE_ADMIN_USERNAME: TEST_ADMIN.username,
    STREAMSPACE_ADMIN_PASSWORD: TEST_ADMIN.password,
    STREAMSPACE_LEADER_LEASE_DURATION: '3s',
    STREAMSPACE_HEARTBEAT_TIMEOUT: '6s',
    STREAMSPACE_REAPER_INTERVAL: '300ms',
    STREAMSPACE_HIBERNATION_INTERVAL: '300ms',
    STREAMSPACE_IDLE_TIMEOUT: '1h',
    STREAMSPACE_GIT_ALLOW_FILE: 'true',
    STREAMSPACE_QUOTA_MAX_SESSIONS: String(size.sessions + 5),
    STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: String(size.sessions + 5),
    STREAMSPACE_QUOTA_CPU: '1000',
    STREAMSPACE_QUOTA_MEMORY: '4000Gi',
  };
  const servers: SpawnedServer[] = [];
  let fleet: HeartbeatFleet | undefined;
  const leader = async () => {
    try {
      const lease = (await custom.getNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', namespace: ns, plural: 'leases', name: 'streamspace-leader' })) as { spec: { holderIdentity?: string | null } };
      return lease.spec.holderIdentity ?? '';
    } catch {
      return '';
    }
  };
  try {
    const a = await spawnServer(env);
    servers.push(a);
    await waitUntil(async () => (await leader()).includes(`-${a.child.pid}-`), 'replica A to lead', 60_000);
    const b = await spawnServer(env);
    servers.push(b);
    const admin = await signIn(remote(b.url), TEST_ADMIN.username, TEST_ADMIN.password);
    const api = new Api(remote(b.url), admin);
    await applyTemplates(remote(b.url), admin, [QUICK_IDLE_TEMPLATE]);
    // Sessions idle out 3 s after their last connection ends: connect at once, keep the connections alive.
    const live = new HeartbeatFleet([b.url], [], admin.headers, { intervalMs: 500, maxMs: 10 * 60_000, retryMs: 200 });
    fleet = live;
    live.start();
    const sessions = await pool(Array.from({ length: size.sessions }), 4, async () => {
      const s = await api.createSession({ template: 'quick-idle' });
      for (let i = 0; i < size.connectionsPerSession; i++) live.add((await api.connect(s.id)).connectionId);
      return s;
    });
    for (const s of sessions) await api.waitPhase(s.id, 'Running', 120_000);
    const added = await api.ok<{ addRepository: { id: string } }>('mutation($i: AddRepositoryInput!) { addRepository(input: $i) { id } }', {
      i: { name: 'fault-leader', url: repo.url, path: 'templates', syncInterval: '1h' },
    });
    const repositoryId = added.addRepository.id;
    const [{ before }] = await sql<{ before: number }>(databaseUrl, `SELECT count(*)::int AS before FROM audit_log WHERE action = 'session.hibernate'`);
    check(result, 'nothing hibernated before the clients left', before === 0, { before });

    // The clients vanish (no disconnect); wait for A's first idle hibernation and kill A right then.
    await fleet.stop();
    const leftAt = Date.now();
    // Polled every 20 ms on one connection, so the kill lands while A is still going through the sessions.
    const watcher = new Client({ connectionString: databaseUrl });
    await watcher.connect();
    try {
      const deadline = Date.now() + 120_000;
      while ((await watcher.query(`SELECT 1 FROM audit_log WHERE action = 'session.hibernate' LIMIT 1`)).rowCount === 0) {
        if (Date.now() > deadline) throw new Error("timed out waiting for the leader's first idle hibernation");
        await sleep(20);
      }
    } finally {
      await watcher.end();
    }
    await sigkill(a);
    const killedAt = Date.now();
    const [{ byA }] = await sql<{ byA: number }>(databaseUrl, `SELECT count(*)::int AS "byA" FROM audit_log WHERE action = 'session.hibernate'`);
    result.figures['hibernated by the killed leader'] = byA;
    result.figures['kill after clients left ms'] = killedAt - leftAt;

    await waitUntil(async () => (await leader()).includes(`-${b.child.pid}-`), 'replica B to take over', 60_000);
    await waitUntil(
      async () => (await sql(databaseUrl, `SELECT 1 FROM sessions WHERE namespace = $1 AND state = 'running'`, [ns])).length === 0,
      'every session to be hibernated',
      120_000,
    );
    await waitUntil(async () => (await sql(databaseUrl, `SELECT 1 FROM repositories WHERE id = $1 AND last_sync_at IS NOT NULL`, [repositoryId])).length > 0, 'the repository to be synced', 120_000);
    result.figures['all done after kill ms'] = Date.now() - killedAt;
    // A later run of the timer on B, to prove nothing more is coming: a sentinel session hibernates after all others.
    // A new session (a plain launch would wake one of the hibernated ones).
    const sentinel = await api.createSession({ template: 'quick-idle', newSession: true });
    await api.waitPhase(sentinel.id, 'Running', 120_000);
    await api.waitPhase(sentinel.id, 'Hibernated', 120_000);

    const perSession = await sql<{ resource_id: string; n: number }>(
      databaseUrl,
      `SELECT resource_id, count(*)::int AS n FROM audit_log WHERE action = 'session.hibernate' GROUP BY resource_id`,
    );
    const counts = new Map(perSession.map((r) => [r.resource_id, r.n]));
    const twice = sessions.filter((s) => (counts.get(s.id) ?? 0) > 1).length;
    const never = sessions.filter((s) => !counts.has(s.id)).length;
    result.figures['hibernations twice'] = twice;
    result.figures['hibernations unaudited'] = never;
    check(result, 'every session hibernated exactly once', twice === 0 && never === 0, Object.fromEntries(counts));
    const connRows = await sql<{ session_id: string; active: number; total: number; ended: number; active_connections: number; total_connections: number }>(
      databaseUrl,
      `SELECT s.id AS session_id, s.active_connections, s.total_connections,
              count(c.id) FILTER (WHERE c.disconnected_at IS NULL)::int AS active, count(c.id)::int AS total,
              count(c.id) FILTER (WHERE c.disconnected_at IS NOT NULL)::int AS ended
         FROM sessions s LEFT JOIN connections c ON c.session_id = s.id WHERE s.namespace = $1 AND s.id <> $2 GROUP BY s.id`,
      [ns, sentinel.id],
    );
    check(
      result,
      'every connection ended once, counters exact',
      connRows.length === size.sessions && connRows.every((r) => r.active === 0 && r.active_connections === 0 && r.total === size.connectionsPerSession && r.total_connections === size.connectionsPerSession),
      connRows,
    );
    const [{ syncs }] = await sql<{ syncs: number }>(databaseUrl, `SELECT count(*)::int AS syncs FROM audit_log WHERE action = 'repository.sync' AND resource_id = $1`, [repositoryId]);
    result.figures['repository syncs'] = syncs;
    check(result, 'the due repository synced exactly once', syncs === 1, { syncs });
    return result;
  } finally {
    await fleet?.stop();
    for (const s of servers) await stopServer(s);
    repo.cleanup();
  }
}
