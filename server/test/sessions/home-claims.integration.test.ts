import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { homeClaimName, LABEL_USER } from '../../src/modules/sessions/session-manifests';
import { Api, applyTemplates } from '../connections/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const HOME_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: home-notes
spec:
  displayName: Notes with a home
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  volumeMounts:
    - name: user-home
      mountPath: /home/user
`;

/** Issue 13 item 6: home claims named from the user's immutable id, owner-labelled; no one mounts another's. */
describe('home claims on the real control plane', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('homes');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns, STREAMSPACE_SESSION_NETWORK_POLICY: 'gateway', STREAMSPACE_LEADER_LEASE_DURATION: '3s' });
    await applyTemplates(app, await signInAsAdmin(app), [HOME_TEMPLATE]);
  });
  after(async () => {
    await app?.stop();
  });

  async function mountedClaim(sessionName: string): Promise<string | undefined> {
    const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: sessionName, namespace: ns });
    return d.spec!.template.spec!.volumes!.find((v) => v.name === 'user-home')?.persistentVolumeClaim?.claimName;
  }

  it('a crafted username that collides under the old naming gets its own claim, and can never mount the victim\'s', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const victim = await createUserAndToken(app, 'user', `v.${process.pid}`);
    // The attacker picks the name the victim's legacy claim name is made of: home-v-<pid>-<hash> for both.
    const craftedName = homeClaimName(victim.username).slice('home-'.length);
    expect(homeClaimName(craftedName)).to.equal(homeClaimName(victim.username));
    const attacker = await createUserAndToken(app, 'user', craftedName);
    const V = new Api(app, victim);
    const X = new Api(app, attacker);

    const vs = await V.createSession({ template: 'home-notes', persistentHome: true, idleTimeout: '1h' });
    const xs = await X.createSession({ template: 'home-notes', persistentHome: true, idleTimeout: '1h' });
    await V.waitPhase(vs.id, 'Running');
    await X.waitPhase(xs.id, 'Running');
    expect(await mountedClaim(vs.name)).to.equal(`home-${victim.id}`);
    expect(await mountedClaim(xs.name)).to.equal(`home-${attacker.id}`);
    // Each session's pods admit only the gateway's pods, on the app's port (as stored by the real API server).
    const policy = await kc.makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: vs.name, namespace: ns });
    expect(policy.spec!.podSelector!.matchLabels).to.deep.equal({ 'stream.streamspace.io/session': vs.name });
    expect(policy.spec!.policyTypes).to.deep.equal(['Ingress']);
    expect(policy.spec!.ingress).to.have.length(1);
    expect(policy.spec!.ingress![0]._from).to.deep.equal([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: { 'stream.streamspace.io/gateway': 'true' } } },
    ]);
    expect(policy.spec!.ingress![0].ports).to.deep.equal([{ protocol: 'TCP', port: 8080 }]);
    expect(policy.metadata!.ownerReferences![0]).to.include({ kind: 'Session', name: vs.name });
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: `home-${victim.id}`, namespace: ns });
    expect(claim.metadata!.labels!['stream.streamspace.io/home-owner']).to.equal(victim.id);

    // A victim's claim under the legacy name (made before this change), and a Session made outside the API for the
    // crafted user (no user id: the legacy name applies and equals the victim's): the reconciler refuses to mount it.
    const legacy = homeClaimName(victim.username);
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: { metadata: { name: legacy, labels: { [LABEL_USER]: victim.username } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const name = `legacy-${process.pid}`;
    await custom.createNamespacedCustomObject({
      group: 'stream.streamspace.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'sessions',
      body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name }, spec: { user: attacker.username, template: 'home-notes', persistentHome: true, state: 'running' } },
    });
    let status: { phase?: string; conditions?: { type: string; reason: string; message: string }[] } = {};
    await waitUntil(async () => {
      const obj = (await custom.getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'sessions', name })) as { status?: typeof status };
      status = obj.status ?? {};
      return status.phase === 'Failed';
    }, 'the legacy session to fail');
    expect(status.conditions!.find((c) => c.type === 'Ready')).to.deep.include({ reason: 'HomeClaimConflict' });
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns });
    expect(deployments.items.map((d) => d.metadata!.name)).not.to.include(name);
  });

  it("says why when the API server refuses a session's workload (a Warning event with its message), and runs it once allowed", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const user = await createUserAndToken(app);
    const U = new Api(app, user);
    // No more Deployments than there are now (as a quota of the namespace would refuse them).
    const deployments = (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns })).items.length;
    await core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: 'no-more-deployments' }, spec: { hard: { 'count/deployments.apps': String(deployments) } } } });
    const session = await U.createSession({ template: 'home-notes', persistentHome: false, idleTimeout: '1h' });
    let warning: string | undefined;
    await waitUntil(async () => {
      const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${session.name}` });
      warning = events.items.find((e) => e.reason === 'ApplyFailed' && e.type === 'Warning')?.message;
      return warning !== undefined;
    }, 'an ApplyFailed event on the session', 60_000);
    expect(warning).to.match(/could not be created: .*exceeded quota/);
    expect((await U.session(session.id)).phase).to.equal('Pending');
    await core.deleteNamespacedResourceQuota({ name: 'no-more-deployments', namespace: ns });
    await U.waitPhase(session.id, 'Running', 120_000);
  });
});
