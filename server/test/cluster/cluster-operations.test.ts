import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AppsV1Api, CoreV1Api, PolicyV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

interface AuditRow {
  action: string;
  actor_username: string | null;
  resource_id: string;
  outcome: string;
  changes: Record<string, unknown>;
}

interface DrainProgress {
  node: string;
  phase: string;
  evicted: number;
  blocked: number;
  message: string | null;
  pods: { namespace: string; name: string; state: string; message: string | null }[];
}

const DRAIN = `subscription Drain($name: String!, $force: Boolean, $timeoutSeconds: Int) {
  drainClusterNode(name: $name, force: $force, timeoutSeconds: $timeoutSeconds) { node phase evicted blocked message pods { namespace name state message } }
}`;

/**
 * The admin console's cluster actions on the real control plane: cordon and drain of a kwok node through the Eviction
 * API (a PodDisruptionBudget blocks, nothing is forced), scale, restart, rollout history and undo, pod restart, service
 * endpoints and events; every change audited, every bad input a typed error, none of it for a non-admin.
 */
describe('cluster: node, workload and pod actions on the real control plane (kwok node of its own)', function () {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let policy: PolicyV1Api;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  /** A kwok node only this suite schedules onto (tainted), so draining it cannot disturb other suites. */
  const node = `ops-node-${process.pid}`;
  const TAINT = 'streamspace.io/cluster-ops-test';

  const gql = async <T>(query: string, variables?: Record<string, unknown>, as: { headers: Record<string, string> } = admin) => (await app.gql<T>(query, variables, as.headers)).body;
  const rows = async (action: string): Promise<AuditRow[]> =>
    (await app.services.database.dataSource.query(`SELECT action, actor_username, resource_id, outcome, changes FROM audit_log WHERE action = $1 ORDER BY id`, [action])) as AuditRow[];
  const podsOnNode = async () => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

  function wsClient(): Client {
    return createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin.accessToken}` }, retryAttempts: 0, lazy: true });
  }

  /** Every event of a drain until it completes (or the first error). */
  function drain(variables: Record<string, unknown>): Promise<DrainProgress[]> {
    const client = wsClient();
    const events: DrainProgress[] = [];
    return new Promise<DrainProgress[]>((resolve, reject) => {
      client.subscribe<{ drainClusterNode: DrainProgress }>(
        { query: DRAIN, variables },
        {
          next: (v) => {
            if (v.errors) reject(Object.assign(new Error(v.errors[0]!.message), { extensions: v.errors[0]!.extensions }));
            else events.push(v.data!.drainClusterNode);
          },
          error: (e) => reject(Array.isArray(e) ? Object.assign(new Error((e as { message: string }[])[0]!.message), { extensions: (e as { extensions?: unknown }[])[0]!.extensions }) : e),
          complete: () => resolve(events),
        },
      );
    }).finally(() => void client.dispose());
  }

  function deployment(name: string, replicas: number, image = 'nginx:1.27'): V1Deployment {
    return {
      metadata: { name, labels: { app: name } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': node },
            tolerations: [{ key: TAINT, operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'app', image, ports: [{ containerPort: 80, name: 'http' }] }],
          },
        },
      },
    };
  }

  async function readyReplicas(name: string, want: number): Promise<void> {
    await waitUntil(async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: ns });
      return (d.status?.readyReplicas ?? 0) === want && (d.status?.updatedReplicas ?? 0) === want && d.status?.observedGeneration === d.metadata?.generation;
    }, `deployment ${name} to have ${want} ready replicas`);
  }

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    policy = kc.makeApiClient(PolicyV1Api);
    ns = await createTestNamespace('cluster-ops');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
    const resources = { cpu: '8', memory: '16Gi', pods: '110' };
    await core.createNode({
      body: {
        metadata: { name: node, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { 'kubernetes.io/hostname': node, 'kubernetes.io/os': 'linux', purpose: 'cluster-ops-test' } },
        spec: { taints: [{ key: TAINT, value: 'yes', effect: 'NoSchedule' }] },
        status: { allocatable: resources, capacity: resources },
      },
    });
    await waitUntil(async () => (await core.readNode({ name: node })).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, `kwok to make ${node} Ready`);
  });

  after(async function () {
    this.timeout(60_000);
    await core?.deleteNode({ name: node }).catch(() => undefined);
    await app?.stop();
  });

  it('shows a node\'s taints and labels, cordons and uncordons it (audited), and answers NOT_FOUND for an unknown node', async () => {
    const listed = await gql<{ clusterNodes: { name: string; labels: Record<string, string>; taints: { key: string; value: string | null; effect: string }[] }[] }>(
      '{ clusterNodes { name labels taints { key value effect } } }',
    );
    const mine = listed.data!.clusterNodes.find((n) => n.name === node);
    expect(mine?.labels.purpose).to.equal('cluster-ops-test');
    expect(mine?.taints).to.deep.include({ key: TAINT, value: 'yes', effect: 'NoSchedule' });

    const CORDON = 'mutation($name: String!, $s: Boolean!) { setClusterNodeSchedulable(name: $name, schedulable: $s) { name unschedulable taints { key effect } } }';
    const cordoned = await gql<{ setClusterNodeSchedulable: { unschedulable: boolean } }>(CORDON, { name: node, s: false });
    expect(cordoned.errors).to.equal(undefined);
    expect(cordoned.data!.setClusterNodeSchedulable.unschedulable).to.equal(true);
    expect((await core.readNode({ name: node })).spec?.unschedulable).to.equal(true);

    const uncordoned = await gql<{ setClusterNodeSchedulable: { unschedulable: boolean } }>(CORDON, { name: node, s: true });
    expect(uncordoned.data!.setClusterNodeSchedulable.unschedulable).to.equal(false);
    expect((await core.readNode({ name: node })).spec?.unschedulable ?? false).to.equal(false);

    const unknown = await gql(CORDON, { name: 'no-such-node', s: false });
    expect(unknown.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');
    expect(unknown.errors?.[0]?.message).to.contain('no-such-node');
    const bad = await gql(CORDON, { name: 'Not A Name', s: false });
    expect(bad.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    const asUser = await gql(CORDON, { name: node, s: false }, user);
    expect(asUser.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    expect((await core.readNode({ name: node })).spec?.unschedulable ?? false).to.equal(false);

    const cordonRows = (await rows('cluster.node.cordon')).filter((r) => r.resource_id === `Node/${node}`);
    const uncordonRows = (await rows('cluster.node.uncordon')).filter((r) => r.resource_id === `Node/${node}`);
    expect(cordonRows.map((r) => [r.actor_username, r.outcome])).to.deep.equal([['admin', 'success']]);
    expect(uncordonRows.map((r) => [r.actor_username, r.outcome])).to.deep.equal([['admin', 'success']]);
  });

  it('drains through the Eviction API: evicts managed pods, reports the pods a PodDisruptionBudget protects as BLOCKED (not forced) and leaves an unmanaged pod', async function () {
    this.timeout(180_000);
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('movable', 3) });
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('guarded', 2) });
    await policy.createNamespacedPodDisruptionBudget({ namespace: ns, body: { metadata: { name: 'guarded' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } } } });
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'lonely' }, spec: { nodeName: node, tolerations: [{ key: TAINT, operator: 'Exists' }], containers: [{ name: 'app', image: 'busybox' }] } },
    });
    await readyReplicas('movable', 3);
    await readyReplicas('guarded', 2);
    await waitUntil(async () => (await policy.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace: ns })).status?.currentHealthy === 2, 'the disruption controller to count the guarded pods');
    const before = await podsOnNode();
    const movable = before.filter((p) => p.metadata?.labels?.app === 'movable').map((p) => p.metadata!.name!);
    const guarded = before.filter((p) => p.metadata?.labels?.app === 'guarded').map((p) => p.metadata!.name!);
    expect(movable).to.have.length(3);
    expect(guarded).to.have.length(2);

    const events = await drain({ name: node, timeoutSeconds: 3 });
    expect(events[0]!.phase).to.equal('CORDONED');
    expect(events.map((e) => e.phase)).to.include('EVICTING');
    const last = events.at(-1)!;
    expect(last.phase).to.equal('INCOMPLETE');
    const state = Object.fromEntries(last.pods.map((p) => [p.name, p]));
    for (const name of movable) expect(state[name]?.state, name).to.equal('GONE');
    for (const name of guarded) {
      expect(state[name]?.state, name).to.equal('BLOCKED');
      expect(state[name]?.message).to.match(/disruption budget/i);
    }
    expect(state.lonely?.state).to.equal('SKIPPED');
    expect(state.lonely?.message).to.contain('not managed by a controller');
    expect(last.evicted).to.equal(3);
    expect(last.blocked).to.equal(2);
    expect(last.message).to.contain('2 blocked by a PodDisruptionBudget');

    // What the cluster says: the node is cordoned, the movable pods are gone, the guarded ones and the lonely one stayed.
    expect((await core.readNode({ name: node })).spec?.unschedulable).to.equal(true);
    const after = (await podsOnNode()).map((p) => p.metadata!.name!);
    expect(after).to.include.members([...guarded, 'lonely']);
    expect(after).to.not.include.members(movable.slice(0, 1));
    for (const name of movable) expect(after).to.not.include(name);

    const drains = (await rows('cluster.node.drain')).filter((r) => r.resource_id === `Node/${node}`);
    expect(drains).to.have.length(1);
    expect(drains[0]!.outcome).to.equal('failure');
    expect(drains[0]!.changes).to.include({ blocked: 2, evicted: 3, unmanaged: 1, force: false });
  });

  it('finishes the drain once the budget allows it, evicting the unmanaged pod with force, and reports DRAINED', async function () {
    this.timeout(180_000);
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'guarded', namespace: ns });
    const events = await drain({ name: node, force: true, timeoutSeconds: 60 });
    const last = events.at(-1)!;
    expect(last.phase, JSON.stringify(last)).to.equal('DRAINED');
    expect(last.pods.filter((p) => p.state !== 'GONE')).to.deep.equal([]);
    expect(last.pods.map((p) => p.name)).to.include('lonely');
    expect(await podsOnNode()).to.deep.equal([]);
    const drains = (await rows('cluster.node.drain')).filter((r) => r.resource_id === `Node/${node}`);
    expect(drains.at(-1)!.outcome).to.equal('success');

    // Uncordoned, the Deployments' replacement pods come back to the node.
    await gql('mutation($name: String!) { setClusterNodeSchedulable(name: $name, schedulable: true) { name } }', { name: node });
    await readyReplicas('movable', 3);
    await readyReplicas('guarded', 2);
  });

  it('refuses a drain of an unknown node or with a bad timeout, with typed errors', async () => {
    const unknown = await drain({ name: 'no-such-node' }).then(
      () => null,
      (e: { extensions?: { code?: string } }) => e.extensions?.code,
    );
    expect(unknown).to.equal('NOT_FOUND');
    const badTimeout = await drain({ name: node, timeoutSeconds: 0 }).then(
      () => null,
      (e: { extensions?: { code?: string } }) => e.extensions?.code,
    );
    expect(badTimeout).to.equal('BAD_USER_INPUT');
    expect((await core.readNode({ name: node })).spec?.unschedulable ?? false).to.equal(false);
  });

  it('scales a Deployment (audited) and refuses negative replicas, an unknown workload and a non-admin', async function () {
    this.timeout(120_000);
    const SCALE = 'mutation($kind: ClusterWorkloadKind!, $ns: String!, $name: String!, $r: Int!) { scaleClusterWorkload(kind: $kind, namespace: $ns, name: $name, replicas: $r) { name status } }';
    const scaled = await gql<{ scaleClusterWorkload: { name: string } }>(SCALE, { kind: 'Deployment', ns, name: 'movable', r: 1 });
    expect(scaled.errors).to.equal(undefined);
    expect((await apps.readNamespacedDeployment({ name: 'movable', namespace: ns })).spec?.replicas).to.equal(1);
    await readyReplicas('movable', 1);

    const negative = await gql(SCALE, { kind: 'Deployment', ns, name: 'movable', r: -1 });
    expect(negative.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(negative.errors?.[0]?.message).to.contain('replicas');
    const missing = await gql(SCALE, { kind: 'Deployment', ns, name: 'nope', r: 1 });
    expect(missing.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');
    const wrongKind = await gql(SCALE, { kind: 'ReplicaSet', ns, name: 'movable', r: 1 });
    expect(wrongKind.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    const asUser = await gql(SCALE, { kind: 'Deployment', ns, name: 'movable', r: 5 }, user);
    expect(asUser.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    expect((await apps.readNamespacedDeployment({ name: 'movable', namespace: ns })).spec?.replicas).to.equal(1);

    const audit = (await rows('cluster.workload.scale')).filter((r) => r.resource_id === `Deployment/${ns}/movable`);
    expect(audit.map((r) => [r.outcome, r.changes.from, r.changes.replicas])).to.deep.equal([['success', 3, 1]]);
  });

  it('scales and restarts a StatefulSet', async function () {
    this.timeout(120_000);
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'db' },
        spec: {
          replicas: 1,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { tolerations: [{ key: TAINT, operator: 'Exists' }], nodeSelector: { 'kubernetes.io/hostname': node }, containers: [{ name: 'db', image: 'postgres:16' }] } },
        },
      },
    });
    const scaled = await gql('mutation($ns: String!) { scaleClusterWorkload(kind: StatefulSet, namespace: $ns, name: "db", replicas: 2) { kind name } }', { ns });
    expect(scaled.errors).to.equal(undefined);
    expect((await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns })).spec?.replicas).to.equal(2);
    const restarted = await gql('mutation($ns: String!) { restartClusterWorkload(kind: StatefulSet, namespace: $ns, name: "db") { kind name } }', { ns });
    expect(restarted.errors).to.equal(undefined);
    const stamp = (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns })).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    expect(stamp && Date.parse(stamp)).to.be.a('number').and.not.NaN;
  });

  it('restarts a Deployment (new revision), lists the rollout history by revision, and undoes to the previous template', async function () {
    this.timeout(180_000);
    const HISTORY = 'query($ns: String!, $name: String!) { clusterDeploymentRevisions(namespace: $ns, name: $name) { revision replicaSet current images replicas } }';
    type Rev = { revision: number; replicaSet: string; current: boolean; images: string[]; replicas: number };
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 1, 'nginx:1.26') });
    await readyReplicas('web', 1);
    // Revision 2: a new image.
    const v1 = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    v1.spec!.template.spec!.containers[0]!.image = 'nginx:1.27';
    await apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: v1 });
    await readyReplicas('web', 1);
    // Revision 3: a restart (same image, the restartedAt annotation).
    const restarted = await gql('mutation($ns: String!) { restartClusterWorkload(kind: Deployment, namespace: $ns, name: "web") { name } }', { ns });
    expect(restarted.errors).to.equal(undefined);
    await waitUntil(async () => ((await gql<{ clusterDeploymentRevisions: Rev[] }>(HISTORY, { ns, name: 'web' })).data?.clusterDeploymentRevisions ?? []).length === 3, 'three revisions');
    await readyReplicas('web', 1);
    let history = (await gql<{ clusterDeploymentRevisions: Rev[] }>(HISTORY, { ns, name: 'web' })).data!.clusterDeploymentRevisions;
    expect(history.map((r) => r.revision)).to.deep.equal([3, 2, 1]);
    expect(history.map((r) => r.current)).to.deep.equal([true, false, false]);
    expect(history.map((r) => r.images)).to.deep.equal([['nginx:1.27'], ['nginx:1.27'], ['nginx:1.26']]);

    // Undo to revision 1: the old image comes back and its ReplicaSet becomes revision 4.
    const undone = await gql('mutation($ns: String!) { undoClusterDeployment(namespace: $ns, name: "web", toRevision: 1) { name } }', { ns });
    expect(undone.errors).to.equal(undefined);
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(d.spec?.template.spec?.containers[0]?.image).to.equal('nginx:1.26');
    await waitUntil(async () => ((await gql<{ clusterDeploymentRevisions: Rev[] }>(HISTORY, { ns, name: 'web' })).data?.clusterDeploymentRevisions[0]?.revision ?? 0) === 4, 'the rolled-back ReplicaSet to become revision 4');
    history = (await gql<{ clusterDeploymentRevisions: Rev[] }>(HISTORY, { ns, name: 'web' })).data!.clusterDeploymentRevisions;
    expect(history[0]).to.include({ revision: 4, current: true });
    expect(history[0]!.images).to.deep.equal(['nginx:1.26']);

    // Undo without a revision goes to the previous one (3: nginx 1.27 with the restart stamp).
    await readyReplicas('web', 1);
    const previous = await gql('mutation($ns: String!) { undoClusterDeployment(namespace: $ns, name: "web") { name } }', { ns });
    expect(previous.errors, JSON.stringify(previous.errors)).to.equal(undefined);
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).spec?.template.spec?.containers[0]?.image).to.equal('nginx:1.27');

    const unknownRevision = await gql('mutation($ns: String!) { undoClusterDeployment(namespace: $ns, name: "web", toRevision: 99) { name } }', { ns });
    expect(unknownRevision.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(unknownRevision.errors?.[0]?.message).to.contain('no revision 99');
    const missing = await gql('mutation($ns: String!) { undoClusterDeployment(namespace: $ns, name: "nope") { name } }', { ns });
    expect(missing.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');

    const undoRows = (await rows('cluster.deployment.undo')).filter((r) => r.resource_id === `Deployment/${ns}/web`);
    expect(undoRows.map((r) => [r.outcome, r.changes.toRevision])).to.deep.equal([
      ['success', 1],
      ['success', 3],
    ]);
    const restartRows = (await rows('cluster.workload.restart')).filter((r) => r.resource_id === `Deployment/${ns}/web`);
    expect(restartRows).to.have.length(1);
  });

  it('restarts a controller-managed pod (re-created under a new name) and refuses an unmanaged one', async function () {
    this.timeout(120_000);
    await readyReplicas('movable', 1);
    const [pod] = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=movable' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const name = pod!.metadata!.name!;
    const res = await gql('mutation($ns: String!, $name: String!) { restartClusterPod(namespace: $ns, name: $name) }', { ns, name });
    expect(res.errors).to.equal(undefined);
    await waitUntil(async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=movable' })).items;
      return !pods.some((p) => p.metadata?.name === name) && pods.some((p) => p.status?.phase === 'Running');
    }, 'the pod to be replaced by its ReplicaSet');

    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'alone' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } });
    const refused = await gql('mutation($ns: String!) { restartClusterPod(namespace: $ns, name: "alone") }', { ns });
    expect(refused.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).to.contain('not managed by a controller');
    expect((await core.readNamespacedPod({ name: 'alone', namespace: ns })).metadata?.name).to.equal('alone');
    const audit = (await rows('cluster.pod.restart')).filter((r) => r.resource_id === `Pod/${ns}/${name}`);
    expect(audit.map((r) => [r.outcome, r.changes.controller])).to.deep.equal([['success', `ReplicaSet/${(pod!.metadata!.ownerReferences ?? [])[0]!.name}`]]);
  });

  it('shows a Service with its ports and the endpoints of its EndpointSlices', async function () {
    this.timeout(120_000);
    await gql('mutation($ns: String!) { scaleClusterWorkload(kind: Deployment, namespace: $ns, name: "guarded", replicas: 2) { name } }', { ns });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'guarded' }, spec: { selector: { app: 'guarded' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] } } });
    const Q = 'query($ns: String!, $name: String!) { clusterServiceEndpoints(namespace: $ns, name: $name) { type clusterIp selector ports { name protocol port targetPort } endpoints { addresses ready podName nodeName ports } } }';
    type Svc = { type: string; clusterIp: string; selector: Record<string, string>; ports: unknown[]; endpoints: { addresses: string[]; ready: boolean; podName: string; nodeName: string; ports: string[] }[] };
    await waitUntil(async () => ((await gql<{ clusterServiceEndpoints: Svc }>(Q, { ns, name: 'guarded' })).data?.clusterServiceEndpoints.endpoints.filter((e) => e.ready).length ?? 0) === 2, 'two ready endpoints');
    const svc = (await gql<{ clusterServiceEndpoints: Svc }>(Q, { ns, name: 'guarded' })).data!.clusterServiceEndpoints;
    expect(svc.type).to.equal('ClusterIP');
    expect(svc.selector).to.deep.equal({ app: 'guarded' });
    expect(svc.ports).to.deep.equal([{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 'http' }]);
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=guarded' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(svc.endpoints.map((e) => e.podName).sort()).to.deep.equal(pods.map((p) => p.metadata!.name!).sort());
    expect(svc.endpoints.map((e) => e.addresses[0]).sort()).to.deep.equal(pods.map((p) => p.status!.podIP!).sort());
    expect(svc.endpoints.every((e) => e.nodeName === node && e.ports.includes('http:80/TCP'))).to.equal(true);
    expect((await gql<{ clusterServiceEndpoints: Svc | null }>(Q, { ns, name: 'nope' })).data!.clusterServiceEndpoints).to.equal(null);
  });

  it('lists events newest first, filtered to one object', async () => {
    const Q = 'query($ns: String, $kind: String, $name: String, $limit: Int) { clusterEvents(namespace: $ns, objectKind: $kind, objectName: $name, limit: $limit) { namespace type reason message objectKind objectName count lastSeen source } }';
    type Ev = { namespace: string; reason: string; objectKind: string; objectName: string; lastSeen: string; count: number };
    const all = (await gql<{ clusterEvents: Ev[] }>(Q, { ns })).data!.clusterEvents;
    expect(all.length).to.be.greaterThan(0);
    expect(all.every((e) => e.namespace === ns)).to.equal(true);
    const times = all.map((e) => Date.parse(e.lastSeen));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    expect(all.map((e) => e.reason)).to.include('ScalingReplicaSet');
    const onlyWeb = (await gql<{ clusterEvents: Ev[] }>(Q, { ns, kind: 'Deployment', name: 'web' })).data!.clusterEvents;
    expect(onlyWeb.length).to.be.greaterThan(0);
    expect(onlyWeb.every((e) => e.objectKind === 'Deployment' && e.objectName === 'web')).to.equal(true);
    expect((await gql<{ clusterEvents: Ev[] }>(Q, { ns, limit: 1 })).data!.clusterEvents).to.have.length(1);
    expect((await gql(Q, { ns, limit: 0 })).errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
  });

  it('lists every kind the API server offers (discovery) with the visible write allow-list, and reads objects of a kind outside it', async () => {
    type R = { apiVersion: string; kind: string; plural: string; namespaced: boolean; writable: boolean; operations: string[] };
    const res = await gql<{ clusterApiResources: R[] }>('{ clusterApiResources { group apiVersion kind plural namespaced verbs writable operations } }');
    expect(res.errors).to.equal(undefined);
    const byKind = (apiVersion: string, kind: string) => res.data!.clusterApiResources.find((r) => r.apiVersion === apiVersion && r.kind === kind);
    expect(byKind('apps/v1', 'ReplicaSet')).to.include({ plural: 'replicasets', namespaced: true, writable: false });
    expect(byKind('apps/v1', 'ReplicaSet')!.operations).to.deep.equal([]);
    expect(byKind('rbac.authorization.k8s.io/v1', 'ClusterRole')).to.include({ writable: false, namespaced: false });
    expect(byKind('apps/v1', 'Deployment')).to.include({ writable: true });
    expect(byKind('apps/v1', 'Deployment')!.operations).to.include.members(['apply', 'delete', 'scale', 'restart', 'undo']);
    expect(byKind('v1', 'Node')!.operations).to.include.members(['cordon', 'drain']);
    expect(byKind('stream.streamspace.io/v1alpha1', 'Session')).to.include({ writable: true });
    // Subresources are not kinds of their own.
    expect(res.data!.clusterApiResources.some((r) => r.plural.includes('/'))).to.equal(false);

    const LIST = 'query($v: String!, $p: String!, $ns: String, $first: Int, $after: String) { clusterApiObjects(apiVersion: $v, plural: $p, namespace: $ns, first: $first, after: $after) { items { kind name namespace writable yaml } totalCount pageInfo { hasNextPage endCursor } } }';
    type Page = { items: { kind: string; name: string; namespace: string; writable: boolean; yaml: string }[]; totalCount: number | null; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    const sets = await gql<{ clusterApiObjects: Page }>(LIST, { v: 'apps/v1', p: 'replicasets', ns });
    expect(sets.errors).to.equal(undefined);
    const names = sets.data!.clusterApiObjects.items.map((i) => i.name);
    expect(names.some((n) => n.startsWith('web-'))).to.equal(true);
    expect(sets.data!.clusterApiObjects.items.every((i) => i.kind === 'ReplicaSet' && i.namespace === ns && !i.writable && i.yaml.startsWith('apiVersion: apps/v1\nkind: ReplicaSet'))).to.equal(true);
    // Paged with the API server's continue tokens.
    const first = await gql<{ clusterApiObjects: Page }>(LIST, { v: 'apps/v1', p: 'replicasets', ns, first: 1 });
    expect(first.data!.clusterApiObjects.items).to.have.length(1);
    expect(first.data!.clusterApiObjects.pageInfo.hasNextPage).to.equal(true);
    const second = await gql<{ clusterApiObjects: Page }>(LIST, { v: 'apps/v1', p: 'replicasets', ns, first: 1, after: first.data!.clusterApiObjects.pageInfo.endCursor });
    expect(second.data!.clusterApiObjects.items[0]!.name).to.not.equal(first.data!.clusterApiObjects.items[0]!.name);

    const one = await gql<{ clusterApiObject: { yaml: string } | null }>('query($ns: String!, $name: String!) { clusterApiObject(apiVersion: "apps/v1", plural: "replicasets", namespace: $ns, name: $name) { yaml } }', { ns, name: names[0] });
    expect(one.data!.clusterApiObject!.yaml).to.contain(`name: ${names[0]}`);
    expect(one.data!.clusterApiObject!.yaml).to.not.contain('managedFields');
    const missing = await gql<{ clusterApiObject: null }>('query($ns: String!) { clusterApiObject(apiVersion: "apps/v1", plural: "replicasets", namespace: $ns, name: "nope") { yaml } }', { ns });
    expect(missing.data!.clusterApiObject).to.equal(null);

    // Only what discovery returned can be reached: no made-up resource, no path tricks.
    for (const [v, p] of [['apps/v1', 'nothings'], ['v1', '../secrets'], ['apps/v1/../../api/v1', 'pods']]) {
      const bad = await gql(LIST, { v, p });
      expect(bad.errors?.[0]?.extensions?.code, `${v} ${p}`).to.equal('BAD_USER_INPUT');
    }
    expect((await gql(LIST, { v: 'v1', p: 'nodes', ns })).errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect((await gql(LIST, { v: 'apps/v1', p: 'replicasets' }, user)).errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
  });

  it('redacts Secret values read through discovery as everywhere else', async () => {
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'hidden' }, stringData: { password: 'discovery-secret-4f1a' } } });
    const res = await app.gql('query($ns: String!) { clusterApiObjects(apiVersion: "v1", plural: "secrets", namespace: $ns) { items { name yaml } } clusterApiObject(apiVersion: "v1", plural: "secrets", namespace: $ns, name: "hidden") { yaml } }', { ns }, admin.headers);
    const raw = JSON.stringify(res.body);
    expect(res.body.errors).to.equal(undefined);
    expect(raw).to.contain('hidden');
    expect(raw).to.contain('**redacted**');
    expect(raw).to.not.contain('discovery-secret-4f1a');
    expect(raw).to.not.contain(Buffer.from('discovery-secret-4f1a').toString('base64'));
  });

  it('refuses a write of a kind outside the allow-list with KindNotWritable (audited), and writes nothing', async () => {
    const yaml = `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: sneaky, namespace: ${ns}}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}}\n`;
    const res = await gql('mutation($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', { yaml });
    expect(res.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect((res.errors?.[0]?.extensions?.details as { reason?: string } | undefined)?.reason).to.equal('KindNotWritable');
    expect((res.errors?.[0]?.extensions?.details as { writableKinds?: string[] } | undefined)?.writableKinds).to.include.members(['Deployment', 'StatefulSet', 'Pod']);
    expect(res.errors?.[0]?.message).to.contain('write allow-list');
    const sets = await apps.listNamespacedReplicaSet({ namespace: ns });
    expect(sets.items.map((r) => r.metadata?.name)).to.not.include('sneaky');
    const refused = (await rows('cluster.apply')).filter((r) => r.resource_id === 'ReplicaSet');
    expect(refused.map((r) => [r.outcome, r.changes.refused])).to.deep.equal([['failure', 'KindNotWritable']]);
  });
});
