import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LABEL_SESSION, PORTS_ANNOTATION } from '../../src/modules/sessions/session-manifests';
import { Api, applyTemplates } from '../connections/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';

const TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: svc-notes
spec:
  displayName: Notes
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
`;

/** Decision 0030: behind the gateway alone a session has no Service; one left from an older version is removed. */
describe('session Services behind the gateway (real control plane)', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let kubeconfigPath: string;
  let databaseUrl: string;
  let app: TestApp;
  const start = () =>
    startTestApp({
      DATABASE_URL: databaseUrl,
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GATEWAY_MODE: 'host',
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
    });

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    kubeconfigPath = cluster.kubeconfigPath;
    ns = await createTestNamespace('session-svc');
    databaseUrl = await createTestDatabase('session_svc');
    app = await start();
    await applyTemplates(app, await signInAsAdmin(app), [TEMPLATE]);
  });
  after(async () => {
    await app?.stop();
  });

  it('a running session has a Deployment naming its port and no Service; a Service left from before is deleted when the reconciler starts', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const user = await createUserAndToken(app);
    const U = new Api(app, user);
    const session = await U.createSession({ template: 'svc-notes', idleTimeout: '1h' });
    await U.waitPhase(session.id, 'Running', 120_000);
    const deployment = await apps.readNamespacedDeployment({ name: session.name, namespace: ns });
    expect(JSON.parse(deployment.metadata!.annotations![PORTS_ANNOTATION])).to.deep.equal({ app: 8080 });
    const sessionServices = async () => (await core.listNamespacedService({ namespace: ns, labelSelector: `${LABEL_SESSION}=${session.name}` })).items.map((s) => s.metadata!.name);
    expect(await sessionServices()).to.deep.equal([]);

    // What an older version created for every session (and routing around the gateway still does), made while no
    // server runs: a ClusterIP Service with the session's labels, owned by nobody here.
    await app.stop();
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: session.name, labels: { ...deployment.metadata!.labels } },
        spec: { selector: { [LABEL_SESSION]: session.name }, ports: [{ name: 'http', port: 8080, targetPort: 8080 as never }] },
      },
    });
    // A Service that is not a session's (no session label) is never touched.
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'not-a-session' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } } });
    expect(await sessionServices()).to.deep.equal([session.name]);

    app = await start();
    await waitUntil(async () => (await sessionServices()).length === 0, "the old session's Service to be deleted", 60_000);
    expect((await core.listNamespacedService({ namespace: ns })).items.map((s) => s.metadata!.name)).to.include('not-a-session');
    expect((await new Api(app, user).session(session.id)).phase).to.equal('Running');
  });
});
