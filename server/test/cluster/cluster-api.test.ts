import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { decodeCursor } from '../../src/platform/graphql/pagination';

const SECRET_VALUE = 'never-show-this-9f3c1d';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');
const RESOURCE_FIELDS = 'kind apiVersion name namespace uid resourceVersion createdAt labels annotations status secretKeys { key size } containers yaml';

interface Resource {
  kind: string;
  name: string;
  namespace: string | null;
  resourceVersion: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: string | null;
  secretKeys: { key: string; size: number }[] | null;
  containers: string[] | null;
  yaml: string;
}

describe('cluster: admin API on the real control plane', function () {
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  let core: CoreV1Api;
  /** Every raw response body of this suite, to prove no Secret value ever left the server. */
  const transcript: string[] = [];

  async function gql<T>(query: string, variables?: Record<string, unknown>, as: { headers: Record<string, string> } = admin) {
    const res = await app.gql<T>(query, variables, as.headers);
    transcript.push(JSON.stringify(res.body));
    return res.body;
  }

  function wsClient(token: string): Client {
    return createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
  }

  /** Subscribes and resolves with the first `count` events (or rejects with the first error). */
  function firstEvents<T>(client: Client, query: string, variables: Record<string, unknown>, count: number, onStarted?: () => void) {
    const events: T[] = [];
    let dispose: () => void = () => {};
    const done = new Promise<T[]>((resolve, reject) => {
      dispose = client.subscribe<T>(
        { query, variables },
        {
          next: (value) => {
            transcript.push(JSON.stringify(value));
            if (value.errors) return reject(Object.assign(new Error(value.errors[0]!.message), { extensions: value.errors[0]!.extensions }));
            events.push(value.data as T);
            if (events.length >= count) resolve(events);
          },
          error: (err) => reject(Array.isArray(err) ? Object.assign(new Error((err as { message: string }[])[0]!.message), { extensions: (err as { extensions?: unknown }[])[0]!.extensions }) : err),
          complete: () => resolve(events),
        },
      );
      onStarted?.();
    });
    return { done, dispose: () => dispose() };
  }

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    ns = await createTestNamespace('cluster-api');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
  });
  after(async () => {
    await app?.stop();
  });

  it('warms the pod watch cache on request, so the very first page comes from it; kinds without a cache say so', async () => {
    const podNs = await createTestNamespace('cluster-warm');
    await core.createNamespacedPod({ namespace: podNs, body: { metadata: { name: 'w' }, spec: { containers: [{ name: 'app', image: 'ghcr.io/example/notes:1.0' }] } } });
    expect(await app.services.clusterAdmin.warmCache('Pod')).to.equal(true);
    await waitUntil(async () => {
      const body = await gql<{ clusterResources: { edges: { cursor: string }[] } }>('query($ns: String) { clusterResources(kind: Pod, namespace: $ns, first: 1) { edges { cursor } } }', { ns: podNs });
      return body.data!.clusterResources.edges.length === 1;
    }, 'the new pod in the warmed cache');
    const first = await gql<{ clusterResources: { edges: { cursor: string }[] } }>('query($ns: String) { clusterResources(kind: Pod, namespace: $ns, first: 1) { edges { cursor } } }', { ns: podNs });
    // A cache page's cursor starts with '~' (an API-server page carries the server's continue token).
    expect(String(decodeCursor(first.data!.clusterResources.edges[0]!.cursor, 2)[0])).to.match(/^~/);
    expect(await app.services.clusterAdmin.warmCache('ConfigMap')).to.equal(false);
    expect(await app.services.clusterAdmin.warmCache('NoSuchKind')).to.equal(false);
  });

  it('serves pod pages from a watch cache once it has synced: API-server order, cursors after an object, changes seen', async () => {
    const podNs = await createTestNamespace('cluster-cache');
    const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: 'ghcr.io/example/notes:1.0' }] } });
    for (const name of ['p-c', 'p-a', 'p-e', 'p-b', 'p-d']) await core.createNamespacedPod({ namespace: podNs, body: pod(name) });
    type Page = { clusterResources: { totalCount: number | null; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { cursor: string; node: { name: string; namespace: string } }[] } };
    const page = async (after?: string) => {
      const body = await gql<Page>('query($ns: String, $after: String) { clusterResources(kind: Pod, namespace: $ns, first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name namespace } } } }', { ns: podNs, after });
      expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
      return body.data!.clusterResources;
    };
    const fromCache = (cursor: string) => String(decodeCursor(cursor, 2)[0]).startsWith('~');
    // The first list starts the cache (and is answered by the API server); later ones come from the cache.
    await waitUntil(async () => fromCache((await page()).edges[0]!.cursor), 'pod pages from the watch cache');
    const first = await page();
    expect(first.edges.map((e) => e.node.name)).to.deep.equal(['p-a', 'p-b']);
    expect(first.totalCount).to.equal(5);
    expect(first.pageInfo.hasNextPage).to.equal(true);
    // A pod created before the cursor's object does not shift the next page.
    await core.createNamespacedPod({ namespace: podNs, body: pod('p-0') });
    await waitUntil(async () => (await page()).totalCount === 6, 'the new pod in the cache');
    const second = await page(first.pageInfo.endCursor!);
    expect(second.edges.map((e) => e.node.name)).to.deep.equal(['p-c', 'p-d']);
    const third = await page(second.pageInfo.endCursor!);
    expect(third.edges.map((e) => e.node.name)).to.deep.equal(['p-e']);
    expect(third.pageInfo.hasNextPage).to.equal(false);
    // Every namespace: the same cache, in namespace order; a label selector still asks the API server.
    const all = await gql<Page>('{ clusterResources(kind: Pod, first: 100) { totalCount edges { cursor node { name namespace } } } }');
    const keys = all.data!.clusterResources.edges.map((e) => `${e.node.namespace}/${e.node.name}`);
    expect(keys).to.deep.equal([...keys].sort());
    expect(keys).to.include(`${podNs}/p-0`);
    const selected = await gql<Page>('query($ns: String) { clusterResources(kind: Pod, namespace: $ns, first: 2, labelSelector: "none=here") { totalCount edges { cursor node { name } } } }', { ns: podNs });
    expect(selected.data!.clusterResources.edges).to.deep.equal([]);
    // The nodes view reads the node cache too and sees the same nodes as the API server.
    const nodes = await gql<{ clusterNodes: { name: string }[] }>('{ clusterNodes { name } }');
    expect(nodes.data!.clusterNodes.map((n) => n.name).sort()).to.deep.equal((await core.listNode()).items.map((n) => n.metadata!.name!).sort());
  });

  it('lists the simulated nodes with capacity, allocatable resources and conditions', async () => {
    const body = await gql<{ clusterNodes: { name: string; ready: boolean; capacity: { name: string; value: string }[]; allocatable: { name: string }[]; conditions: { type: string; status: string }[] }[] }>(
      '{ clusterNodes { name ready unschedulable kubeletVersion internalIp capacity { name value } allocatable { name value } conditions { type status reason message lastTransitionTime } labels createdAt } }',
    );
    expect(body.errors).to.equal(undefined);
    const nodes = body.data!.clusterNodes;
    expect(nodes.length).to.be.greaterThan(0);
    for (const node of nodes) {
      expect(node.ready, node.name).to.equal(true);
      expect(node.capacity.map((q) => q.name)).to.include.members(['cpu', 'memory', 'pods']);
      expect(node.allocatable.map((q) => q.name)).to.include('cpu');
      expect(node.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
    }
    const list = await gql<{ clusterResources: { totalCount: number; edges: { node: Resource }[] } }>('{ clusterResources(kind: Node) { totalCount edges { node { name namespace status } } } }');
    expect(list.data!.clusterResources.totalCount).to.equal(nodes.length);
    expect(list.data!.clusterResources.edges.every((e) => e.node.namespace === null && e.node.status === 'Ready')).to.equal(true);
  });

  it('lists namespaces', async () => {
    const body = await gql<{ clusterNamespaces: { name: string; phase: string }[] }>('{ clusterNamespaces { name phase labels createdAt } }');
    expect(body.data!.clusterNamespaces.find((n) => n.name === ns)?.phase).to.equal('Active');
  });

  it('creates, changes, pages through and deletes objects from YAML, with audit rows', async () => {
    const apply = (yaml: string, force?: boolean) =>
      gql<{ applyClusterResourceYaml: Resource }>(`mutation($yaml: String!, $force: Boolean) { applyClusterResourceYaml(yaml: $yaml, force: $force) { ${RESOURCE_FIELDS} } }`, { yaml, force });
    for (const name of ['cm-a', 'cm-b', 'cm-c']) {
      const res = await apply(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n  labels: {suite: cluster}\ndata:\n  greeting: hello ${name}\n`);
      expect(res.errors, JSON.stringify(res.errors)).to.equal(undefined);
      expect(res.data!.applyClusterResourceYaml).to.include({ kind: 'ConfigMap', name, namespace: ns });
    }
    const stored = await core.readNamespacedConfigMap({ name: 'cm-b', namespace: ns });
    expect(stored.data).to.deep.equal({ greeting: 'hello cm-b' });
    expect(stored.metadata?.managedFields?.map((m) => m.manager)).to.include('streamspace-admin');

    // The YAML view round-trips: edit it and apply it back.
    const one = await gql<{ clusterResource: Resource }>(`query($ns: String) { clusterResource(kind: ConfigMap, namespace: $ns, name: "cm-b") { ${RESOURCE_FIELDS} } }`, { ns });
    const yaml = one.data!.clusterResource.yaml;
    expect(yaml).to.match(/^apiVersion: v1\nkind: ConfigMap\n/);
    expect(yaml).to.include('greeting: hello cm-b');
    expect(yaml).not.to.include('managedFields');
    const changed = await apply(yaml.replace('hello cm-b', 'changed'));
    expect(changed.errors, JSON.stringify(changed.errors)).to.equal(undefined);
    // The answer is the object exactly as the API server returned it (not re-serialised through client models).
    expect(changed.data!.applyClusterResourceYaml.yaml).to.match(/^apiVersion: v1\nkind: ConfigMap\nmetadata:\n/);
    expect(changed.data!.applyClusterResourceYaml.yaml).to.match(/creationTimestamp: "?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"?\n/);
    expect((await core.readNamespacedConfigMap({ name: 'cm-b', namespace: ns })).data).to.deep.equal({ greeting: 'changed' });

    // The old YAML carries the old resourceVersion: applying it again is a conflict, not a silent overwrite.
    const stale = await apply(yaml.replace('hello cm-b', 'stale'));
    expect(stale.errors?.[0]?.extensions?.code).to.equal('CONFLICT');

    // Pages of 2 through 3 labelled ConfigMaps, with the API server's continue token.
    const page = (after?: string) =>
      gql<{ clusterResources: { totalCount: number | null; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Resource }[] } }>(
        'query($ns: String, $after: String) { clusterResources(kind: ConfigMap, namespace: $ns, first: 2, after: $after, labelSelector: "suite=cluster") { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } } }',
        { ns, after },
      );
    const first = await page();
    expect(first.errors).to.equal(undefined);
    expect(first.data!.clusterResources.edges.map((e) => e.node.name)).to.deep.equal(['cm-a', 'cm-b']);
    expect(first.data!.clusterResources.pageInfo.hasNextPage).to.equal(true);
    const second = await page(first.data!.clusterResources.pageInfo.endCursor!);
    expect(second.data!.clusterResources.edges.map((e) => e.node.name)).to.deep.equal(['cm-c']);
    expect(second.data!.clusterResources.pageInfo.hasNextPage).to.equal(false);
    expect(second.data!.clusterResources.totalCount).to.equal(3);

    const deleted = await gql<{ deleteClusterResource: boolean }>('mutation($ns: String) { deleteClusterResource(kind: ConfigMap, namespace: $ns, name: "cm-a") }', { ns });
    expect(deleted.data?.deleteClusterResource).to.equal(true);
    await waitUntil(async () => (await gql<{ clusterResource: Resource | null }>('query($ns: String) { clusterResource(kind: ConfigMap, namespace: $ns, name: "cm-a") { name } }', { ns })).data?.clusterResource === null, 'cm-a to be gone');
    const again = await gql('mutation($ns: String) { deleteClusterResource(kind: ConfigMap, namespace: $ns, name: "cm-a") }', { ns });
    expect(again.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');

    const audit = await gql<{ auditLog: { edges: { node: { action: string; resourceId: string; outcome: string; actorUsername: string; changes: Record<string, unknown> } }[] } }>(
      '{ auditLog(filter: { action: "cluster." }, first: 50) { edges { node { action resourceId outcome actorUsername changes } } } }',
    );
    const rows = audit.data!.auditLog.edges.map((e) => e.node);
    expect(rows.filter((r) => r.action === 'cluster.apply' && r.outcome === 'success').map((r) => r.resourceId)).to.include.members([`ConfigMap/${ns}/cm-a`, `ConfigMap/${ns}/cm-b`, `ConfigMap/${ns}/cm-c`]);
    expect(rows.find((r) => r.action === 'cluster.apply' && r.outcome === 'failure')?.resourceId).to.equal(`ConfigMap/${ns}/cm-b`);
    const del = rows.find((r) => r.action === 'cluster.delete' && r.outcome === 'success');
    expect(del).to.include({ resourceId: `ConfigMap/${ns}/cm-a`, actorUsername: 'admin' });
  });

  it('refuses manifests that are invalid or outside the allow-list, with BAD_USER_INPUT', async () => {
    const cases = [
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: evil}\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: no-namespace}\n',
      'not: [valid',
      `apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: ${ns}}\nspec: {ports: [{port: 99999}]}\n`,
      // Strict field validation: a typo is refused, not silently dropped.
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo, namespace: ${ns}}\ndatta: {a: b}\n`,
    ];
    for (const yaml of cases) {
      const res = await gql('mutation($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', { yaml });
      expect(res.errors?.[0]?.extensions?.code, `${yaml} ${JSON.stringify(res.errors)}`).to.equal('BAD_USER_INPUT');
    }
    const badKind = await gql('{ clusterResources(kind: Pod, namespace: "Not_A_Namespace") { totalCount } }');
    expect(badKind.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    const scoped = await gql('{ clusterResources(kind: Node, namespace: "default") { totalCount } }');
    expect(scoped.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
  });

  it('never returns a Secret value: lists, YAML, apply answers, watch events and edits of the redacted YAML', async () => {
    const client = wsClient(admin.accessToken);
    try {
      // Collect every event of the watch; sentinel Secrets are created until one arrives (the watch lists first).
      const events: { type: string; resource: Resource }[] = [];
      let n = 0;
      const seen = () => events.length > 0;
      const sub = client.subscribe<{ clusterResourceChanged: { type: string; resource: Resource } }>(
        { query: `subscription($ns: String) { clusterResourceChanged(kind: Secret, namespace: $ns) { type resource { ${RESOURCE_FIELDS} } } }`, variables: { ns } },
        { next: (v) => { transcript.push(JSON.stringify(v)); if (v.data) events.push(v.data.clusterResourceChanged); }, error: () => undefined, complete: () => undefined },
      );
      await waitUntil(async () => {
        if (seen()) return true;
        await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: `sentinel-${++n}` }, stringData: { a: 'b' } } });
        return false;
      }, 'a Secret watch event');
      const created = await gql<{ applyClusterResourceYaml: Resource }>(
        `mutation($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { ${RESOURCE_FIELDS} } }`,
        { yaml: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: ${ns}\ntype: Opaque\nstringData:\n  password: ${SECRET_VALUE}\ndata:\n  token: ${SECRET_B64}\n` },
      );
      expect(created.errors, JSON.stringify(created.errors)).to.equal(undefined);
      expect(created.data!.applyClusterResourceYaml.secretKeys).to.deep.equal([
        { key: 'password', size: SECRET_VALUE.length },
        { key: 'token', size: SECRET_VALUE.length },
      ]);
      // A Secret written by kubectl apply carries its values in clear in an annotation: that is redacted too.
      const raw = await core.readNamespacedSecret({ name: 'creds', namespace: ns });
      raw.metadata!.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password: SECRET_VALUE } }) };
      await core.replaceNamespacedSecret({ name: 'creds', namespace: ns, body: raw });
      const got = await gql<{ clusterResource: Resource }>(`query($ns: String) { clusterResource(kind: Secret, namespace: $ns, name: "creds") { ${RESOURCE_FIELDS} } }`, { ns });
      const yaml = got.data!.clusterResource.yaml;
      expect(yaml).to.include('password: "**redacted**"');
      await gql(`query($ns: String) { clusterResources(kind: Secret, namespace: $ns) { edges { node { ${RESOURCE_FIELDS} } } } }`, { ns });

      // Editing the redacted YAML (a new label) keeps the stored values.
      const edited = yaml.replace('metadata:\n', 'metadata:\n  labels:\n    edited: "yes"\n');
      const applied = await gql<{ applyClusterResourceYaml: Resource }>(`mutation($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { ${RESOURCE_FIELDS} } }`, { yaml: edited });
      expect(applied.errors, JSON.stringify(applied.errors)).to.equal(undefined);
      expect(applied.data!.applyClusterResourceYaml.labels).to.deep.equal({ edited: 'yes' });
      const stored = await core.readNamespacedSecret({ name: 'creds', namespace: ns });
      expect(stored.data).to.deep.equal({ password: SECRET_B64, token: SECRET_B64 });

      await waitUntil(() => events.filter((e) => e.resource.name === 'creds').length >= 3, 'ADDED and two MODIFIED events of creds');
      expect(events.filter((e) => e.resource.name === 'creds').map((e) => e.type)).to.deep.equal(['ADDED', 'MODIFIED', 'MODIFIED']);
      sub();
    } finally {
      await client.dispose();
    }
    const audit = await gql('{ auditLog(filter: { action: "cluster.apply" }, first: 50) { edges { node { changes } } } }');
    expect(audit.errors).to.equal(undefined);
    const everything = transcript.join('\n');
    expect(everything).not.to.include(SECRET_VALUE);
    expect(everything).not.to.include(SECRET_B64);
  });

  it('streams watch events of a kind to an admin subscriber', async () => {
    const client = wsClient(admin.accessToken);
    try {
      const watch = firstEvents<{ clusterResourceChanged: { type: string; resource: { name: string; namespace: string } } }>(
        client,
        'subscription($ns: String) { clusterResourceChanged(kind: ConfigMap, namespace: $ns) { type resource { name namespace } } }',
        { ns },
        1,
      );
      // Keep creating until the subscription (which lists first) has seen one: no sleeps, no timing assumptions.
      let n = 0;
      let received = false;
      void watch.done.then(() => (received = true), () => (received = true));
      await waitUntil(async () => {
        if (received) return true;
        await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `watched-${++n}` } } });
        return false;
      }, 'a watch event');
      const [event] = await watch.done;
      expect(event!.clusterResourceChanged.type).to.equal('ADDED');
      expect(event!.clusterResourceChanged.resource.namespace).to.equal(ns);
      expect(event!.clusterResourceChanged.resource.name).to.match(/^watched-\d+$/);
      watch.dispose();
    } finally {
      await client.dispose();
    }
  });

  it('answers FORBIDDEN to a non-admin for every cluster operation, and changes nothing', async () => {
    const ops = [
      '{ clusterNodes { name } }',
      '{ clusterNamespaces { name } }',
      '{ clusterResources(kind: Secret) { totalCount } }',
      `{ clusterResource(kind: Secret, namespace: "${ns}", name: "creds") { yaml } }`,
      `{ podLogs(namespace: "${ns}", name: "x") }`,
      `mutation { applyClusterResourceYaml(yaml: "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: by-user, namespace: ${ns}}\\n") { name } }`,
      `mutation { deleteClusterResource(kind: Secret, namespace: "${ns}", name: "creds") }`,
      'mutation { podShellInput(shellId: "x", data: "id\\n") }',
    ];
    for (const op of ops) {
      const res = await gql(op, undefined, user);
      expect(res.errors?.[0]?.extensions?.code, op).to.equal('FORBIDDEN');
      const anon = await gql(op, undefined, { headers: {} });
      expect(anon.errors?.[0]?.extensions?.code, op).to.equal('UNAUTHENTICATED');
    }
    await core.readNamespacedSecret({ name: 'creds', namespace: ns });
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    expect(list.items.map((c) => c.metadata?.name)).not.to.include('by-user');

    const client = wsClient(user.accessToken);
    try {
      for (const query of [
        `subscription { clusterResourceChanged(kind: Secret, namespace: "${ns}") { type } }`,
        `subscription { podLogStream(namespace: "${ns}", name: "x") { lines } }`,
        `subscription { podExec(namespace: "${ns}", name: "x", command: ["id"]) { data } }`,
        `subscription { podShell(namespace: "${ns}", name: "x") { shellId } }`,
      ]) {
        const err = await firstEvents(client, query, {}, 1).done.then(() => null, (e: { extensions?: { code?: string } }) => e);
        expect(err?.extensions?.code, query).to.equal('FORBIDDEN');
      }
    } finally {
      await client.dispose();
    }
  });

  describe('a pod on a simulated (kwok) node', () => {
    before(async () => {
      await core.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'sidecar', image: 'busybox' }] } },
      });
      await waitUntil(async () => (await core.readNamespacedPod({ name: 'web', namespace: ns })).status?.phase === 'Running', 'pod web to run on a kwok node');
    });

    it('lists it with its phase and containers', async () => {
      const res = await gql<{ clusterResources: { edges: { node: Resource }[] } }>('query($ns: String) { clusterResources(kind: Pod, namespace: $ns) { edges { node { name status containers } } } }', { ns });
      expect(res.data!.clusterResources.edges.map((e) => e.node)).to.deep.include({ name: 'web', status: 'Running', containers: ['app', 'sidecar'] });
    });

    it('surfaces the API server\'s error for logs (there is no kubelet behind a kwok node)', async () => {
      const res = await gql<{ podLogs: string }>('query($ns: String!) { podLogs(namespace: $ns, name: "web", container: "app", tailLines: 10) }', { ns });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).to.be.oneOf(['SERVICE_UNAVAILABLE', 'BAD_USER_INPUT', 'NOT_FOUND']);
      expect(res.errors?.[0]?.message).to.match(/log of pod web/);
      const missing = await gql('query($ns: String!) { podLogs(namespace: $ns, name: "nope") }', { ns });
      expect(missing.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');
      const tooMany = await gql('query($ns: String!) { podLogs(namespace: $ns, name: "web", tailLines: 100000) }', { ns });
      expect(tooMany.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');

      const client = wsClient(admin.accessToken);
      try {
        const err = await firstEvents(client, 'subscription($ns: String!) { podLogStream(namespace: $ns, name: "web") { lines } }', { ns }, 1).done.then(
          (v) => ({ message: `unexpected events ${JSON.stringify(v)}`, extensions: {} as { code?: string } }),
          (e: { message: string; extensions?: { code?: string } }) => e,
        );
        expect(err.message).to.match(/log of pod web/);
      } finally {
        await client.dispose();
      }
    });

    it('refuses exec with the API server\'s error, and audits the attempt', async () => {
      const client = wsClient(admin.accessToken);
      let err: { message: string; extensions?: { code?: string } };
      try {
        err = await firstEvents(client, 'subscription($ns: String!) { podExec(namespace: $ns, name: "web", container: "app", command: ["cat", "/etc/hostname"]) { stream data exitCode } }', { ns }, 1).done.then(
          (v) => ({ message: `unexpected events ${JSON.stringify(v)}` }),
          (e: { message: string; extensions?: { code?: string } }) => e,
        );
        const unknownContainer = await firstEvents(client, 'subscription($ns: String!) { podExec(namespace: $ns, name: "web", container: "nope", command: ["id"]) { data } }', { ns }, 1).done.then(
          () => null,
          (e: { extensions?: { code?: string } }) => e,
        );
        expect(unknownContainer?.extensions?.code).to.equal('BAD_USER_INPUT');
      } finally {
        await client.dispose();
      }
      expect(err.extensions?.code, err.message).to.equal('SERVICE_UNAVAILABLE');
      // client-node only says "Unexpected server response: 500"; the reason comes from the API server itself.
      expect(err.message).to.match(/could not run the command in pod web: .*500.*cannot reach the node's kubelet: .+/);
      const audit = await gql<{ auditLog: { edges: { node: { outcome: string; resourceId: string; changes: { command: { program: string; args: string[] }; error: string } } }[] } }>(
        '{ auditLog(filter: { action: "cluster.pod.exec" }) { edges { node { outcome resourceId changes } } } }',
      );
      const row = audit.data!.auditLog.edges[0]!.node;
      expect(row).to.include({ outcome: 'failure', resourceId: `Pod/${ns}/web` });
      expect(row.changes.command).to.deep.equal({ program: 'cat', argCount: 1, args: ['/etc/hostname'] });
      expect(row.changes.error).to.be.a('string').and.not.equal('');
    });

    it('refuses an interactive shell with the API server\'s error, audits it, and takes no input for shells it does not hold', async () => {
      const client = wsClient(admin.accessToken);
      let err: { message: string; extensions?: { code?: string } };
      try {
        err = await firstEvents(client, 'subscription($ns: String!) { podShell(namespace: $ns, name: "web") { shellId kind data exitCode } }', { ns }, 1).done.then(
          (v) => ({ message: `unexpected events ${JSON.stringify(v)}` }),
          (e: { message: string; extensions?: { code?: string } }) => e,
        );
      } finally {
        await client.dispose();
      }
      expect(err.extensions?.code, err.message).to.equal('SERVICE_UNAVAILABLE');
      expect(err.message).to.match(/could not open a shell in pod web: .*cannot reach the node's kubelet: .+/);
      const audit = await gql<{ auditLog: { edges: { node: { outcome: string; resourceId: string; changes: { command: { program: string }; container: string } } }[] } }>(
        '{ auditLog(filter: { action: "cluster.pod.shell" }) { edges { node { outcome resourceId changes } } } }',
      );
      const row = audit.data!.auditLog.edges[0]!.node;
      expect(row).to.include({ outcome: 'failure', resourceId: `Pod/${ns}/web` });
      expect(row.changes).to.include({ container: 'app' });
      expect(row.changes.command).to.deep.equal({ program: '/bin/sh', argCount: 0, args: [] });
      const input = await gql('mutation { podShellInput(shellId: "00000000-0000-0000-0000-000000000000", data: "ls\\n", cols: 80, rows: 24) }');
      expect(input.errors?.[0]?.extensions?.code).to.equal('NOT_FOUND');
    });
  });
});
