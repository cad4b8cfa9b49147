import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn } from '../support/auth';
import { KUBE_START_TIMEOUT_MS, createTestNamespace, getTestCluster } from '../support/kube';
import { STREAMSPACE_TEMPLATES_FIXTURE, TestGitRepo } from './git-fixture';

/**
 * The catalog with a real control plane: installing creates a valid Template object (and reinstalling
 * shows what changed), TemplateRepository objects mirror the repositories table, and credentials come
 * from a Secret without ever appearing in errors or logs.
 */
describe('catalog on the real control plane', function () {
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let dataDir: string;
  const repo = new TestGitRepo('install');
  const custom = () => kc.makeApiClient(CustomObjectsApi);
  const TOKEN = 'tok-3f9c1e-very-secret-value';

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('catalog');
    repo.copyFrom(STREAMSPACE_TEMPLATES_FIXTURE).commit('import');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-catalog-kube-'));
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GIT_ALLOW_FILE: 'true',
      STREAMSPACE_DATA_DIR: dataDir,
      STREAMSPACE_GIT_TIMEOUT: '20s',
    });
    admin = await signInAsAdmin(app);
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'git-token' }, stringData: { token: TOKEN } },
    });
  });

  after(async () => {
    await app?.stop();
    repo.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const gql = <T>(query: string, variables: Record<string, unknown> = {}) => app.gql<T>(query, variables, admin.headers);
  const getTemplate = (name: string) =>
    custom().getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'templates', name }) as Promise<{
      metadata: { annotations: Record<string, string> };
      spec: { baseImage: string; appType: string; vnc?: { port: number }; defaultResources?: { requests?: Record<string, string> } };
    }>;

  let officialId: string;

  it('installs a catalog template as a valid Template object, annotated with its source', async () => {
    const added = await gql<{ addRepository: { id: string } }>(`mutation { addRepository(input: { name: "official", url: "${repo.url}", autoSync: false }) { id } }`);
    expect(added.body.errors).to.equal(undefined);
    officialId = added.body.data!.addRepository.id;
    const synced = await gql<{ syncRepository: { status: string; lastCommit: string } }>(`mutation S($id: ID!) { syncRepository(id: $id) { status lastCommit } }`, { id: officialId });
    expect(synced.body.data!.syncRepository.status).to.equal('READY');

    const res = await gql<{ installCatalogTemplate: { templateName: string; created: boolean; changes: string[]; catalogTemplate: { installCount: number } } }>(
      `mutation { installCatalogTemplate(repository: "official", name: "hedgedoc") { templateName created changes catalogTemplate { installCount } } }`,
    );
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    expect(res.body.data!.installCatalogTemplate).to.deep.include({ templateName: 'hedgedoc', created: true, changes: [] });
    expect(res.body.data!.installCatalogTemplate.catalogTemplate.installCount).to.equal(1);

    const t = await getTemplate('hedgedoc');
    expect(t.spec.appType).to.equal('desktop');
    expect(t.spec.vnc?.port).to.equal(3000);
    expect(t.spec.defaultResources?.requests).to.include({ memory: '3Gi', cpu: '1500m' });
    expect(t.metadata.annotations['stream.streamspace.io/catalog-repository']).to.equal('official');
    expect(t.metadata.annotations['stream.streamspace.io/catalog-commit']).to.equal(synced.body.data!.syncRepository.lastCommit);
    expect(t.metadata.annotations['stream.streamspace.io/catalog-path']).to.equal('productivity/hedgedoc.yaml');
    // The server's own Template API sees it as well.
    const listed = await gql<{ template: { name: string } | null }>(`{ template(name: "hedgedoc") { name } }`);
    expect(listed.body.data!.template).to.deep.equal({ name: 'hedgedoc' });
  });

  it('shows what changed when a newer version is installed again', async () => {
    repo.write('productivity/hedgedoc.yaml', repo.read('productivity/hedgedoc.yaml').replace('lscr.io/linuxserver/hedgedoc:latest', 'lscr.io/linuxserver/hedgedoc:1.10.0'));
    const commit = repo.commit('pin hedgedoc');
    await gql(`mutation S($id: ID!) { syncRepository(id: $id) { status } }`, { id: officialId });
    const res = await gql<{ installCatalogTemplate: { created: boolean; changes: string[]; catalogTemplate: { installCount: number } } }>(
      `mutation { installCatalogTemplate(repository: "official", name: "hedgedoc") { created changes catalogTemplate { installCount } } }`,
    );
    const result = res.body.data!.installCatalogTemplate;
    expect(result.created).to.equal(false);
    expect(result.changes.find((c) => c.startsWith('spec.baseImage'))).to.equal('spec.baseImage: "lscr.io/linuxserver/hedgedoc:latest" -> "lscr.io/linuxserver/hedgedoc:1.10.0"');
    expect(result.changes.some((c) => c.includes('catalog-commit') && c.includes(commit))).to.equal(true);
    expect(result.catalogTemplate.installCount).to.equal(2);
    expect((await getTemplate('hedgedoc')).spec.baseImage).to.equal('lscr.io/linuxserver/hedgedoc:1.10.0');

    const audit: { action: string; changes: { created: boolean } }[] = await app.services.database.dataSource.query(
      `SELECT action, changes FROM audit_log WHERE action = 'catalog.install' ORDER BY id`,
    );
    expect(audit.map((a) => a.changes.created)).to.deep.equal([true, false]);
    const popular = await gql<{ catalogTemplates: { edges: { node: { name: string } }[] } }>(`{ catalogTemplates(first: 1, sort: POPULARITY) { edges { node { name } } } }`);
    expect(popular.body.data!.catalogTemplates.edges[0].node.name).to.equal('hedgedoc');
  });

  it('lets only admins install', async () => {
    const user = await createUserAndToken(app, 'user');
    const res = await app.gql(`mutation { installCatalogTemplate(repository: "official", name: "firefox") { created } }`, {}, user.headers);
    expect(res.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    const missing = await gql(`mutation { installCatalogTemplate(repository: "official", name: "no-such-app") { created } }`);
    expect(missing.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
  });

  it('mirrors repositories as TemplateRepository objects', async () => {
    const added = await gql<{ addRepository: { id: string } }>(
      `mutation { addRepository(input: { name: "mirrored", url: "https://git.example.invalid/templates.git", branch: "stable", path: "catalog", syncInterval: "2h", autoSync: false }) { id } }`,
    );
    expect(added.body.errors).to.equal(undefined);
    const id = added.body.data!.addRepository.id;
    const get = () =>
      custom().getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'templaterepositories', name: 'mirrored' }) as Promise<{
        spec: Record<string, unknown>;
        status?: Record<string, unknown>;
      }>;
    const obj = await get();
    expect(obj.spec).to.deep.include({ url: 'https://git.example.invalid/templates.git', branch: 'stable', path: '/catalog', syncInterval: '2h', autoSync: false });
    expect(obj.status).to.deep.include({ phase: 'Pending', templateCount: 0 });
    await gql(`mutation U($id: ID!) { updateRepository(id: $id, input: { branch: "main", auth: { type: TOKEN, secretName: "git-token" } }) { id } }`, { id });
    expect((await get()).spec).to.deep.include({ branch: 'main', auth: { type: 'token', secretRef: { name: 'git-token' } } });
    await gql(`mutation R($id: ID!) { removeRepository(id: $id) { id } }`, { id });
    const gone = await get().then(
      () => 'present',
      (err: { code?: number }) => err.code,
    );
    expect(gone).to.equal(404);
  });

  it('reads credentials from a Secret and never reveals them', async () => {
    const added = await gql<{ addRepository: { id: string } }>(
      `mutation { addRepository(input: { name: "private", url: "https://127.0.0.1:9/templates.git", autoSync: false, auth: { type: TOKEN, secretName: "git-token" } }) { id } }`,
    );
    const id = added.body.data!.addRepository.id;
    const res = await gql<{ syncRepository: { status: string; syncError: string } }>(`mutation S($id: ID!) { syncRepository(id: $id) { status syncError } }`, { id });
    expect(res.body.data!.syncRepository.status).to.equal('FAILED');
    expect(res.body.data!.syncRepository.syncError).to.match(/git fetch failed/);
    const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const everything = JSON.stringify([res.body, app.logs, await app.services.database.dataSource.query(`SELECT * FROM audit_log`)]);
    expect(everything).to.not.contain(TOKEN);
    expect(everything).to.not.contain(b64);

    const missing = await gql<{ addRepository: { id: string } }>(
      `mutation { addRepository(input: { name: "private2", url: "https://127.0.0.1:9/t.git", autoSync: false, auth: { type: BASIC, secretName: "no-such-secret" } }) { id } }`,
    );
    const failed = await gql<{ syncRepository: { status: string; syncError: string } }>(`mutation S($id: ID!) { syncRepository(id: $id) { status syncError } }`, {
      id: missing.body.data!.addRepository.id,
    });
    expect(failed.body.data!.syncRepository.syncError).to.match(/Secret "no-such-secret" was not found/);
  });

  it('keeps installed Templates when their repository is removed', async () => {
    await gql(`mutation R($id: ID!) { removeRepository(id: $id) { id } }`, { id: officialId });
    const count = await gql<{ catalogTemplates: { totalCount: number } }>(`{ catalogTemplates(first: 1, filter: { repository: "official" }) { totalCount } }`);
    expect(count.body.data!.catalogTemplates.totalCount).to.equal(0);
    expect((await getTemplate('hedgedoc')).spec.baseImage).to.equal('lscr.io/linuxserver/hedgedoc:1.10.0');
  });
});
