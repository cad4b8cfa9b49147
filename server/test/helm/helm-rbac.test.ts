import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, KubernetesObjectApi, type KubernetesObject, type V1ResourceAttributes } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../../..');
const chart = path.join(repo, 'helm', 'streamspace');

async function render(helm: string, release: string, namespace: string, values: string[]): Promise<KubernetesObject[]> {
  const set = values.flatMap((v) => ['--set', v]);
  const { stdout } = await run(helm, ['template', release, chart, '--namespace', namespace, '--kube-version', '1.35.0', ...set], { maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => Boolean(o));
}

const RBAC_KINDS = ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];

/**
 * Issue 13 item 8: the chart's default RBAC is not cluster-admin. Every permission below is asked of the real API
 * server's RBAC authorizer as the platform's ServiceAccount (a SubjectAccessReview: what `kubectl auth can-i
 * --as=system:serviceaccount:<ns>:<sa>` does), after the chart's RBAC objects were really applied.
 */
describe('Helm chart RBAC: least privilege, proven on the real API server', function () {
  this.timeout(120_000);
  let helm: string;
  let releaseNs: string;
  let sessionsNs: string;
  let otherNs: string;
  let extraNs: string;
  let sa: string;
  let authz: AuthorizationV1Api;
  let client: KubernetesObjectApi;
  const created: KubernetesObject[] = [];
  const release = `rbac-${process.pid}`;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    helm = (await run('bash', [path.join(repo, 'scripts', 'helm', 'ensure-helm.sh')], { maxBuffer: 1024 * 1024 })).stdout.trim();
    const cluster = await getTestCluster();
    releaseNs = await createTestNamespace('rbac');
    sessionsNs = await createTestNamespace('rbac-sessions');
    otherNs = await createTestNamespace('rbac-other');
    extraNs = await createTestNamespace('rbac-extra');
    authz = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
    client = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const objects = (await render(helm, release, releaseNs, [`rbac.writeNamespaces[0]=${extraNs}`, `sessions.namespace=${sessionsNs}`])).filter((o) => RBAC_KINDS.includes(o.kind!));
    for (const obj of objects) {
      if (!obj.kind!.startsWith('Cluster')) obj.metadata = { ...obj.metadata, namespace: obj.metadata?.namespace ?? releaseNs };
      await client.create(obj);
      created.push(obj);
    }
    sa = objects.find((o) => o.kind === 'ServiceAccount')!.metadata!.name!;
  });

  after(async () => {
    for (const obj of created.filter((o) => o.kind!.startsWith('Cluster'))) await client.delete(obj).catch(() => undefined);
  });

  async function can(verb: string, resource: string, namespace: string | undefined, extra: Partial<V1ResourceAttributes> = {}): Promise<boolean> {
    const [group, res] = resource.includes('.') ? [resource.slice(resource.indexOf('.') + 1), resource.slice(0, resource.indexOf('.'))] : ['', resource];
    const [plural, subresource] = res.split('/');
    const review = await authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: `system:serviceaccount:${releaseNs}:${sa}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${releaseNs}`, 'system:authenticated'],
          resourceAttributes: { verb, group, resource: plural, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}), ...extra },
        },
      },
    });
    return review.status?.allowed === true;
  }

  async function expectAll(checks: [string, string, string | undefined][], allowed: boolean) {
    const wrong: string[] = [];
    for (const [verb, resource, ns] of checks) {
      if ((await can(verb, resource, ns)) !== allowed) wrong.push(`${verb} ${resource}${ns ? ` in ${ns}` : ' (cluster-wide)'}`);
    }
    expect(wrong, `${allowed ? 'refused but needed' : 'allowed but must not be'}`).to.deep.equal([]);
  }

  it('renders no cluster-admin binding by default; it is an explicit, documented opt-in', async () => {
    const defaults = await render(helm, 'streamspace', 'streamspace', []);
    const refs = defaults.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => (o as KubernetesObject & { roleRef: { name: string } }).roleRef.name);
    expect(refs).to.deep.equal(['streamspace-cluster-read']);
    const optIn = await render(helm, 'streamspace', 'streamspace', ['rbac.clusterAdmin=true']);
    expect(optIn.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => (o as KubernetesObject & { roleRef: { name: string } }).roleRef.name)).to.include('cluster-admin');
    const noViews = await render(helm, 'streamspace', 'streamspace', ['rbac.clusterRead=false']);
    expect(noViews.filter((o) => o.kind!.startsWith('Cluster'))).to.deep.equal([]);
  });

  it('may run sessions in the session namespace: CRDs, workloads, Services, claims, pods, logs, shell, events, its Lease, read Secrets', async () => {
    const ns = sessionsNs;
    await expectAll(
      [
        ['create', 'sessions.stream.streamspace.io', ns],
        ['patch', 'sessions/status.stream.streamspace.io', ns],
        ['watch', 'templates.stream.streamspace.io', ns],
        ['create', 'connections.stream.streamspace.io', ns],
        ['create', 'deployments.apps', ns],
        ['patch', 'deployments/scale.apps', ns],
        ['create', 'services', ns],
        ['create', 'persistentvolumeclaims', ns],
        ['create', 'ingresses.networking.k8s.io', ns],
        ['patch', 'networkpolicies.networking.k8s.io', ns],
        ['delete', 'pods', ns],
        ['get', 'pods/log', ns],
        ['create', 'pods/exec', ns],
        ['create', 'events', ns],
        ['get', 'secrets', ns],
        ['get', 'configmaps', ns],
        ['update', 'leases.coordination.k8s.io', ns],
      ],
      true,
    );
  });

  it('reads the cluster views everywhere (nodes, namespaces, workloads, node and pod usage), but never Secrets, logs or shells outside its namespaces', async () => {
    await expectAll(
      [
        ['list', 'nodes', undefined],
        ['watch', 'namespaces', undefined],
        ['list', 'pods', 'kube-system'],
        ['list', 'deployments.apps', otherNs],
        ['list', 'sessions.stream.streamspace.io', undefined],
        ['list', 'events', otherNs],
        ['list', 'replicasets.apps', otherNs],
        ['list', 'statefulsets.apps', otherNs],
        ['list', 'endpointslices.discovery.k8s.io', otherNs],
        ['list', 'poddisruptionbudgets.policy', otherNs],
        ['list', 'nodes.metrics.k8s.io', undefined],
        ['list', 'pods.metrics.k8s.io', otherNs],
      ],
      true,
    );
    await expectAll(
      [
        ['get', 'secrets', 'kube-system'],
        ['list', 'secrets', undefined],
        ['get', 'pods/log', otherNs],
        ['create', 'pods/exec', 'kube-system'],
        ['create', 'pods/exec', otherNs],
      ],
      false,
    );
  });

  it('writes nowhere else: no workloads in other namespaces, no cluster objects, no RBAC, no impersonation, no Secret writes', async () => {
    await expectAll(
      [
        ['create', 'deployments.apps', otherNs],
        ['delete', 'networkpolicies.networking.k8s.io', otherNs],
        ['delete', 'pods', 'kube-system'],
        ['create', 'services', otherNs],
        ['patch', 'configmaps', 'kube-system'],
        ['create', 'namespaces', undefined],
        ['delete', 'nodes', undefined],
        // Cordon and drain are the opt-in rbac.nodeMaintenance.
        ['patch', 'nodes', undefined],
        ['create', 'pods/eviction', otherNs],
        ['patch', 'statefulsets/scale.apps', otherNs],
        ['patch', 'deployments/scale.apps', otherNs],
        ['create', 'poddisruptionbudgets.policy', otherNs],
        ['create', 'customresourcedefinitions.apiextensions.k8s.io', undefined],
        ['create', 'clusterrolebindings.rbac.authorization.k8s.io', undefined],
        ['create', 'roles.rbac.authorization.k8s.io', releaseNs],
        ['bind', 'clusterroles.rbac.authorization.k8s.io', undefined],
        ['escalate', 'roles.rbac.authorization.k8s.io', releaseNs],
        ['impersonate', 'users', undefined],
        ['create', 'secrets', releaseNs],
        ['update', 'secrets', releaseNs],
        ['list', 'secrets', releaseNs],
        ['create', 'serviceaccounts/token', releaseNs],
      ],
      false,
    );
  });

  it('keeps the platform\'s own namespace out of reach: its Secret, its pods\' logs and shells, its workloads', async () => {
    // Sessions run in a namespace of their own by default, so the session Role does not cover the release's.
    const defaults = await render(helm, 'streamspace', 'streamspace', []);
    const role = defaults.find((o) => o.kind === 'Role')!;
    expect(role.metadata!.namespace).to.equal('streamspace-sessions');
    await expectAll(
      [
        ['get', 'secrets', releaseNs],
        ['list', 'secrets', releaseNs],
        ['get', 'pods/log', releaseNs],
        ['create', 'pods/exec', releaseNs],
        ['delete', 'pods', releaseNs],
        ['patch', 'deployments.apps', releaseNs],
        ['create', 'pods', releaseNs],
        ['list', 'secrets', sessionsNs],
        ['create', 'secrets', sessionsNs],
        ['update', 'configmaps', sessionsNs],
      ],
      false,
    );
  });

  it('writes in the namespaces the admin named in rbac.writeNamespaces, and only there', async () => {
    await expectAll(
      [
        ['create', 'deployments.apps', extraNs],
        ['delete', 'secrets', extraNs],
        ['create', 'pods/exec', extraNs],
        ['get', 'pods/log', extraNs],
        ['patch', 'deployments/scale.apps', extraNs],
        ['patch', 'statefulsets.apps', extraNs],
        ['patch', 'statefulsets/scale.apps', extraNs],
        ['list', 'replicasets.apps', extraNs],
        ['create', 'poddisruptionbudgets.policy', extraNs],
      ],
      true,
    );
    await expectAll([['create', 'deployments.apps', otherNs]], false);
  });

  it('cordons and drains only with rbac.nodeMaintenance: patch nodes and evict pods, never delete them or nodes', async () => {
    const objects = (await render(helm, release, releaseNs, ['rbac.nodeMaintenance=true', `sessions.namespace=${sessionsNs}`])).filter((o) => o.metadata?.name?.endsWith('-node-maintenance'));
    expect(objects.map((o) => o.kind).sort()).to.deep.equal(['ClusterRole', 'ClusterRoleBinding']);
    for (const obj of objects) {
      await client.create(obj);
      created.push(obj);
    }
    await expectAll(
      [
        ['patch', 'nodes', undefined],
        ['create', 'pods/eviction', otherNs],
        ['create', 'pods/eviction', 'kube-system'],
      ],
      true,
    );
    await expectAll(
      [
        ['delete', 'nodes', undefined],
        ['delete', 'pods', otherNs],
        ['get', 'secrets', otherNs],
        ['create', 'pods/exec', otherNs],
      ],
      false,
    );
  });
});
