import { expect } from 'chai';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { KWOK_METRICS_PATH_ANNOTATION, KWOK_NODE_ANNOTATION, METRICS_API_SERVICE, type LocalCluster } from '../../src/platform/kube/local-cluster';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestNamespace, KUBE_START_TIMEOUT_MS, requireMetricsServer, requireRealNode } from '../support/kube';
import { waitUntil } from '../support/wait';

interface NodeUsage {
  cpuMillicores: number;
  memoryBytes: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  timestamp: string | null;
  windowSeconds: number | null;
}
interface Node {
  name: string;
  allocatable: { name: string; value: string }[];
  usage: NodeUsage | null;
  usageUnavailableReason: string | null;
}
interface PodUsage {
  namespace: string;
  name: string;
  cpuMillicores: number;
  memoryBytes: number;
  containers: { name: string; cpuMillicores: number; memoryBytes: number }[];
}

const NODES = '{ clusterNodes { name allocatable { name value } usage { cpuMillicores memoryBytes cpuPercent memoryPercent timestamp windowSeconds } usageUnavailableReason } }';
const PODS = 'query ($namespace: String) { clusterPodUsage(namespace: $namespace) { pods { namespace name cpuMillicores memoryBytes containers { name cpuMillicores memoryBytes } } unavailableReason } }';
const MI = 2 ** 20;

