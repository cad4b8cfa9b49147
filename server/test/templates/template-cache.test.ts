import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { kubeGetStream } from '../../src/platform/kube/kube-http';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

/** How many LIST requests for templates the API server has answered (its own Prometheus counter). */
async function templateLists(kc: KubeConfig): Promise<number> {
  const res = await kubeGetStream(kc, '/metrics');
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) text += chunk;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('resource="templates"') && line.includes('verb="LIST"')) total += Number(line.split(' ').pop());
  }
  return total;
}

const TEMPLATE = (name: string) => `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: ${name}
spec:
  displayName: ${name}
  baseImage: nginx:1.27
  appType: webapp
  webapp:
    port: 8080
`;

describe('templates: served from a watch cache, each Kubernetes-backed field priced', function () {
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: SignedIn;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('template-cache');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns, STREAMSPACE_LEADER_ELECTION: 'false' });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app, 'user');
  });
  after(async () => {
    await app?.stop();
  });

  it('reads its own writes and sees kubectl changes through the watch', async () => {
    const applied = await app.gql('mutation A($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml: TEMPLATE('cached-one') }, admin.headers);
    expect(applied.body.errors, JSON.stringify(applied.body.errors)).to.equal(undefined);
    // The first read starts the cache; the write above was read back at once either way.
    const names = async () => ((await app.gql<{ templates: { name: string }[] }>('{ templates { name } }', {}, user.headers)).body.data?.templates ?? []).map((t) => t.name);
    expect(await names()).to.include('cached-one');
    await waitUntil(async () => (await app.gql<{ templates: unknown[] }>('{ templates { name } }', {}, user.headers)).body.data!.templates.length === 1, 'the cache');
    const updated = await app.gql('mutation U { updateTemplate(name: "cached-one", input: { displayName: "Renamed" }) { name } }', {}, admin.headers);
    expect(updated.body.errors, JSON.stringify(updated.body.errors)).to.equal(undefined);
    const one = await app.gql<{ template: { displayName: string } }>('{ template(name: "cached-one") { displayName } }', {}, user.headers);
    expect(one.body.data!.template.displayName).to.equal('Renamed');

    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'stream.streamspace.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'templates',
      body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Template', metadata: { name: 'by-kubectl' }, spec: { displayName: 'By kubectl', baseImage: 'nginx:1.27', appType: 'webapp', webapp: { port: 80 } } },
    });
    await waitUntil(async () => (await names()).includes('by-kubectl'), 'the kubectl template in the cache');
    const deleted = await app.gql('mutation D { deleteTemplate(name: "by-kubectl") }', {}, admin.headers);
    expect(deleted.body.errors, JSON.stringify(deleted.body.errors)).to.equal(undefined);
    expect(await names()).to.not.include('by-kubectl');
  });

  it('answers aliased templates queries without a LIST to the API server, and refuses more aliases than allowed', async () => {
    const aliases = (n: number) => `query Many { ${Array.from({ length: n }, (_, i) => `t${i}: templates { name }`).join(' ')} }`;
    const before = await templateLists(kc);
    for (let i = 0; i < 3; i++) {
      const res = await app.gql<Record<string, { name: string }[]>>(aliases(15), {}, user.headers);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
      expect(res.body.data!.t14.map((t) => t.name)).to.include('cached-one');
    }
    // 45 aliased reads; other tests' informers may list now and then, never once per alias.
    expect((await templateLists(kc)) - before).to.be.lessThan(3);

    const tooMany = await app.gql(aliases(16), {}, user.headers);
    expect(tooMany.status).to.equal(400);
    expect(tooMany.body.errors![0].extensions!.code).to.equal('GRAPHQL_VALIDATION_FAILED');
    expect(tooMany.body.errors![0].message).to.equal('Syntax Error: Aliases limit of 15 exceeded, found 16.');
  });

  it('prices Kubernetes-backed fields: a request fits only a few of them', async () => {
    const fields = ['templates { name displayName description category icon tags baseImage appType webappPort vncPort capabilities valid }', 'clusterNodes { name }', 'clusterNamespaces { name }'];
    const query = `query Kube { ${Array.from({ length: 15 }, (_, i) => `k${i}: ${fields[i % 3]}`).join(' ')} ${fields.map((f) => f).join(' ')} }`;
    const res = await app.gql(query, {}, admin.headers);
    expect(res.status).to.equal(400);
    expect(res.body.errors![0].extensions!.code).to.equal('QUERY_TOO_COMPLEX');
    expect(res.body.errors![0].message).to.match(/Query complexity \d+ exceeds the maximum of 10000/);
  });

  it('hides field suggestions from validation errors', async () => {
    const res = await app.gql('{ templates { nam } }', {}, user.headers);
    expect(res.body.errors![0].message).to.match(/Cannot query field "nam"/);
    expect(res.body.errors![0].message).to.not.match(/Did you mean|"name"/);
  });
});
