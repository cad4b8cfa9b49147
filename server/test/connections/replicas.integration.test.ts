import { expect } from 'chai';
import { ConnectionEntity } from '../../src/modules/connections/connection.entity';
import { HEARTBEAT_REAPER_JOB } from '../../src/modules/connections/jobs/heartbeat-reaper.job';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, signIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { createTestDatabase } from '../support/postgres';
import { Api, applyTemplates, firefoxYaml, subscribe, type Sess } from './support';

/**
 * Two server replicas on one database and one namespace: subscription events cross replicas through
 * PostgreSQL LISTEN/NOTIFY, and the leader-only jobs move to the other replica when the leader dies.
 */
describe('connections across two replicas (LISTEN/NOTIFY, leader failover)', function () {
  this.timeout(180_000);
  let one: TestApp;
  let two: TestApp;
  let alice: TestUser;
  let session: Sess;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    const env = {
      DATABASE_URL: await createTestDatabase('replicas'),
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: await createTestNamespace('replicas'),
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_HEARTBEAT_TIMEOUT: '3s',
      STREAMSPACE_REAPER_INTERVAL: '300ms',
      STREAMSPACE_IDLE_TIMEOUT: '1h',
      STREAMSPACE_HIBERNATION_INTERVAL: '300ms',
    };
    one = await startTestApp(env);
    await waitUntil(() => one.services.jobs.active, 'the first replica to lead');
    two = await startTestApp(env);
    const admin = await signInAsAdmin(one);
    alice = await createUserAndToken(one);
    await applyTemplates(one, admin, [firefoxYaml()]);
    const A1 = new Api(one, alice);
    session = await A1.createSession({ template: 'firefox' });
    await A1.waitPhase(session.id, 'Running');
    // The second replica's mirror has the session too.
    await waitUntil(async () => (await new Api(two, alice).raw<{ session: Sess }>('query($id: ID!) { session(id: $id) { phase } }', { id: session.id })).data?.session.phase === 'Running', 'replica two to see the session Running');
  });
  after(async () => {
    await two?.stop();
    await one?.stop();
  });

  it('only one replica runs the jobs', () => {
    expect(one.services.jobs.active).to.equal(true);
    expect(two.services.jobs.active).to.equal(false);
  });

  it('a subscription on replica two receives the count changes of a connect on replica one', async () => {
    const onTwo = await signIn(two, alice.username, alice.password);
    const sub = subscribe<{ connectionCountChanged: { sessionId: string; activeConnections: number } }>(
      two.wsUrl,
      onTwo.accessToken,
      'subscription($id: ID!) { connectionCountChanged(sessionId: $id) { sessionId activeConnections } }',
      { id: session.id },
    );
    const A1 = new Api(one, alice);
    const receivedBefore = two.services.pubSubBridge!.received;
    // Until the subscription is registered on replica two, events may pass it by: repeat until one arrives.
    let c = await A1.connect(session.id);
    await waitUntil(async () => {
      if (sub.events.length) return true;
      await A1.disconnect(c.connectionId);
      c = await A1.connect(session.id);
      return false;
    }, 'an event published on replica one to reach the client of replica two');
    expect(sub.events[0].connectionCountChanged.sessionId).to.equal(session.id);
    expect(two.services.pubSubBridge!.received).to.be.greaterThan(receivedBefore);
    // Heartbeats go to any replica: the connection made on one is kept alive through two.
    expect((await new Api(two, alice).heartbeat(c.connectionId)).data?.heartbeat).to.equal(true);
    await A1.disconnect(c.connectionId);
    await waitUntil(() => sub.events.at(-1)?.connectionCountChanged.activeConnections === 0, 'the disconnect event on replica two');
    expect(sub.errors).to.deep.equal([]);
    await sub.close();
  });

  /** Publishes on replica one until replica two's subscriber got an event (the LISTEN may be reconnecting). */
  async function crossReplica(topic: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const sub = two.services.pubSub.subscribeTopic<Record<string, unknown>>(topic);
    const first = sub.next();
    let got: Record<string, unknown> | undefined;
    void first.then((r) => (got = r.done ? undefined : r.value));
    await waitUntil(() => {
      if (got) return true;
      one.services.pubSub.publish(topic as never, payload as never);
      return false;
    }, `an event on ${topic} to cross replicas`);
    await sub.return?.(undefined);
    return got!;
  }

  it('events larger than a NOTIFY payload travel through pubsub_messages, Dates intact', async () => {
    const payload = { big: 'x'.repeat(20_000), at: new Date('2030-01-02T03:04:05.678Z') };
    const got = await crossReplica('TEST_BIG_EVENT', payload);
    expect(got.big).to.equal(payload.big);
    expect(got.at).to.be.instanceOf(Date);
    expect((got.at as Date).toISOString()).to.equal('2030-01-02T03:04:05.678Z');
  });

  it('the LISTEN connection comes back after the database drops it', async () => {
    const ds = two.services.database.dataSource;
    const killed = (await ds.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'streamspace-pubsub' AND datname = current_database()`,
    )) as { ok: boolean }[];
    expect(killed.length).to.be.greaterThan(0);
    const got = await crossReplica('TEST_AFTER_RECONNECT', { n: 1 });
    expect(got).to.deep.equal({ n: 1 });
    expect(two.services.pubSubBridge!.connected).to.equal(true);
    expect(one.services.pubSubBridge!.connected).to.equal(true);
  });

  it('when the leader dies, the other replica takes over the jobs (within the lease duration)', async () => {
    // A connection made through replica two that nobody keeps alive: only a running reaper ends it.
    const c = await new Api(two, alice).connect(session.id);
    // The leader goes silent without releasing its Lease, as a crashed process would; then it stops.
    await one.services.elector!.stop({ release: false });
    await one.stop();
    await waitUntil(() => two.services.jobs.active, 'replica two to take over the lease', 30_000);
    await waitUntil(() => (two.services.jobs.jobStats(HEARTBEAT_REAPER_JOB)?.runs ?? 0) > 0, 'the reaper to run on replica two');
    await waitUntil(
      async () => (await two.services.database.dataSource.getRepository(ConnectionEntity).findOneByOrFail({ id: c.connectionId })).disconnectReason === 'reaper',
      'replica two to reap the abandoned connection',
    );
  });
});
