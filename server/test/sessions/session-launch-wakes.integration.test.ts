import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';
import { FIXTURE_DIR } from '../templates/template-fixtures';

interface Sess {
  id: string;
  name: string;
  state: string;
  templateName: string;
}
const FIELDS = 'id name state templateName';

/**
 * Launching an app (createSession) when the caller has a hibernated session of that template wakes that session
 * instead of starting a second one, for the API and the portal alike; `newSession: true` starts a new one anyway.
 * Only spec.state matters here, so no pod has to become Ready.
 */
describe('sessions: launching an app whose session is hibernated wakes it', function () {
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('launch-wakes');
    app = await startTestApp({
      DATABASE_URL: await createTestDatabase('launch_wakes'),
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_QUOTA_MAX_SESSIONS: '20',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '10',
      STREAMSPACE_QUOTA_CPU: '64',
      STREAMSPACE_QUOTA_MEMORY: '256Gi',
    });
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app, 'user');
    bob = await createUserAndToken(app, 'user');
    for (const file of ['web-browsers/firefox.yaml', 'audio-video/synclounge.yaml']) {
      const res = await app.gql('mutation Apply($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml: fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8') }, admin.headers);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    }
  });
  after(async () => {
    await app?.stop();
  });

  async function launch(who: SignedIn, input: Record<string, unknown>): Promise<Sess> {
    const res = await app.gql<{ createSession: Sess }>(`mutation C($input: CreateSessionInput!) { createSession(input: $input) { ${FIELDS} } }`, { input }, who.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return res.body.data!.createSession;
  }
  async function hibernate(who: SignedIn, id: string): Promise<void> {
    const res = await app.gql<{ hibernateSession: Sess }>('mutation H($id: ID!) { hibernateSession(id: $id) { state } }', { id }, who.headers);
    expect(res.body.data!.hibernateSession.state).to.equal('hibernated');
  }
  const specState = async (name: string) =>
    ((await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'sessions', name })) as { spec: { state: string } }).spec.state;
  const sessionsOf = (username: string, template: string) => app.services.database.dataSource.getRepository(SessionEntity).countBy({ username, template, namespace: ns });

  it('wakes the hibernated session (same id, spec.state running), creates nothing, audits session.wake with reason launch', async () => {
    const first = await launch(alice, { template: 'firefox' });
    await hibernate(alice, first.id);
    expect(await specState(first.name)).to.equal('hibernated');

    const again = await launch(alice, { template: 'firefox' });
    expect(again).to.deep.equal({ ...first, state: 'running' });
    expect(await specState(first.name)).to.equal('running');
    expect(await sessionsOf(alice.username, 'firefox')).to.equal(1);
    const wakes = await app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action: 'session.wake', resourceId: first.id } });
    expect(wakes).to.have.length(1);
    expect(wakes[0].actorUsername).to.equal(alice.username);
    expect(wakes[0].changes).to.deep.include({ state: { from: 'hibernated', to: 'running' }, reason: 'launch' });
  });

  it('a create with settings (or newSession: true) is a new session even when one is hibernated', async () => {
    const hibernated = await launch(bob, { template: 'synclounge' });
    await hibernate(bob, hibernated.id);
    const withSettings = await launch(bob, { template: 'synclounge', idleTimeout: '45m' });
    expect(withSettings.id).to.not.equal(hibernated.id);
    expect(await specState(hibernated.name)).to.equal('hibernated');
    expect(await sessionsOf(bob.username, 'synclounge')).to.equal(2);
    await app.gql('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: withSettings.id }, bob.headers);
  });

  it('a running session of the app does not stop a second launch (the rule is about hibernated ones)', async () => {
    const before = await sessionsOf(alice.username, 'firefox');
    const second = await launch(alice, { template: 'firefox' });
    expect(second.state).to.equal('running');
    expect(await sessionsOf(alice.username, 'firefox')).to.equal(before + 1);
  });

  it('wakes the newest hibernated session of that template only; newSession: true starts a new one anyway', async () => {
    const older = await launch(alice, { template: 'synclounge' });
    // Creation times have whole seconds (metadata.creationTimestamp): the newer one is made in a later second.
    const second = Math.floor(Date.now() / 1000);
    await waitUntil(() => Math.floor(Date.now() / 1000) > second, 'the next second', 5_000);
    const newer = await launch(alice, { template: 'synclounge' });
    await hibernate(alice, older.id);
    await hibernate(alice, newer.id);
    // Another template's hibernated session is not touched.
    const woken = await launch(alice, { template: 'synclounge' });
    expect(woken.id).to.equal(newer.id);
    expect(await specState(older.name)).to.equal('hibernated');

    const fresh = await launch(alice, { template: 'synclounge', newSession: true });
    expect([older.id, newer.id]).to.not.include(fresh.id);
    expect(await specState(older.name)).to.equal('hibernated');
    expect(await sessionsOf(alice.username, 'synclounge')).to.equal(3);
  });

  it("never wakes someone else's hibernated session", async () => {
    const bobs = await launch(bob, { template: 'firefox' });
    await hibernate(bob, bobs.id);
    const adminBefore = await sessionsOf(admin.user.username, 'firefox');
    const own = await launch(admin, { template: 'firefox' });
    expect(own.id).to.not.equal(bobs.id);
    expect(await specState(bobs.name)).to.equal('hibernated');
    expect(await sessionsOf(admin.user.username, 'firefox')).to.equal(adminBefore + 1);
  });

  it('waking on launch counts against the running-session quota like wakeSession (QUOTA_EXCEEDED, still hibernated)', async () => {
    const carol = await createUserAndToken(app, 'user');
    const s = await launch(carol, { template: 'firefox' });
    await hibernate(carol, s.id);
    const limit = await app.gql('mutation Q($id: ID!) { updateUser(id: $id, input: { quota: { maxRunningSessions: 0 } }) { id } }', { id: carol.id }, admin.headers);
    expect(limit.body.errors, JSON.stringify(limit.body.errors)).to.equal(undefined);
    const res = await app.gql(`mutation C($input: CreateSessionInput!) { createSession(input: $input) { ${FIELDS} } }`, { input: { template: 'firefox' } }, carol.headers);
    expect(res.body.errors?.[0].extensions?.code).to.equal('QUOTA_EXCEEDED');
    expect(await specState(s.name)).to.equal('hibernated');
    expect(await sessionsOf(carol.username, 'firefox')).to.equal(1);
  });
});
