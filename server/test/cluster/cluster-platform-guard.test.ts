import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';

/**
 * Issue 13 item 8: the admin console never execs into, reads logs of, applies or deletes the platform's own pods,
 * workloads and Secrets (an exec there reads the platform's ServiceAccount token). Refusals answer FORBIDDEN and are
 * audited with outcome failure; nothing reaches the API server.
 */
describe('cluster: the platform\'s own pods and Secrets are out of the admin console\'s reach', function () {
  this.timeout(120_000);
  let platformNs: string;
  let sessionsNs: string;
  let app: TestApp;
  let admin: SignedIn;
  let core: CoreV1Api;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    platformNs = await createTestNamespace('platform');
    sessionsNs = await createTestNamespace('platform-sessions');
    await core.createNamespacedPod({
      namespace: platformNs,
      body: { metadata: { name: 'streamspace-0', labels: { 'app.kubernetes.io/component': 'server', 'stream.streamspace.io/gateway': 'true' } }, spec: { containers: [{ name: 'server', image: 'streamspace' }] } },
    });
    await core.createNamespacedSecret({ namespace: platformNs, body: { metadata: { name: 'streamspace' }, stringData: { DATABASE_URL: 'postgres://x:pw@db/x' } } });
    await core.createNamespacedPod({ namespace: sessionsNs, body: { metadata: { name: 'session-pod', labels: { 'stream.streamspace.io/session': 's1' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } });
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: sessionsNs, STREAMSPACE_PLATFORM_NAMESPACE: platformNs });
    admin = await signInAsAdmin(app);
  });
  after(async () => {
    await app?.stop();
  });

  const gql = <T>(query: string, variables: Record<string, unknown> = {}) => app.gql<T>(query, variables, admin.headers);

  function firstError(client: Client, query: string, variables: Record<string, unknown>): Promise<{ message: string; extensions?: { code?: string } }> {
    return new Promise((resolve) => {
      client.subscribe(
        { query, variables },
        {
          next: (value) => resolve(value.errors ? (value.errors[0] as never) : { message: `unexpected data ${JSON.stringify(value.data)}` }),
          error: (err) => resolve(Array.isArray(err) ? (err[0] as never) : { message: String(err) }),
          complete: () => resolve({ message: 'completed without an error' }),
        },
      );
    });
  }

  async function auditOf(action: string): Promise<{ outcome: string; resourceId: string; changes: { refused?: string } }[]> {
    const res = await gql<{ auditLog: { edges: { node: { outcome: string; resourceId: string; changes: { refused?: string } } }[] } }>(
      'query A($a: String!) { auditLog(filter: { action: $a }) { edges { node { outcome resourceId changes } } } }',
      { a: action },
    );
    return res.body.data!.auditLog.edges.map((e) => e.node);
  }

  it('refuses exec, shells and logs of the platform\'s pod with a clear reason, audited as refused', async () => {
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin.accessToken}` }, retryAttempts: 0, lazy: true });
    try {
      const exec = await firstError(client, 'subscription($ns: String!) { podExec(namespace: $ns, name: "streamspace-0", command: ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"]) { data } }', { ns: platformNs });
      expect(exec.extensions?.code, exec.message).to.equal('FORBIDDEN');
      expect(exec.message).to.match(/Pod .*\/streamspace-0 belongs to the StreamSpace platform .*does not open a shell or run commands in the platform's own pods/);
      const shell = await firstError(client, 'subscription($ns: String!) { podShell(namespace: $ns, name: "streamspace-0") { kind } }', { ns: platformNs });
      expect(shell.extensions?.code).to.equal('FORBIDDEN');
      const follow = await firstError(client, 'subscription($ns: String!) { podLogStream(namespace: $ns, name: "streamspace-0") { lines } }', { ns: platformNs });
      expect(follow.extensions?.code).to.equal('FORBIDDEN');
    } finally {
      await client.dispose();
    }
    const logs = await gql('query($ns: String!) { podLogs(namespace: $ns, name: "streamspace-0") }', { ns: platformNs });
    expect(logs.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    expect(logs.body.errors?.[0]?.message).to.match(/does not read the logs of the platform's own pods/);

    const execRow = (await auditOf('cluster.pod.exec'))[0]!;
    expect(execRow).to.deep.include({ outcome: 'failure', resourceId: `Pod/${platformNs}/streamspace-0` });
    expect(execRow.changes.refused).to.match(/belongs to the StreamSpace platform/);
    expect((await auditOf('cluster.pod.shell'))[0]).to.deep.include({ outcome: 'failure' });
    expect((await auditOf('cluster.pod.logs')).map((r) => r.outcome)).to.deep.equal(['failure', 'failure']);
  });

  it('refuses to apply or delete the platform\'s Secret, pods and workloads, and changes nothing', async () => {
    const secretYaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: streamspace\n  namespace: ${platformNs}\nstringData:\n  DATABASE_URL: postgres://attacker\n`;
    const apply = await gql('mutation A($y: String!) { applyClusterResourceYaml(yaml: $y) { name } }', { y: secretYaml });
    expect(apply.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    expect(apply.body.errors?.[0]?.message).to.match(/Secret .*\/streamspace belongs to the StreamSpace platform/);
    // A pod of one's own in the platform's namespace would run as its ServiceAccount: refused too.
    const podYaml = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: thief\n  namespace: ${platformNs}\n  labels: { stream.streamspace.io/session: fake }\nspec:\n  serviceAccountName: streamspace\n  containers: [{ name: c, image: busybox }]\n`;
    const pod = await gql('mutation A($y: String!) { applyClusterResourceYaml(yaml: $y) { name } }', { y: podYaml });
    expect(pod.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    for (const [kind, name] of [
      ['Secret', 'streamspace'],
      ['Pod', 'streamspace-0'],
    ]) {
      const del = await gql(`mutation D($ns: String!) { deleteClusterResource(kind: ${kind}, namespace: $ns, name: "${name}") }`, { ns: platformNs });
      expect(del.body.errors?.[0]?.extensions?.code, kind).to.equal('FORBIDDEN');
    }
    const secret = await core.readNamespacedSecret({ name: 'streamspace', namespace: platformNs });
    expect(Buffer.from(secret.data!.DATABASE_URL!, 'base64').toString()).to.equal('postgres://x:pw@db/x');
    await core.readNamespacedPod({ name: 'streamspace-0', namespace: platformNs });
    expect((await core.listNamespacedPod({ namespace: platformNs })).items.map((p) => p.metadata!.name)).to.deep.equal(['streamspace-0']);
    const rows = [...(await auditOf('cluster.apply')), ...(await auditOf('cluster.delete'))];
    expect(rows).to.have.length(4);
    for (const row of rows) expect(row.outcome).to.equal('failure');
  });

  it('still manages session pods and objects outside the platform\'s namespace', async () => {
    // No kubelet behind the simulated node: the API server's own error, not a refusal of the platform.
    const logs = await gql('query($ns: String!) { podLogs(namespace: $ns, name: "session-pod") }', { ns: sessionsNs });
    expect(logs.body.errors?.[0]?.extensions?.code).not.to.equal('FORBIDDEN');
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n  namespace: ${sessionsNs}\ndata: { a: b }\n`;
    const applied = await gql<{ applyClusterResourceYaml: { name: string } }>('mutation A($y: String!) { applyClusterResourceYaml(yaml: $y) { name } }', { y: cm });
    expect(applied.body.errors, JSON.stringify(applied.body.errors)).to.equal(undefined);
    const del = await gql<{ deleteClusterResource: boolean }>('mutation D($ns: String!) { deleteClusterResource(kind: Pod, namespace: $ns, name: "session-pod") }', { ns: sessionsNs });
    expect(del.body.data?.deleteClusterResource).to.equal(true);
  });
});
