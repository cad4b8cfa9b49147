import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { createTestNamespace, getTestCluster } from '../support/kube';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates, firefoxYaml, subscribe } from '../connections/support';
import { check, KubeFaultProxy, pool, type ScenarioResult } from './fault-harness';

export interface WatchGoneSize {
  sessions: number;
  subscribers: number;
  /** How long the "restarted" API server refuses connections. */
  downMs: number;
}

interface Change {
  mySessionsChanged: { type: string; session: { id: string; state: string } };
}

/**
 * Scenario 3: the server reaches the kube-apiserver through a loopback proxy that "restarts" it (every
 * connection cut, new ones refused for a while) and then answers each collection's first watch with 410 Gone.
 * While nobody watched, every session was set to hibernated straight in the API server. Every collection that
 * was watched is listed again, and every subscriber learns of every change (convergence is awaited; the bench
 * prints how long it took after the API server came back).
 */
export async function watchGone(size: WatchGoneSize): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario: '3 API server restart, watch 410 Gone', size: `${size.sessions} sessions, ${size.subscribers} subscribers, ${size.downMs / 1000} s down`, figures: {}, checks: [] };
  const cluster = await getTestCluster();
  const direct = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const proxy = new KubeFaultProxy(cluster.kubeConfig);
  await proxy.start();
  const ns = await createTestNamespace('fault-gone');
  let app: TestApp | undefined;
  const subs: ReturnType<typeof subscribe<Change>>[] = [];
  try {
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: proxy.writeKubeconfig(),
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '30s',
      STREAMSPACE_QUOTA_MAX_SESSIONS: String(size.sessions + 5),
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: String(size.sessions + 5),
      STREAMSPACE_QUOTA_CPU: '1000',
      STREAMSPACE_QUOTA_MEMORY: '4000Gi',
      STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER: String(size.subscribers + 5),
    });
    const admin = await signInAsAdmin(app);
    const api = new Api(app, admin);
    await applyTemplates(app, admin, [firefoxYaml()]).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(app!.logs.filter((l) => Number(l.level) >= 50).slice(-5))}`, { cause: err });
    });
    const sessions = await pool(Array.from({ length: size.sessions }), 4, () => api.createSession({ template: 'firefox' }));
    for (const s of sessions) await api.waitPhase(s.id, 'Running', 120_000);
    await waitUntil(() => app!.services.jobs.active, 'the app to lead');
    const watchedBefore = [...proxy.watches.keys()].sort();
    for (let i = 0; i < size.subscribers; i++) {
      subs.push(subscribe<Change>(app.wsUrl, admin.accessToken, 'subscription { mySessionsChanged { type session { id state } } }', {}));
    }
    // Subscribed: a change made through the API reaches every subscriber.
    const probe = sessions[0];
    await api.ok('mutation($id: ID!) { hibernateSession(id: $id) { id } }', { id: probe.id });
    await waitUntil(() => subs.every((s) => s.events.some((e) => e.mySessionsChanged.session.id === probe.id && e.mySessionsChanged.session.state === 'hibernated')), 'every subscriber to be live', 60_000);
    const rest = sessions.slice(1);

    // The API server goes away; meanwhile the sessions are hibernated behind the server's back.
    const restart = proxy.restart(size.downMs);
    await pool(rest, 4, (s) =>
      direct.patchNamespacedCustomObject(
        { group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'sessions', name: s.name, body: { spec: { state: 'hibernated' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    await restart;
    const backAt = Date.now();
    const converged = () =>
      subs.every((sub) => rest.every((s) => sub.events.some((e) => e.mySessionsChanged.session.id === s.id && e.mySessionsChanged.session.state === 'hibernated')));
    await waitUntil(converged, 'every subscriber to see every hibernation made while the watch was down', 120_000);
    result.figures['converged after ms'] = Date.now() - backAt;
    await waitUntil(() => watchedBefore.every((p) => (proxy.lists.get(p) ?? 0) >= 1 && (proxy.watches.get(p) ?? 0) >= 2), 'every collection to be listed and watched again', 60_000);
    result.figures['410s served'] = proxy.gone;
    result.figures['collections relisted'] = watchedBefore.filter((p) => (proxy.lists.get(p) ?? 0) >= 1).length;
    check(result, 'every watched collection got a 410 and was listed again', watchedBefore.length > 0 && watchedBefore.every((p) => (proxy.lists.get(p) ?? 0) >= 1), { watchedBefore, lists: Object.fromEntries(proxy.lists) });
    check(result, 'every subscriber converged', converged(), '');
    check(result, 'no subscription error', subs.every((s) => s.errors.length === 0 && !s.completed), subs.flatMap((s) => s.errors).slice(0, 3));
    // The reconciler acted on the changes it missed (this throws when it did not).
    await waitUntil(async () => (await Promise.all(rest.map(async (s) => (await api.session(s.id)).phase))).every((p) => p === 'Hibernated'), 'the sessions to reach Hibernated', 120_000);
    return result;
  } finally {
    for (const s of subs) await s.close().catch(() => undefined);
    await app?.stop();
    await proxy.stop();
  }
}
