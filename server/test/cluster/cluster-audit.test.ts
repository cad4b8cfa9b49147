import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const SECRETS = ['pw-data-7a1c', 'pw-string-3e9d', 'pw-env-55f0', 'pw-flag-b2c4', 'pw-assign-91ad', 'pw-url-0c3e'];

interface AuditRow {
  action: string;
  actor_username: string | null;
  resource_id: string;
  outcome: string;
  changes: Record<string, unknown>;
}

/** What the audit table records of the admin console's pod reads, exec arguments and applied manifests. */
describe('cluster: audit of logs, exec arguments and applied manifests (audit table on the real control plane)', function () {
  let app: TestApp;
  let admin: SignedIn;
  let ns: string;
  let core: CoreV1Api;

  const rows = async (action: string): Promise<AuditRow[]> =>
    (await app.services.database.dataSource.query(`SELECT action, actor_username, resource_id, outcome, changes FROM audit_log WHERE action = $1 ORDER BY id`, [action])) as AuditRow[];

  function wsClient(): Client {
    return createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin.accessToken}` }, retryAttempts: 0, lazy: true });
  }

  /** Subscribes until the first event, error or completion. */
  function firstOutcome(client: Client, query: string, variables: Record<string, unknown>): Promise<string> {
    return new Promise((resolve) => {
      const dispose = client.subscribe(
        { query, variables },
        {
          next: (v) => {
            dispose();
            resolve(v.errors ? `error: ${v.errors[0]!.message}` : 'event');
          },
          error: (e) => resolve(`error: ${JSON.stringify(e)}`),
          complete: () => resolve('complete'),
        },
      );
    });
  }

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    ns = await createTestNamespace('cluster-audit');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'sidecar', image: 'busybox' }] } } });
    await waitUntil(async () => (await core.readNamespacedPod({ name: 'web', namespace: ns })).status?.phase === 'Running', 'pod web to run on a kwok node');
  });
  after(async () => {
    await app?.stop();
  });

  it('audits podLogs with who, pod, namespace and container, success or failure', async () => {
    await app.gql('query($ns: String!) { podLogs(namespace: $ns, name: "web", container: "sidecar", tailLines: 20) }', { ns }, admin.headers);
    await app.gql('query($ns: String!) { podLogs(namespace: $ns, name: "nope") }', { ns }, admin.headers);
    const logs = await rows('cluster.pod.logs');
    expect(logs).to.have.length(2);
    expect(logs[0]).to.include({ actor_username: 'admin', resource_id: `Pod/${ns}/web` });
    expect(logs[0]!.changes).to.include({ namespace: ns, pod: 'web', container: 'sidecar', tailLines: 20, follow: false });
    // kwok nodes have no kubelet: the read fails, and the failure is what is recorded.
    expect(logs[0]!.outcome).to.equal('failure');
    expect(logs[0]!.changes.error).to.be.a('string').that.matches(/log of pod web/);
    expect(logs[1]).to.include({ resource_id: `Pod/${ns}/nope`, outcome: 'failure' });
    expect(logs[1]!.changes).to.include({ pod: 'nope', container: null });
  });

  it('audits a read of the longest pod name in full, and refuses a namespace longer than a DNS label before anything', async () => {
    const before = (await rows('cluster.pod.logs')).length;
    const longName = `p${'a'.repeat(251)}z`;
    type Answer = { errors?: { message: string; extensions?: { code?: string } }[] };
    const read = (await app.gql('query($ns: String!, $name: String!) { podLogs(namespace: $ns, name: $name) }', { ns, name: longName }, admin.headers)).body as Answer;
    // No such pod: the API server's NOT_FOUND, not an audit row that does not fit.
    expect(read.errors?.[0]?.extensions?.code, JSON.stringify(read.errors)).to.equal('NOT_FOUND');
    const tooLong = (await app.gql('query($ns: String!) { podLogs(namespace: $ns, name: "web") }', { ns: `n${'a'.repeat(63)}` }, admin.headers)).body as Answer;
    expect(tooLong.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(tooLong.errors?.[0]?.message).to.match(/not a valid namespace name/);
    const logs = (await rows('cluster.pod.logs')).slice(before);
    expect(logs).to.have.length(1);
    expect(logs[0]).to.include({ resource_id: `Pod/${ns}/${longName}`, outcome: 'failure' });
  });

  it('audits podLogStream once at open', async () => {
    const before = (await rows('cluster.pod.logs')).length;
    const client = wsClient();
    try {
      const outcome = await firstOutcome(client, 'subscription($ns: String!) { podLogStream(namespace: $ns, name: "web", container: "app") { lines } }', { ns });
      expect(outcome).to.match(/log of pod web/);
    } finally {
      await client.dispose();
    }
    const logs = (await rows('cluster.pod.logs')).slice(before);
    expect(logs).to.have.length(1);
    expect(logs[0]).to.include({ actor_username: 'admin', resource_id: `Pod/${ns}/web`, outcome: 'failure' });
    expect(logs[0]!.changes).to.include({ namespace: ns, pod: 'web', container: 'app', follow: true });
  });

  it('stores exec arguments redacted: the program, the count, and no secret values', async () => {
    const client = wsClient();
    try {
      await firstOutcome(
        client,
        'subscription($ns: String!, $cmd: [String!]!) { podExec(namespace: $ns, name: "web", container: "app", command: $cmd) { data } }',
        { ns, cmd: ['mysql', '--password', SECRETS[3], `DB_PASS=${SECRETS[4]}`, `https://u:${SECRETS[5]}@db.test/x`, '--verbose'] },
      );
    } finally {
      await client.dispose();
    }
    const [row] = (await rows('cluster.pod.exec')).slice(-1);
    expect(row!.changes.command).to.deep.equal({ program: 'mysql', argCount: 5, args: ['--password', '[REDACTED]', 'DB_PASS=[REDACTED]', 'https://u:[REDACTED]@db.test/x', '--verbose'] });
    expect(row!.changes).to.include({ namespace: ns, pod: 'web', container: 'app' });
  });

  it('records the applied manifest with Secret values and secret-named env values redacted', async () => {
    const secretYaml =
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: ${ns}\n  labels:\n    app: db\ntype: Opaque\n` +
      `data:\n  conn: ${Buffer.from(SECRETS[0]!).toString('base64')}\nstringData:\n  dsn: ${SECRETS[1]}\n`;
    const podYaml =
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: client\n  namespace: ${ns}\nspec:\n  containers:\n  - name: c\n    image: busybox\n` +
      `    env:\n    - name: DB_PASSWORD\n      value: ${SECRETS[2]}\n    - name: MODE\n      value: fast\n`;
    for (const yaml of [secretYaml, podYaml]) {
      const res = await app.gql('mutation($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', { yaml }, admin.headers);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    }
    const applied = await rows('cluster.apply');
    const secret = applied.find((r) => r.resource_id === `Secret/${ns}/db`)!;
    const manifest = secret.changes.manifest as { kind: string; metadata: { labels: Record<string, string> }; data: Record<string, string>; stringData: Record<string, string> };
    expect(manifest.kind).to.equal('Secret');
    expect(manifest.metadata.labels).to.deep.equal({ app: 'db' });
    expect(manifest.data).to.deep.equal({ conn: '[REDACTED]' });
    expect(manifest.stringData).to.deep.equal({ dsn: '[REDACTED]' });
    const pod = applied.find((r) => r.resource_id === `Pod/${ns}/client`)!;
    const env = (pod.changes.manifest as { spec: { containers: { env: { name: string; value: string }[] }[] } }).spec.containers[0]!.env;
    expect(env).to.deep.equal([
      { name: 'DB_PASSWORD', value: '[REDACTED]' },
      { name: 'MODE', value: 'fast' },
    ]);
    const table = JSON.stringify(await app.services.database.dataSource.query('SELECT * FROM audit_log'));
    for (const value of SECRETS) {
      expect(table).not.to.include(value);
      expect(table).not.to.include(Buffer.from(value).toString('base64'));
    }
  });
});
