import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { describeApiError, findRepoRoot } from '../../src/platform/kube/local-cluster';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS, type LocalCluster } from '../support/kube';
import { waitUntil } from '../support/wait';

/** The HTTP status and the API server's message of a rejected client-node call. */
async function rejection(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { code: (err as { code: number }).code, message: describeApiError(err) };
  }
  throw new Error('expected the API server to reject the request');
}

describe('local control plane (real kube-apiserver, controller-manager, scheduler, kwok)', function () {
  let cluster: LocalCluster;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    cluster = await getTestCluster();
  });

  it('serves the pinned Kubernetes version with 3 Ready fake nodes of 16 CPU / 64Gi', async () => {
    const version = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).to.equal('v1.35.4');
    // The fake nodes (the shared cluster may also have its real node, started by an earlier test file).
    const nodes = await cluster.kubeConfig.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
    expect(nodes.items.map((n) => n.metadata!.name).sort()).to.deep.equal(['kwok-node-0', 'kwok-node-1', 'kwok-node-2']);
    for (const node of nodes.items) {
      expect(node.status!.allocatable).to.include({ cpu: '16', memory: '64Gi' });
      expect(node.status!.conditions!.find((c) => c.type === 'Ready')!.status).to.equal('True');
    }
  });

  it('runs a Deployment created through @kubernetes/client-node to Ready replicas (pods Running via kwok)', async function () {
    this.timeout(180_000);
    const namespace = await createTestNamespace('deploy');
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: 'web', image: 'registry.invalid/web:1', resources: { requests: { cpu: '500m', memory: '256Mi' } } }],
            },
          },
        },
      },
    });
    await waitUntil(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      return d.status?.readyReplicas === 2;
    }, 'Deployment web to have 2 ready replicas', 150_000);

    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items).to.have.length(2);
    for (const pod of pods.items) {
      expect(pod.status!.phase).to.equal('Running');
      expect(pod.spec!.nodeName).to.match(/^kwok-node-\d$/);
      expect(pod.status!.conditions!.find((c) => c.type === 'Ready')!.status).to.equal('True');
    }
  });

  it('binds a PersistentVolumeClaim of the default StorageClass, and a pod mounting it runs', async function () {
    this.timeout(120_000);
    const namespace = await createTestNamespace('pvc');
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    await waitUntil(async () => (await core.readNamespacedPersistentVolumeClaim({ name: 'home', namespace })).status?.phase === 'Bound', 'the claim to bind', 90_000);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'home', namespace });
    expect(claim.spec!.storageClassName).to.equal('kwok-volume');

    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'with-home' },
        spec: {
          containers: [{ name: 'app', image: 'registry.invalid/app:1', volumeMounts: [{ name: 'home', mountPath: '/home/user' }] }],
          volumes: [{ name: 'home', persistentVolumeClaim: { claimName: 'home' } }],
        },
      },
    });
    await waitUntil(async () => (await core.readNamespacedPod({ name: 'with-home', namespace })).status?.phase === 'Running', 'the pod to run', 90_000);
  });

  it('keeps every connection a burst of requests opened: the next burst opens none (no TLS handshake again)', async () => {
    const options: import('node:https').RequestOptions = {};
    await cluster.kubeConfig.applyToHTTPSOptions(options);
    const agent = options.agent as unknown as { createConnection: (...args: unknown[]) => unknown };
    const original = agent.createConnection;
    let opened = 0;
    agent.createConnection = function (this: unknown, ...args: unknown[]) {
      opened++;
      return original.apply(this, args);
    };
    try {
      const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
      const burst = () => Promise.all(Array.from({ length: 64 }, () => core.listNamespace({ limit: 1 })));
      await burst();
      expect(opened, 'the first burst opens connections of its own').to.be.greaterThan(32);
      // A socket goes back to the pool once its response has ended: let those callbacks run.
      await new Promise((resolve) => setTimeout(resolve, 50));
      opened = 0;
      await burst();
      expect(opened, 'connections opened by the second burst').to.equal(0);
    } finally {
      agent.createConnection = original;
    }
  });

  it('has every CRD of crds/ Established', async () => {
    const crdDir = path.join(findRepoRoot(), 'crds');
    const names = readdirSync(crdDir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(path.join(crdDir, f), 'utf8')).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name));
    expect(names).to.include('sessions.stream.streamspace.io');
    const api = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
    for (const name of names) {
      const crd = await api.readCustomResourceDefinition({ name });
      expect(crd.status!.conditions!.find((c) => c.type === 'Established')?.status, name).to.equal('True');
    }
  });

  it('validates custom resources with the CRD schema: a valid Session is stored, an invalid one is rejected', async () => {
    const namespace = await createTestNamespace('crd');
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const session = (name: string, spec: Record<string, unknown>) => ({
      group: 'stream.streamspace.io',
      version: 'v1alpha1',
      namespace,
      plural: 'sessions',
      body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name }, spec },
    });

    const stored = (await custom.createNamespacedCustomObject(session('ok', { user: 'alice', template: 'firefox' }))) as {
      spec: { state: string };
    };
    expect(stored.spec.state, 'the schema default is applied').to.equal('running');

    const bad = await rejection(custom.createNamespacedCustomObject(session('bad', { user: 'alice', template: 'Not_A_Name', state: 'sleeping' })));
    expect(bad.code).to.equal(422);
    expect(bad.message).to.include('Session.stream.streamspace.io "bad" is invalid');
    expect(bad.message).to.match(/spec\.state: Unsupported value: "sleeping"/);
    expect(bad.message).to.include('spec.template');

    // x-kubernetes-validations (CEL) run on the server too: the owner of a session is immutable.
    const moved = await rejection(
      custom.patchNamespacedCustomObject(
        { group: 'stream.streamspace.io', version: 'v1alpha1', namespace, plural: 'sessions', name: 'ok', body: [{ op: 'replace', path: '/spec/user', value: 'bob' }] },
      ),
    );
    expect(moved.code).to.equal(422);
    expect(moved.message).to.include('spec.user is immutable');
  });

  it('enforces RBAC: an impersonated ServiceAccount may do what its Role grants and nothing else', async () => {
    const namespace = await createTestNamespace('rbac');
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });

    // The admin identity of the cluster, acting as the ServiceAccount (kubectl --as=system:serviceaccount:...).
    const admin = cluster.kubeConfig;
    const asReader = new KubeConfig();
    asReader.loadFromOptions({
      clusters: admin.getClusters(),
      users: [{ ...admin.getCurrentUser()!, name: 'as-reader', impersonateUser: `system:serviceaccount:${namespace}:reader` }],
      contexts: [{ name: 'as-reader', cluster: admin.getCurrentCluster()!.name, user: 'as-reader' }],
      currentContext: 'as-reader',
    });
    const readerCore = asReader.makeApiClient(CoreV1Api);

    const cm = await readerCore.readNamespacedConfigMap({ name: 'settings', namespace });
    expect(cm.data).to.deep.equal({ a: '1' });
    expect((await readerCore.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata!.name)).to.include('settings');

    const write = await rejection(readerCore.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'nope' } } }));
    expect(write.code).to.equal(403);
    expect(write.message).to.include(`User "system:serviceaccount:${namespace}:reader" cannot create resource "configmaps"`);

    const secrets = await rejection(readerCore.listNamespacedSecret({ namespace }));
    expect(secrets.code).to.equal(403);
    expect(secrets.message).to.include('cannot list resource "secrets"');

    const otherNamespace = await rejection(readerCore.listNamespacedConfigMap({ namespace: 'default' }));
    expect(otherNamespace.code).to.equal(403);
  });
});
