import { expect } from 'chai';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase } from '../support/postgres';

/** A template whose limits (1 CPU, 1Gi) are far above its requests (100m, 128Mi). */
const TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: quota-notes
spec:
  displayName: Quota notes
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  defaultResources:
    requests: { cpu: 100m, memory: 128Mi }
    limits: { cpu: "1", memory: 1Gi }
`;

interface GqlError {
  message: string;
  extensions?: { code?: string; details?: Record<string, unknown> } & Record<string, unknown>;
}

describe('sessions: quotas count limits, cap resources and hold under parallel creates (real PostgreSQL and API server)', function () {
  let app: TestApp;
  /** A second replica on the same database: the quota lock must hold across processes, not only in one. */
  let replica: TestApp;
  let admin: SignedIn;
  let ns: string;
  let custom: CustomObjectsApi;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    ns = await createTestNamespace('quota');
    const env = {
      DATABASE_URL: await createTestDatabase('quota'),
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_QUOTA_MAX_SESSIONS: '3',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '10',
      STREAMSPACE_QUOTA_CPU: '100',
      STREAMSPACE_QUOTA_MEMORY: '1000Gi',
    };
    app = await startTestApp(env);
    replica = await startTestApp(env);
    admin = await signInAsAdmin(app);
    const res = await app.gql('mutation A($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml: TEMPLATE }, admin.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
  });
  after(async () => {
    await replica?.stop();
    await app?.stop();
  });

  function create(who: SignedIn, input: Record<string, unknown> = {}, on: TestApp = app) {
    return on.gql<{ createSession: { id: string } }>('mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }', { input: { template: 'quota-notes', ...input } }, who.headers);
  }

  /** Session objects of a user in the cluster (what a create really made). */
  async function clusterSessions(user: TestUser): Promise<number> {
    const list = (await custom.listNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'sessions' })) as { items: { spec: { user: string } }[] };
    return list.items.filter((s) => s.spec.user === user.username).length;
  }

  it('10 parallel creates with maxSessions=3, spread over two replicas: exactly 3 succeed, the rest get QUOTA_EXCEEDED', async () => {
    const user = await createUserAndToken(app);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => create(user, {}, i % 2 ? replica : app)));
    const ok = results.filter((r) => r.body.data?.createSession);
    const refused = results.map((r) => r.body.errors?.[0] as GqlError | undefined).filter((e): e is GqlError => Boolean(e));
    expect(ok, JSON.stringify(results.map((r) => r.body))).to.have.length(3);
    expect(refused).to.have.length(7);
    for (const err of refused) {
      expect(err.extensions?.code, err.message).to.equal('QUOTA_EXCEEDED');
      expect(err.message).to.match(/3 sessions in use \+ 1 sessions requested > limit of 3 sessions/);
    }
    const rows = (await app.services.database.dataSource.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND state <> 'terminated'`, [user.id])) as { n: number }[];
    expect(rows[0]!.n).to.equal(3);
    expect(await clusterSessions(user)).to.equal(3);
  });

  it('refuses a session asking for more than the template\'s limits, and creates nothing', async () => {
    const user = await createUserAndToken(app);
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ limits: { cpu: '2' } }, { resource: 'cpu', field: 'limits', requested: 2, maximum: 1, maximumFrom: 'template' }],
      [{ limits: { memory: '4Gi' } }, { resource: 'memory', field: 'limits', requested: 4 * 2 ** 30, maximum: 2 ** 30 }],
      [{ requests: { cpu: '1500m' } }, { resource: 'cpu', field: 'requests', requested: 1.5, maximum: 1 }],
    ];
    for (const [resources, details] of cases) {
      const res = await create(user, { resources });
      const err = res.body.errors?.[0] as GqlError | undefined;
      expect(err?.extensions?.code, JSON.stringify(res.body)).to.equal('QUOTA_EXCEEDED');
      expect(err!.message).to.match(/Resources above the maximum: .* > the template's limit of/);
      expect(err!.extensions!.details).to.include({ reason: 'ResourcesAboveMaximum', ...details });
    }
    // Lowering is allowed; a request above its own limit is not.
    const lower = await create(user, { resources: { limits: { cpu: '500m', memory: '512Mi' } } });
    expect(lower.body.errors, JSON.stringify(lower.body.errors)).to.equal(undefined);
    const inverted = await create(user, { resources: { requests: { cpu: '800m' }, limits: { cpu: '500m' } } });
    expect((inverted.body.errors?.[0] as GqlError | undefined)?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(await clusterSessions(user)).to.equal(1);
  });

  it('counts limits, not requests, against the CPU and memory quota', async () => {
    const user = await createUserAndToken(app);
    const set = await app.gql('mutation U($id: ID!) { updateUser(id: $id, input: { quota: { cpu: 1.5 } }) { id } }', { id: user.id }, admin.headers);
    expect(set.body.errors, JSON.stringify(set.body.errors)).to.equal(undefined);
    const first = await create(user);
    expect(first.body.errors, JSON.stringify(first.body.errors)).to.equal(undefined);
    // Requests (100m each) would leave room for many; the limits (1 CPU each) leave room for one.
    const second = await create(user);
    const err = second.body.errors?.[0] as GqlError | undefined;
    expect(err?.extensions?.code, JSON.stringify(second.body)).to.equal('QUOTA_EXCEEDED');
    expect(err!.message).to.match(/1 CPU cores in use \+ 1 CPU cores requested > limit of 1\.5 CPU cores/);
    // A smaller session still fits the 0.5 CPU left.
    const small = await create(user, { resources: { limits: { cpu: '500m' } } });
    expect(small.body.errors, JSON.stringify(small.body.errors)).to.equal(undefined);
  });
});
