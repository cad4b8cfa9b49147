import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { isNotFound } from '../../src/platform/kube/kube-errors';
import { ConnectionEntity } from '../../src/modules/connections/connection.entity';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { HEARTBEAT_REAPER_JOB } from '../../src/modules/connections/jobs/heartbeat-reaper.job';
import { HIBERNATION_TIMER_JOB } from '../../src/modules/connections/jobs/hibernation-timer.job';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { createTestDatabase } from '../support/postgres';
import { Api, applyTemplates, firefoxYaml, HUGE_TEMPLATE, QUICK_IDLE_TEMPLATE, SHARED_TEMPLATE, subscribe, type Sess } from './support';

const group = 'stream.streamspace.io';
const version = 'v1alpha1';

describe('connections on the real control plane', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let A: Api;
  let B: Api;
  let C: Api;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('connections');
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    app = await startTestApp({
      DATABASE_URL: await createTestDatabase('connections'),
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_RECONCILE_RESYNC: '30s',
      // Short clocks for tests: 3 s without heartbeat ends a connection; 4 s idle hibernates by default.
      STREAMSPACE_HEARTBEAT_TIMEOUT: '3s',
      STREAMSPACE_REAPER_INTERVAL: '300ms',
      STREAMSPACE_IDLE_TIMEOUT: '4s',
      STREAMSPACE_HIBERNATION_INTERVAL: '300ms',
      STREAMSPACE_AUTOSCALER_INTERVAL: '300ms',
      STREAMSPACE_AUTOSCALE_COOLDOWN: '2s',
      STREAMSPACE_QUOTA_MAX_SESSIONS: '50',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '20',
      STREAMSPACE_QUOTA_CPU: '2000',
      STREAMSPACE_QUOTA_MEMORY: '256Gi',
    });
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app);
    bob = await createUserAndToken(app);
    carol = await createUserAndToken(app);
    [A, B, C] = [new Api(app, alice), new Api(app, bob), new Api(app, carol)];
    await applyTemplates(app, admin, [firefoxYaml(), SHARED_TEMPLATE, HUGE_TEMPLATE, QUICK_IDLE_TEMPLATE]);
  });
  after(async () => {
    await app?.stop();
  });

  type ConnectionObject = { metadata: { creationTimestamp?: string }; spec: Record<string, unknown>; status?: { state?: string; lastActivity?: string } };
  const readConnection = async (name: string) => (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'connections', name })) as ConnectionObject;
  const connectionExists = (name: string) => readConnection(name).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err as Error)));

  /** The Connection object of a connection, once the background write has made it (and its status). */
  async function connectionObject(name: string): Promise<ConnectionObject> {
    let obj: ConnectionObject | undefined;
    await waitUntil(async () => (obj = await readConnection(name).catch(() => undefined))?.status?.state !== undefined, `the Connection object ${name}`);
    return obj!;
  }

  async function sessionObject(name: string) {
    return (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name })) as {
      spec: Record<string, unknown>;
      status?: Record<string, unknown>;
      metadata: { annotations?: Record<string, string> };
    };
  }

  async function patchSessionSpec(name: string, spec: Record<string, unknown>) {
    await custom.patchNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  async function readyPods(name: string) {
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `stream.streamspace.io/session=${name}` })).items;
    return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }

  let first: Sess;

  it('connects to a running session at once: row, Connection object, Session status counts, audit', async () => {
    // A long idle timeout: this session must not hibernate while later tests use it.
    first = await A.createSession({ template: 'firefox', idleTimeout: '1h' });
    await A.waitPhase(first.id, 'Running');
    const c = await A.connect(first.id, 'Mozilla/5.0 (test)');
    // The gateway is on by default: a single-use ticket URL on the session's own host of the apps domain
    // (test/gateway covers what the gateway does with it); the session's own URL stays inside the cluster.
    expect(c.url).to.match(/^http:\/\/[a-z2-7]{26}\.apps\.localhost:\d+\/\.streamspace\/redeem\?ticket=[\w-]{43}&next=%2F$/);
    expect(c.session.url).to.match(/^http:\/\/.+\.svc:3000\/$/);
    // STREAMSPACE_HEARTBEAT_TIMEOUT is 3s here and no interval is set: clients are asked for one every 1.5 s (floored).
    expect(c.heartbeatIntervalSeconds).to.equal(1);
    expect(c.session).to.deep.include({ id: first.id, activeConnections: 1, totalConnections: 1 });
    expect(c.session.lastConnection).to.be.a('string');

    const row = await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId });
    expect(row).to.deep.include({ sessionId: first.id, userId: alice.id, userAgent: 'Mozilla/5.0 (test)', disconnectedAt: null });
    expect(row.clientIp).to.equal('127.0.0.1');

    // The Connection object is written after the answer (the table is the record), in a moment.
    const obj = await connectionObject(c.connectionId);
    expect(obj.spec).to.deep.include({ session: first.name, user: alice.username, clientIP: '127.0.0.1', userAgent: 'Mozilla/5.0 (test)' });
    expect(obj.spec.connectedAt).to.be.a('string');
    expect(obj.status?.state).to.equal('Active');

    await waitUntil(async () => (await sessionObject(first.name)).status?.activeConnections === 1, 'Session status activeConnections 1');
    expect((await sessionObject(first.name)).status).to.include.keys('totalConnections', 'lastConnection');

    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'connection.connect', resourceId: first.id });
    expect(audit?.actorUsername).to.equal(alice.username);
    // Written by the connect's own statement, with what that statement computed.
    expect(audit?.changes).to.deep.equal({ session: first.name, connectionId: c.connectionId, activeConnections: 1 });

    const listed = await A.connections(first.id, false);
    expect(listed.data!.sessionConnections.map((x) => x.id)).to.deep.equal([c.connectionId]);
    expect(listed.data!.sessionConnections[0]).to.deep.include({ user: alice.username, clientIp: '127.0.0.1' });

    // Heartbeats are accepted; disconnect ends it, counts follow, and the end is audited.
    expect((await A.heartbeat(c.connectionId)).data?.heartbeat).to.equal(true);
    const ended = await A.disconnect(c.connectionId);
    expect(ended.data?.disconnectSession).to.deep.include({ id: c.connectionId, disconnectReason: 'client' });
    // The table row follows at once; the Session status (and its mirror) a moment later.
    let after = await A.session(first.id);
    await waitUntil(async () => (after = await A.session(first.id)).activeConnections === 0, 'activeConnections 0');
    expect(after).to.deep.include({ activeConnections: 0, totalConnections: 1 });
    expect(after.lastDisconnect).to.be.a('string');
    expect((await A.heartbeat(c.connectionId)).errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    expect((await app.services.database.dataSource.getRepository(AuditLogEntity).countBy({ action: 'connection.disconnect', resourceId: first.id }))).to.equal(1);
    expect(await app.services.database.dataSource.getRepository(AuditLogEntity).countBy({ action: 'heartbeat' })).to.equal(0);
    await waitUntil(async () => (await sessionObject(first.name)).status?.activeConnections === 0, 'Session status activeConnections 0');
  });

  it('repairs the Connection objects it writes in the background: a missing one is written again, a leftover deleted', async () => {
    const c = await A.connect(first.id);
    await connectionObject(c.connectionId);
    // Lost (say its replica died before the write): the reaper's repair writes it again.
    await custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'connections', name: c.connectionId });
    await waitUntil(async () => !(await connectionExists(c.connectionId)), 'the object gone');
    expect(await app.services.connections.repairObject(c.connectionId)).to.equal(true);
    expect((await connectionObject(c.connectionId)).spec).to.deep.include({ session: first.name, user: alice.username });
    // A delete that overtook its create (on another replica) leaves an object of an ended connection: swept.
    await A.disconnect(c.connectionId);
    await waitUntil(async () => !(await connectionExists(c.connectionId)), 'the object deleted with the connection');
    await app.services.connections.objects.create(
      await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId }),
      (await app.services.database.dataSource.getRepository(SessionEntity).findOneByOrFail({ id: first.id })),
      alice.username,
    );
    expect(await connectionExists(c.connectionId)).to.equal(true);
    expect(await app.services.connections.repairObject(c.connectionId), 'an ended connection is not repaired').to.equal(false);
    expect(await app.services.connections.sweepObjects()).to.be.at.least(1);
    expect(await connectionExists(c.connectionId)).to.equal(false);
  });

  it("only the owner (or an admin) sees or acts on a session's connections: others get NOT_FOUND", async () => {
    const c = await A.connect(first.id);
    const notFound = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).to.equal('NOT_FOUND');
    notFound(await B.connectRaw(first.id));
    notFound(await B.heartbeat(c.connectionId));
    notFound(await B.disconnect(c.connectionId));
    notFound(await B.connections(first.id));
    const sub = subscribe(app.wsUrl, bob.accessToken, 'subscription($id: ID!) { connectionCountChanged(sessionId: $id) { activeConnections } }', { id: first.id });
    await waitUntil(() => sub.errors.length > 0, 'the subscription to be refused');
    expect(JSON.stringify(sub.errors)).to.contain('NOT_FOUND');
    await sub.close();
    // The admin may list them; the connection is untouched by Bob's attempts.
    const adminView = await new Api(app, admin).connections(first.id, false);
    expect(adminView.data!.sessionConnections.map((x) => x.id)).to.deep.equal([c.connectionId]);
    expect((await A.disconnect(c.connectionId)).data?.disconnectSession.disconnectReason).to.equal('client');
  });

  it('sendBeacon endpoint: the per-connection token ends that connection; a wrong token does not', async () => {
    const c = await A.connect(first.id);
    const url = `${app.url}/api/connections/${c.connectionId}/disconnect`;
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: 'not-the-token' });
    expect(wrong.status).to.equal(404);
    expect((await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId })).disconnectedAt).to.equal(null);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: c.beaconToken });
    expect(res.status).to.equal(204);
    const row = await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId });
    expect(row.disconnectReason).to.equal('beacon');
    await waitUntil(async () => (await A.session(first.id)).activeConnections === 0, 'activeConnections 0 after the beacon');
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findBy({ action: 'connection.disconnect', resourceId: first.id });
    expect(audit.some((a) => (a.changes as { reason?: string }).reason === 'beacon' && a.actorUsername === alice.username)).to.equal(true);
  });

  it('sessionUpdated carries the connection counts', async () => {
    const sub = subscribe<{ sessionUpdated: { id: string; activeConnections: number; totalConnections: number } }>(
      app.wsUrl,
      alice.accessToken,
      'subscription($id: ID!) { sessionUpdated(id: $id) { id activeConnections totalConnections } }',
      { id: first.id },
    );
    let c = await A.connect(first.id);
    await waitUntil(async () => {
      if (sub.events.some((e) => e.sessionUpdated.activeConnections === 1)) return true;
      await A.disconnect(c.connectionId);
      c = await A.connect(first.id);
      return false;
    }, 'a sessionUpdated event with activeConnections 1');
    await A.disconnect(c.connectionId);
    await waitUntil(() => sub.events.at(-1)?.sessionUpdated.activeConnections === 0, 'a sessionUpdated event with activeConnections 0');
    await sub.close();
  });

  it('connectionCountChanged streams the counts to the owner on connect and disconnect', async () => {
    const sub = subscribe<{ connectionCountChanged: { sessionId: string; activeConnections: number; totalConnections: number } }>(
      app.wsUrl,
      alice.accessToken,
      'subscription($id: ID!) { connectionCountChanged(sessionId: $id) { sessionId activeConnections totalConnections } }',
      { id: first.id },
    );
    // The subscription is registered once a mutation's event arrives; connect until one does.
    let c = await A.connect(first.id);
    await waitUntil(async () => {
      if (sub.events.length) return true;
      await A.disconnect(c.connectionId);
      c = await A.connect(first.id);
      return false;
    }, 'a first connectionCountChanged event');
    await A.disconnect(c.connectionId);
    await waitUntil(() => sub.events.at(-1)?.connectionCountChanged.activeConnections === 0, 'the disconnect event');
    expect(sub.events.every((e) => e.connectionCountChanged.sessionId === first.id)).to.equal(true);
    expect(sub.errors).to.deep.equal([]);
    await sub.close();
  });

  it('maxConnections refuses the extra connection with a typed error naming the limit', async () => {
    const bad = await A.raw('mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }', { input: { template: 'firefox', minConnections: 3, maxConnections: 2 } });
    expect(bad.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    const s = await A.createSession({ template: 'firefox', idleTimeout: '1h', maxConnections: 1, minConnections: 0 });
    await A.waitPhase(s.id, 'Running');
    const c = await A.connect(s.id);
    const refused = await A.connectRaw(s.id);
    expect(refused.errors?.[0].extensions?.code).to.equal('LIMIT_EXCEEDED');
    expect(refused.errors?.[0].extensions?.details).to.deep.include({ limit: 'maxConnections', maximum: 1, active: 1, source: 'session' });
    expect(refused.errors?.[0].message).to.contain('maxConnections');
    await A.disconnect(c.connectionId);
    // minConnections 0: it never idles, even with nobody connected.
    const idle = await A.session(s.id);
    expect(idle.idle.hibernatesAt).to.equal(null);
    expect(idle.idle.reason).to.contain('minConnections is 0');
    // A limit set on the object later (kubectl) counts too.
    await patchSessionSpec(first.name, { maxConnections: 1 });
    await waitUntil(async () => {
      const row = await app.services.database.dataSource.query('SELECT spec FROM sessions WHERE id = $1', [first.id]);
      return (row as { spec: { maxConnections?: number } }[])[0].spec.maxConnections === 1;
    }, 'the mirror to carry maxConnections');
    const c1 = await A.connect(first.id);
    expect((await A.connectRaw(first.id)).errors?.[0].extensions?.code).to.equal('LIMIT_EXCEEDED');
    await A.disconnect(c1.connectionId);
    await patchSessionSpec(first.name, { maxConnections: null });
  });

  it('maxConnections holds when clients race for the last slots: exactly the limit gets in, the counters agree with the table', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '1h', maxConnections: 2, minConnections: 0 });
    await A.waitPhase(s.id, 'Running');
    // All six pass the early check (nobody is connected yet); the statement's check under the row lock decides.
    const answers = await Promise.all(Array.from({ length: 6 }, () => A.connectRaw(s.id)));
    const admitted = answers.filter((a) => !a.errors).map((a) => (a.data as { connectSession: { connectionId: string } }).connectSession.connectionId);
    const refused = answers.filter((a) => a.errors);
    expect(admitted).to.have.length(2);
    expect(refused.map((r) => r.errors?.[0].extensions?.code)).to.deep.equal(Array(4).fill('LIMIT_EXCEEDED'));
    expect(refused[0].errors?.[0].extensions?.details).to.deep.include({ limit: 'maxConnections', maximum: 2, active: 2 });
    const [row] = (await app.services.database.dataSource.query(
      `SELECT s.active_connections, s.total_connections, (SELECT count(*)::int FROM connections c WHERE c.session_id = s.id AND c.disconnected_at IS NULL) AS open
       FROM sessions s WHERE s.id = $1`,
      [s.id],
    )) as { active_connections: number; total_connections: number; open: number }[];
    expect(row).to.deep.equal({ active_connections: 2, total_connections: 2, open: 2 });
    for (const id of admitted) await A.disconnect(id);
    await A.ok('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('connecting to a hibernated session wakes it and returns the URL only once the pod is Ready; sessionProgress streams the start-up', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '1h' });
    await A.waitPhase(s.id, 'Running');
    await A.ok('mutation H($id: ID!) { hibernateSession(id: $id) { id } }', { id: s.id });
    await A.waitPhase(s.id, 'Hibernated');
    expect(await readyPods(s.name)).to.have.length(0);

    const progress = subscribe<{ sessionProgress: { phase: string; message: string; podName: string | null } }>(
      app.wsUrl,
      alice.accessToken,
      'subscription($id: ID!) { sessionProgress(id: $id) { phase message podName at } }',
      { id: s.id },
    );
    await waitUntil(() => progress.events.length > 0 || progress.errors.length > 0, 'the first progress step');
    const c = await A.connect(s.id);
    // At the moment connectSession answered, the pod was Ready and the session Running.
    expect((await readyPods(s.name)).length).to.be.greaterThan(0);
    expect(c.session.phase).to.equal('Running');
    expect(c.session.state).to.equal('running');
    expect(c.url).to.contain('/.streamspace/redeem?ticket=');
    expect(c.session.activeConnections).to.equal(1);
    await waitUntil(() => progress.completed, 'the progress stream to end after READY');
    const phases = progress.events.map((e) => e.sessionProgress.phase);
    expect(phases[0]).to.equal('WAITING');
    expect(phases.at(-1)).to.equal('READY');
    expect(phases, JSON.stringify(progress.events)).to.include('SCHEDULED');
    expect(progress.errors).to.deep.equal([]);
    await progress.close();
    const woke = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'session.wake', resourceId: s.id });
    expect((woke?.changes as { reason?: string }).reason).to.equal('connect');
    await A.disconnect(c.connectionId);
  });

  it('autoStart: off refuses to wake; a terminated session is replaced by a new one of the same template', async () => {
    const h = await A.createSession({ template: 'firefox', idleTimeout: '1h' });
    await A.waitPhase(h.id, 'Running');
    await A.ok('mutation H($id: ID!) { hibernateSession(id: $id) { id } }', { id: h.id });
    await A.waitPhase(h.id, 'Hibernated');
    await patchSessionSpec(h.name, { autoStart: false });
    await waitUntil(async () => {
      const row = await app.services.database.dataSource.query('SELECT spec FROM sessions WHERE id = $1', [h.id]);
      return (row as { spec: { autoStart?: boolean } }[])[0].spec.autoStart === false;
    }, 'the mirror to carry autoStart: false');
    const refused = await A.connectRaw(h.id);
    expect(refused.errors?.[0].extensions?.code).to.equal('CONFLICT');
    expect(refused.errors?.[0].message).to.contain('autoStart is off');
    expect((await A.session(h.id)).state).to.equal('hibernated');

    const t = await A.createSession({ template: 'firefox', idleTimeout: '1h', maxSessionDuration: '2s' });
    await A.waitPhase(t.id, 'Terminated');
    const c = await A.connect(t.id);
    expect(c.session.id).not.to.equal(t.id);
    expect(c.session).to.deep.include({ state: 'running', phase: 'Running', activeConnections: 1 });
    expect((await A.session(t.id)).state).to.equal('terminated');
    await A.disconnect(c.connectionId);
    await A.ok('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: c.session.id });
  });

  it('a pod that cannot be scheduled fails the connect with a timeout error saying why', async () => {
    const s = await A.createSession({ template: 'too-big', startupTimeout: '3s' });
    const res = await A.connectRaw(s.id);
    expect(res.errors?.[0].extensions?.code, JSON.stringify(res.errors)).to.equal('TIMEOUT');
    expect(res.errors?.[0].extensions?.details).to.deep.include({ reason: 'Unschedulable', startupTimeoutSeconds: 3 });
    expect(res.errors?.[0].message).to.match(/not ready within its startup timeout of 3s: Pod .* cannot be scheduled/);
  });

  it('heartbeats stopped: the reaper ends the connection, then the session hibernates after its idleTimeout', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '3s' });
    await A.waitPhase(s.id, 'Running');
    const c = await A.connect(s.id);
    const during = await A.session(s.id);
    expect(during.idle).to.deep.include({ activeConnections: 1, hibernatesAt: null, idleTimeout: '3s', idleTimeoutSource: 'session' });
    expect(during.idle.reason).to.contain('1 active connection keeps the session running');
    // No heartbeat: reaped once 3 s (STREAMSPACE_HEARTBEAT_TIMEOUT) have passed.
    await waitUntil(async () => (await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId })).disconnectReason === 'reaper', 'the reaper to end the connection');
    const idle = await A.session(s.id);
    expect(idle.activeConnections).to.equal(0);
    if (idle.state === 'running') {
      expect(idle.idle.hibernatesAt).to.be.a('string');
      expect(new Date(idle.idle.hibernatesAt!).getTime()).to.equal(new Date(idle.lastDisconnect!).getTime() + 3000);
      expect(idle.idle.reason).to.contain('No active connections since');
    }
    await A.waitPhase(s.id, 'Hibernated');
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'session.hibernate', resourceId: s.id });
    expect(audit?.changes).to.deep.include({ reason: 'idle', idleTimeout: '3s', idleTimeoutSource: 'session' });
    expect(audit?.actorUsername).to.equal(null);
    // Hibernated sessions explain themselves too.
    expect((await A.session(s.id)).idle.reason).to.contain('hibernated');
  });

  it('an idle hibernation is audited once per idle episode: a row a dying leader wrote before its patch is not written again', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '1h' });
    await A.waitPhase(s.id, 'Running');
    const ds = app.services.database.dataSource;
    const row = await ds.getRepository(SessionEntity).findOneByOrFail({ id: s.id });
    const idleSince = new Date(Date.now() - 1000);
    const change = { action: 'session.hibernate' as const, actor: null, details: { reason: 'idle' }, auditOnceSince: idleSince };
    // What a leader killed between its audit row and its patch leaves behind; the next leader's run repeats the change.
    await app.services.audit.record({ action: 'session.hibernate', resourceType: 'session', resourceId: s.id, actor: null, changes: { reason: 'idle' } });
    await app.services.sessions.changeState(row, 'hibernated', change);
    await A.waitPhase(s.id, 'Hibernated');
    expect(await ds.getRepository(AuditLogEntity).countBy({ action: 'session.hibernate', resourceId: s.id })).to.equal(1);
    // A later episode (woken, idle again) gets its own row, written before the patch.
    await A.ok('mutation($id: ID!) { wakeSession(id: $id) { id } }', { id: s.id });
    await A.waitPhase(s.id, 'Running');
    const woken = await ds.getRepository(SessionEntity).findOneByOrFail({ id: s.id });
    await app.services.sessions.changeState(woken, 'hibernated', { ...change, auditOnceSince: new Date() });
    expect(await ds.getRepository(AuditLogEntity).countBy({ action: 'session.hibernate', resourceId: s.id })).to.equal(2);
  });

  it("without a session idleTimeout the template's applies (else the server default)", async () => {
    const s = await A.createSession({ template: 'quick-idle' });
    const running = await A.waitPhase(s.id, 'Running');
    expect(running.state).to.equal('running');
    const before = await A.session(s.id);
    if (before.state === 'running') expect(before.idle).to.deep.include({ idleTimeout: '3s', idleTimeoutSource: 'template' });
    // Never connected: it hibernates 3 s after becoming Running.
    await A.waitPhase(s.id, 'Hibernated');
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'session.hibernate', resourceId: s.id });
    expect(audit?.changes).to.deep.include({ idleTimeout: '3s', idleTimeoutSource: 'template' });
    // A page of sessions explains each one (batched: one query and one template list per request).
    const page = await A.ok<{ sessions: { edges: { node: { id: string; idle: { idleTimeout: string; idleTimeoutSource: string; reason: string } } }[] } }>(
      '{ sessions(first: 50) { edges { node { id idle { idleTimeout idleTimeoutSource reason } } } } }',
    );
    const idleById = new Map(page.sessions.edges.map((e) => [e.node.id, e.node.idle]));
    expect(idleById.get(first.id)).to.deep.include({ idleTimeout: '1h', idleTimeoutSource: 'session' });
    expect(idleById.get(s.id)).to.deep.include({ idleTimeout: '3s', idleTimeoutSource: 'template' });
    expect(idleById.get(s.id)!.reason).to.contain('hibernated');
  });

  it('the hibernation timer leaves a session whose idle deadline is ahead untouched (no write per run)', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '1h' });
    await A.waitPhase(s.id, 'Running');
    const ds = app.services.database.dataSource;
    const xmin = async () => ((await ds.query('SELECT xmin::text AS v FROM sessions WHERE id = $1', [s.id])) as { v: string }[])[0].v;
    // Its row settles once the start-up's watch events are in.
    await app.services.sessionRuntime.sessionTable?.flush();
    const jobs = app.services.jobs;
    const runs = jobs.jobStats(HIBERNATION_TIMER_JOB)!.runs;
    const before = await xmin();
    await waitUntil(() => jobs.jobStats(HIBERNATION_TIMER_JOB)!.runs >= runs + 5, 'five runs of the hibernation timer', 30_000);
    // Idle (no connection) with a deadline an hour ahead: the timer decided from the row it read, without a recount.
    expect((await A.session(s.id)).idle.hibernatesAt).to.be.a('string');
    expect(await xmin()).to.equal(before);
    expect((await A.session(s.id)).state).to.equal('running');
  });

  it('a session with live heartbeats is never hibernated', async () => {
    const s = await A.createSession({ template: 'firefox', idleTimeout: '2s' });
    await A.waitPhase(s.id, 'Running');
    const c = await A.connect(s.id);
    const jobs = app.services.jobs;
    const start = Date.now();
    const base = { reaper: jobs.jobStats(HEARTBEAT_REAPER_JOB)!.runs, timer: jobs.jobStats(HIBERNATION_TIMER_JOB)!.runs };
    // Heartbeat (faster than the 3 s timeout) until both jobs ran many times and well past idleTimeout + heartbeat timeout.
    await waitUntil(
      async () => {
        const hb = await A.heartbeat(c.connectionId);
        expect(hb.data?.heartbeat, JSON.stringify(hb.errors)).to.equal(true);
        const r = jobs.jobStats(HEARTBEAT_REAPER_JOB)!;
        const t = jobs.jobStats(HIBERNATION_TIMER_JOB)!;
        return r.runs >= base.reaper + 10 && t.runs >= base.timer + 10 && t.lastRunAt!.getTime() > start + 2 * (2000 + 3000);
      },
      'the jobs to run repeatedly while heartbeats flow',
      120_000,
    );
    const after = await A.session(s.id);
    expect(after).to.deep.include({ state: 'running', phase: 'Running', activeConnections: 1 });
    expect(after.idle.hibernatesAt).to.equal(null);
    const row = await app.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId });
    expect(row.disconnectedAt).to.equal(null);
    // Heartbeat times reach the Connection object (coarsely, never once per heartbeat).
    await waitUntil(async () => {
      const obj = (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'connections', name: c.connectionId })) as { status?: { lastActivity?: string } };
      return new Date(obj.status?.lastActivity ?? 0).getTime() > new Date(row.connectedAt).getTime();
    }, 'lastActivity on the Connection object');
    await A.disconnect(c.connectionId);
  });

  it('autoscaling follows connections on a multi-user template (up at once, down after the cool-down)', async () => {
    const s = await A.createSession({ template: 'shared-board', idleTimeout: '1h' });
    await A.waitPhase(s.id, 'Running');
    const replicas = async () => (await apps.readNamespacedDeployment({ name: s.name, namespace: ns })).spec?.replicas;
    expect(await replicas()).to.equal(1);
    // Other users join a multi-user session through its access list, not by knowing its id.
    expect((await B.connectRaw(s.id)).errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    for (const who of [bob, carol]) {
      await A.ok('mutation S($id: ID!, $u: String!) { shareSession(sessionId: $id, username: $u, role: COLLABORATOR) { user } }', { id: s.id, u: who.username });
    }
    const ca = await A.connect(s.id);
    const cb = await B.connect(s.id);
    const cc = await C.connect(s.id);
    await waitUntil(async () => (await replicas()) === 3, 'the Deployment to scale to 3 for 3 connections');
    await waitUntil(async () => (await readyPods(s.name)).length === 3, '3 Ready pods');
    // maxConcurrentUsers (3) from the template limits connections too.
    const refused = await C.connectRaw(s.id);
    expect(refused.errors?.[0].extensions?.details).to.deep.include({ limit: 'maxConnections', maximum: 3, source: 'template' });
    for (const [api, c] of [[B, cb], [C, cc]] as const) await api.disconnect(c.connectionId);
    await waitUntil(async () => (await replicas()) === 1, 'the Deployment to scale back to 1 after the cool-down');
    const obj = await sessionObject(s.name);
    expect(obj.metadata.annotations?.['stream.streamspace.io/replicas']).to.equal('1');
    // Only the owner sees who is connected.
    expect((await B.connections(s.id)).errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    await A.disconnect(ca.connectionId);
  });
});
