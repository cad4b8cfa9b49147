import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { ConnectionEntity } from '../../src/modules/connections/connection.entity';
import type { TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn } from '../support/auth';
import { KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates } from '../connections/support';
import { startRealNodeApp } from './support';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/**
 * The session clocks (maxSessionDuration, startupTimeout, idle hibernation after the heartbeat reaper) acting on
 * pods that really run on the local cluster's real node.
 */
describe('session time limits on the real node: max duration, startup timeout, idle hibernation', function () {
  let app: TestApp;
  let admin: SignedIn;
  let A: Api;
  let core: CoreV1Api;
  let ns: string;
  let nodeName: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const started = await startRealNodeApp('realtimes', {
      // Short clocks: 3 s without heartbeat ends a connection; the reaper and hibernation timer look often.
      STREAMSPACE_HEARTBEAT_TIMEOUT: '3s',
      STREAMSPACE_REAPER_INTERVAL: '300ms',
      STREAMSPACE_IDLE_TIMEOUT: '1h',
      STREAMSPACE_HIBERNATION_INTERVAL: '300ms',
    });
    const real = started.real;
    ({ app, ns, core } = started);
    nodeName = real.nodeName;
    admin = await signInAsAdmin(app);
    A = new Api(app, await createUserAndToken(app, 'user'));
    const webapp = (name: string, env: Record<string, string> = {}) => `
apiVersion: stream.space/v1alpha1
kind: Template
metadata: { name: ${name} }
spec:
  displayName: ${name}
  baseImage: ${real.images.webapp}
  appType: webapp
  webapp:
    port: 8080
    healthCheck: { path: /healthz, initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 1 }
  env: ${JSON.stringify(Object.entries(env).map(([n, value]) => ({ name: n, value })))}
`;
    await applyTemplates(app, admin, [webapp('real-web'), webapp('real-web-very-slow', { READY_AFTER_SECONDS: '60' })]);
  });

  after(async () => {
    await app?.stop();
  });

  async function sessionPods(sessionName: string) {
    return (await core.listNamespacedPod({ namespace: ns, labelSelector: `stream.streamspace.io/session=${sessionName}` })).items;
  }

  async function podGone(podName: string): Promise<boolean> {
    try {
      await core.readNamespacedPod({ name: podName, namespace: ns });
      return false;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return true;
      throw err;
    }
  }

  async function readyCondition(id: string): Promise<Condition & { phase: string; state: string }> {
    const { session } = await A.ok<{ session: { phase: string; state: string; message: string | null; conditions: Condition[] } }>(
      'query S($id: ID!) { session(id: $id) { phase state message conditions { type status reason message } } }',
      { id },
    );
    const ready = session.conditions.find((c) => c.type === 'Ready');
    expect(ready, JSON.stringify(session)).not.to.equal(undefined);
    return { ...ready!, phase: session.phase, state: session.state };
  }

  it('maxSessionDuration terminates a running session: its real pod is removed, the session is kept as Terminated history', async function () {
    this.timeout(180_000);
    const s = await A.createSession({ template: 'real-web', maxSessionDuration: '20s' });
    const running = await A.waitPhase(s.id, 'Running', 120_000);
    const pod = await core.readNamespacedPod({ name: running.podName!, namespace: ns });
    expect(pod.spec!.nodeName).to.equal(nodeName);
    expect(pod.status!.containerStatuses?.[0]?.ready).to.equal(true);

    const terminated = await A.waitPhase(s.id, 'Terminated', 90_000);
    expect(terminated.state).to.equal('terminated');
    const created = new Date((await A.ok<{ session: { createdAt: string } }>('query S($id: ID!) { session(id: $id) { createdAt } }', { id: s.id })).session.createdAt).getTime();
    expect(Date.now() - created, 'not terminated before its 20 s were up').to.be.greaterThanOrEqual(20_000 - 1500);
    await waitUntil(() => podGone(running.podName!), 'the pod to be deleted', 60_000);
    expect(await sessionPods(s.name)).to.deep.equal([]);
    expect(await readyCondition(s.id)).to.deep.include({ reason: 'Terminated', status: 'False', message: 'The session was terminated; its workload is removed' });
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${s.name}` });
    expect(events.items.map((e) => [e.reason, e.message])).to.deep.include(['MaxDurationExceeded', 'The session reached its maximum duration of 20s and was terminated']);
  });

  it('startupTimeout: a web app that answers /healthz only after 60 s fails with StartupTimeout while its container runs', async function () {
    this.timeout(180_000);
    const s = await A.createSession({ template: 'real-web-very-slow', startupTimeout: '15s' });
    // The container really starts on the node (so the failure is the probe, not the image or the schedule).
    await waitUntil(async () => (await sessionPods(s.name)).some((p) => p.spec?.nodeName === nodeName && !!p.status?.containerStatuses?.[0]?.state?.running), 'the container to run', 90_000);
    const failed = await A.waitPhase(s.id, 'Failed', 90_000);
    const ready = await readyCondition(s.id);
    expect(ready).to.deep.include({ reason: 'StartupTimeout', status: 'False', message: "The session's pod was not Ready within the startup timeout (15s)" });
    const pods = await sessionPods(failed.name);
    expect(pods.map((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status), 'the pod was indeed never Ready').to.deep.equal(['False']);

    // connectSession to it answers with the timeout reason at once.
    const res = await A.connectRaw(s.id);
    expect(res.errors?.[0].message, JSON.stringify(res.errors)).to.match(/StartupTimeout|startup timeout/);
    await A.ok('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('a connected session whose client stops heartbeating is reaped, then hibernated after its idleTimeout: the real pod is deleted', async function () {
    this.timeout(180_000);
    const s = await A.createSession({ template: 'real-web', idleTimeout: '3s' });
    const running = await A.waitPhase(s.id, 'Running', 120_000);
    const c = await A.connect(s.id);
    expect(c.session).to.deep.include({ phase: 'Running', activeConnections: 1, podName: running.podName });
    const during = await A.session(s.id);
    expect(during.idle).to.deep.include({ activeConnections: 1, hibernatesAt: null, idleTimeout: '3s' });

    // No heartbeat from here: the reaper ends the connection after STREAMSPACE_HEARTBEAT_TIMEOUT (3 s)...
    const repo = app.services.database.dataSource.getRepository(ConnectionEntity);
    await waitUntil(async () => (await repo.findOneByOrFail({ id: c.connectionId })).disconnectReason === 'reaper', 'the reaper to end the connection', 30_000);
    // ...and the session hibernates 3 s (idleTimeout) after that: scaled to zero, the pod deleted.
    await A.waitPhase(s.id, 'Hibernated', 60_000);
    await waitUntil(() => podGone(running.podName!), 'the pod to be deleted', 60_000);
    expect(await sessionPods(s.name)).to.deep.equal([]);
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'session.hibernate', resourceId: s.id });
    expect(audit?.changes).to.deep.include({ reason: 'idle', idleTimeout: '3s', idleTimeoutSource: 'session' });
    const ended = await repo.findOneByOrFail({ id: c.connectionId });
    const hibernatedAt = audit!.at.getTime();
    expect(hibernatedAt - ended.disconnectedAt!.getTime(), 'hibernated once the idle timeout after the disconnect was up').to.be.greaterThanOrEqual(3000 - 500);
    await A.ok('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });
});