describe('cluster metrics: node and pod usage from metrics.k8s.io (metrics-server on the local cluster)', function () {
  let cluster: LocalCluster;
  let realNode: string;
  let app: TestApp;
  let admin: SignedIn;
  let ns: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    // The real node first, so metrics-server's first scrapes already find its kubelet.
    realNode = (await requireRealNode()).nodeName;
    cluster = await requireMetricsServer();
    ns = await createTestNamespace('cluster-metrics');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
  });

  after(async () => {
    await app?.stop();
  });

  async function nodes(headers: Record<string, string> = admin.headers): Promise<Node[]> {
    const res = await app.gql<{ clusterNodes: Node[] }>(NODES, undefined, headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return res.body.data!.clusterNodes;
  }

  async function pods(namespace?: string) {
    const res = await app.gql<{ clusterPodUsage: { pods: PodUsage[]; unavailableReason: string | null } }>(PODS, { namespace }, admin.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return res.body.data!.clusterPodUsage;
  }

  it('reports the real node\'s usage from its kubelet: CPU and memory in use and their share of allocatable', async function () {
    this.timeout(120_000);
    let node: Node | undefined;
    // metrics-server needs two scrapes of a kubelet (10 s apart) for its first CPU figure.
    await waitUntil(async () => {
      node = (await nodes()).find((n) => n.name === realNode);
      return Boolean(node?.usage);
    }, `usage of ${realNode} from the metrics API`, 90_000);
    const usage = node!.usage!;
    expect(node!.usageUnavailableReason).to.equal(null);
    // A real machine running containerd, kubelet and pods: a working set of megabytes, never zero.
    expect(usage.memoryBytes).to.be.greaterThan(MI);
    expect(usage.cpuMillicores).to.be.at.least(0);
    const allocatableMemory = node!.allocatable.find((q) => q.name === 'memory')!.value;
    expect(allocatableMemory).to.be.a('string');
    expect(usage.memoryPercent).to.be.a('number').greaterThan(0).and.at.most(100);
    expect(usage.cpuPercent).to.be.a('number').at.least(0);
    expect(usage.windowSeconds).to.be.a('number').greaterThan(0);
    expect(new Date(usage.timestamp!).getTime()).to.be.greaterThan(Date.now() - 10 * 60_000);
  });

  it('reports kwok\'s simulated usage for a fake node and its pod, from the pod\'s kwok.x-k8s.io/usage annotations', async function () {
    this.timeout(120_000);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const nodeName = cluster.nodeNames[0]!;
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'busy', annotations: { 'kwok.x-k8s.io/usage-cpu': '250m', 'kwok.x-k8s.io/usage-memory': '300Mi' } },
        spec: {
          nodeName,
          tolerations: [{ operator: 'Exists' }],
          containers: [{ name: 'work', image: 'busybox' }],
        },
      },
    });
    let pod: PodUsage | undefined;
    await waitUntil(async () => {
      const answer = await pods(ns);
      pod = answer.pods.find((p) => p.name === 'busy');
      // kwok's first reading of a new pod can precede its usage rule; the next scrape has the figures.
      return pod?.memoryBytes === 300 * MI;
    }, 'usage of pod busy from the metrics API', 90_000).catch(async (err: Error) => {
      const node = await core.readNode({ name: nodeName });
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      const raw = await fetch(`https://127.0.0.1:${port}/metrics/nodes/${nodeName}/metrics/resource`).then((r) => r.text(), (e: Error) => e.message);
      throw new Error(`${err.message}; last pod usage ${JSON.stringify(pod)}; kwok's metrics: ${raw.slice(0, 3000)}`);
    });
    expect(pod!.namespace).to.equal(ns);
    expect(pod!.memoryBytes).to.equal(300 * MI);
    // A rate of kwok's simulated cumulative CPU counter over metrics-server's window: 250m, give or take rounding.
    expect(pod!.cpuMillicores).to.be.closeTo(250, 25);
    expect(pod!.containers).to.have.length(1);
    expect(pod!.containers[0]!.name).to.equal('work');
    expect(pod!.containers[0]!.memoryBytes).to.equal(300 * MI);

    let node: Node | undefined;
    await waitUntil(async () => {
      node = (await nodes()).find((n) => n.name === nodeName);
      return (node?.usage?.memoryBytes ?? 0) >= 300 * MI;
    }, `usage of ${nodeName} including pod busy`, 90_000);
    // 16 CPUs and 64Gi allocatable: the share is computed from the node's own allocatable.
    expect(node!.usage!.cpuPercent).to.be.a('number').at.least(1.4);
    expect(node!.usage!.memoryPercent).to.be.a('number').at.least(0.4);
    expect(node!.usageUnavailableReason).to.equal(null);
  });

  it('reports usage for a fake node that runs no pod at all (its own 1m CPU and 1Mi)', async function () {
    this.timeout(180_000);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const template = await core.readNode({ name: cluster.nodeNames[0]! });
    const name = `kwok-idle-${Date.now().toString(36)}`;
    // A new fake node like the cluster's own, tainted so nothing schedules onto it while the test runs.
    await core.createNode({
      body: {
        metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: 'fake' }, labels: { ...template.metadata!.labels, 'kubernetes.io/hostname': name } },
        spec: { taints: [{ key: 'streamspace.io/idle-test', effect: 'NoSchedule' }] },
        status: { allocatable: template.status!.allocatable, capacity: template.status!.capacity },
      },
    });
    try {
      await waitUntil(async () => (await core.readNode({ name })).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, `${name} Ready`, 60_000);
      // Pointed at kwok's simulated kubelet as the cluster points its own fake nodes (see metrics-server.ts).
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      await core.patchNode({ name, body: { metadata: { annotations: { [KWOK_METRICS_PATH_ANNOTATION]: `/metrics/nodes/${name}/metrics/resource` } } } }, merge);
      await core.patchNodeStatus({ name, body: { status: { addresses: [{ type: 'ExternalIP', address: '127.0.0.1' }], daemonEndpoints: template.status!.daemonEndpoints } } }, merge);
      const podsOnIt = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
      expect(podsOnIt.items).to.have.length(0);
      let node: Node | undefined;
      await waitUntil(async () => {
        node = (await nodes()).find((n) => n.name === name);
        return Boolean(node?.usage);
      }, `usage of the idle node ${name}`, 120_000);
      expect(node!.usage!.memoryBytes).to.equal(MI);
      expect(node!.usage!.cpuMillicores).to.be.closeTo(1, 0.5);
      expect(node!.usageUnavailableReason).to.equal(null);
    } finally {
      await core.deleteNode({ name });
    }
  });

  it('samples each node\'s CPU and memory into the monitoring series, read back through metricSeries', async () => {
    const sample = await app.services.monitoring.sample();
    const memory = sample.values.get(`node_memory_bytes/${realNode}`);
    expect(memory).to.be.a('number').greaterThan(MI);
    expect(sample.values.get(`node_cpu_millicores/${realNode}`)).to.be.a('number').at.least(0);
    const res = await app.gql<{ metricSeries: { name: string; unit: string; points: { value: number }[] }[] }>(
      'query ($names: [String!]!) { metricSeries(names: $names, range: HOUR) { name unit points { value } } }',
      { names: [`node_memory_bytes/${realNode}`, `node_cpu_millicores/${realNode}`] },
      admin.headers,
    );
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    const [mem, cpu] = res.body.data!.metricSeries;
    expect(mem).to.include({ name: `node_memory_bytes/${realNode}`, unit: 'B' });
    expect(mem!.points.at(-1)!.value).to.be.greaterThan(MI);
    expect(cpu).to.include({ unit: 'millicores' });
  });

  it('lets auditors read usage (a cluster read), and refuses a namespace that is not a DNS-1123 label', async () => {
    const auditor = await createUserAndToken(app, 'auditor');
    const list = await nodes(auditor.headers);
    expect(list.find((n) => n.name === realNode)?.usage).to.not.equal(null);
    const bad = await app.gql(PODS, { namespace: 'Not_A_Namespace' }, admin.headers);
    expect(bad.body.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
  });

  it('answers null usage with the reason, never an error, when the cluster does not serve the metrics API', async function () {
    this.timeout(120_000);
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const ref = { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: METRICS_API_SERVICE } };
    const saved = (await objects.read(ref)) as KubernetesObject & { spec: unknown };
    await objects.delete(ref);
    try {
      let list: Node[] = [];
      await waitUntil(async () => {
        list = await nodes();
        return list.every((n) => n.usage === null);
      }, 'node usage to disappear with the metrics API', 60_000);
      expect(list.length).to.be.greaterThan(0);
      for (const n of list) expect(n.usageUnavailableReason).to.match(/does not serve the metrics API \(metrics\.k8s\.io\/v1beta1\)/);
      const answer = await pods(ns);
      expect(answer.pods).to.deep.equal([]);
      expect(answer.unavailableReason).to.match(/does not serve the metrics API/);
    } finally {
      await objects.create({ apiVersion: saved.apiVersion, kind: saved.kind, metadata: { name: METRICS_API_SERVICE }, spec: saved.spec } as KubernetesObject);
    }
    await waitUntil(async () => (await nodes()).some((n) => n.usage !== null), 'node usage to come back with the metrics API', 90_000);
  });
});
