import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { TemplateRequestEntity } from '../../src/modules/template-requests/template-request.entity';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { KUBE_START_TIMEOUT_MS, createTestNamespace, getTestCluster } from '../support/kube';
import { TestGitRepo, designTemplate } from '../catalog/git-fixture';

interface CatalogEntry {
  id: string;
  name: string;
  installed: boolean;
}
interface Request {
  id: string;
  user: string;
  repository: string;
  template: string;
  displayName: string;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}
const REQUEST_FIELDS = 'id user repository template displayName reason createdAt updatedAt';

/** The portal's catalog: the catalog.userBrowse switch, Launch or Request per entry, and requests admins read. */
describe('template requests (portal catalog) on the real control plane', function () {
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let dataDir: string;
  const repo = new TestGitRepo('requests');
  const entries = new Map<string, CatalogEntry>();

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    const ns = await createTestNamespace('requests');
    repo
      .write('templates/office/writer-pro/template.yaml', designTemplate('writer-pro', { displayName: 'Writer Pro', category: 'Office' }))
      .write('templates/office/sheets/template.yaml', designTemplate('sheets', { displayName: 'Sheets', category: 'Office' }))
      .commit('two apps');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-requests-'));
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GIT_ALLOW_FILE: 'true',
      STREAMSPACE_DATA_DIR: dataDir,
      // Users browse the catalog by default; this suite starts with the switch off.
      STREAMSPACE_FEATURE_CATALOG: 'false',
    });
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app, 'user');
    bob = await createUserAndToken(app, 'user');
    const added = await app.gql<{ addRepository: { id: string } }>(`mutation { addRepository(input: { name: "office", url: "${repo.url}", autoSync: false }) { id } }`, {}, admin.headers);
    expect(added.body.errors, JSON.stringify(added.body.errors)).to.equal(undefined);
    const synced = await app.gql<{ syncRepository: { status: string } }>('mutation S($id: ID!) { syncRepository(id: $id) { status } }', { id: added.body.data!.addRepository.id }, admin.headers);
    expect(synced.body.data!.syncRepository.status).to.equal('READY');
    const installed = await app.gql('mutation { installCatalogTemplate(repository: "office", name: "writer-pro") { templateName } }', {}, admin.headers);
    expect(installed.body.errors, JSON.stringify(installed.body.errors)).to.equal(undefined);
  });

  after(async () => {
    await app?.stop();
    repo.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const request = (who: SignedIn, catalogTemplateId: string, reason?: string) =>
    app.gql<{ requestTemplate: Request }>(`mutation R($id: ID!, $reason: String) { requestTemplate(catalogTemplateId: $id, reason: $reason) { ${REQUEST_FIELDS} } }`, { id: catalogTemplateId, reason }, who.headers);
  const setBrowse = async (value: unknown) => {
    const res = await app.gql('mutation U($value: JSON!) { updateSetting(key: "features.catalogBrowsing", value: $value) { key value } }', { value }, admin.headers);
    return res.body;
  };
  const auditRows = () => app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action: 'template.request' }, order: { id: 'ASC' } });

  it('while the switch is off users are told so, cannot list the catalog, and a request is refused (CONFLICT naming the setting), with nothing written', async () => {
    const enabled = await app.gql<{ catalogBrowsingEnabled: boolean }>('{ catalogBrowsingEnabled }', {}, alice.headers);
    expect(enabled.body.data!.catalogBrowsingEnabled).to.equal(false);
    const list = await app.gql<{ catalogTemplates: { edges: { node: CatalogEntry }[] } }>('{ catalogTemplates(first: 50) { edges { node { id name installed } } } }', {}, admin.headers);
    expect(list.body.errors, JSON.stringify(list.body.errors)).to.equal(undefined);
    for (const { node } of list.body.data!.catalogTemplates.edges) entries.set(node.name, node);
    expect(entries.get('writer-pro')?.installed).to.equal(true);
    expect(entries.get('sheets')?.installed).to.equal(false);
    const userList = await app.gql('{ catalogTemplates(first: 50) { edges { node { id } } } }', {}, alice.headers);
    expect(userList.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');

    const refused = await request(alice, entries.get('sheets')!.id);
    expect(refused.body.errors?.[0].extensions?.code).to.equal('CONFLICT');
    expect(refused.body.errors?.[0].extensions?.details).to.deep.equal({ setting: 'features.catalogBrowsing' });
    expect(refused.body.errors?.[0].message).to.match(/features\.catalogBrowsing/);
    expect(await app.services.database.dataSource.getRepository(TemplateRequestEntity).count()).to.equal(0);
  });

  it('the features.catalogBrowsing setting turns it on (and refuses values that are not true or false)', async () => {
    const bad = await setBrowse('maybe');
    expect(bad.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    const on = await setBrowse(true);
    expect(on.errors, JSON.stringify(on.errors)).to.equal(undefined);
    const enabled = await app.gql<{ catalogBrowsingEnabled: boolean }>('{ catalogBrowsingEnabled }', {}, alice.headers);
    expect(enabled.body.data!.catalogBrowsingEnabled).to.equal(true);
  });

  it('records a request for a template that is not installed, audited; asking again refreshes the same request', async () => {
    const first = await request(alice, entries.get('sheets')!.id, '  For the budget  ');
    expect(first.body.errors, JSON.stringify(first.body.errors)).to.equal(undefined);
    expect(first.body.data!.requestTemplate).to.include({ user: alice.username, repository: 'office', template: 'sheets', displayName: 'Sheets', reason: 'For the budget' });

    const again = await request(alice, entries.get('sheets')!.id, 'Still needed');
    expect(again.body.data!.requestTemplate.id).to.equal(first.body.data!.requestTemplate.id);
    expect(again.body.data!.requestTemplate.reason).to.equal('Still needed');
    expect(new Date(again.body.data!.requestTemplate.updatedAt).getTime()).to.be.greaterThan(new Date(first.body.data!.requestTemplate.updatedAt).getTime());
    expect(await app.services.database.dataSource.getRepository(TemplateRequestEntity).count()).to.equal(1);

    const rows = await auditRows();
    expect(rows).to.have.length(2);
    expect(rows[0]).to.include({ resourceType: 'catalog_template', resourceId: entries.get('sheets')!.id, actorUsername: alice.username });
    expect(rows[0].changes).to.deep.include({ repository: 'office', template: 'sheets', reason: 'For the budget', again: false });
    expect(rows[1].changes).to.deep.include({ again: true, reason: 'Still needed' });
  });

  it('refuses an installed template (CONFLICT), an unknown id (NOT_FOUND) and a reason too long, writing nothing', async () => {
    const installed = await request(alice, entries.get('writer-pro')!.id);
    expect(installed.body.errors?.[0].extensions?.code).to.equal('CONFLICT');
    expect(installed.body.errors?.[0].message).to.match(/already installed/);
    const unknown = await request(alice, '00000000-0000-4000-8000-000000000000');
    expect(unknown.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    const long = await request(bob, entries.get('sheets')!.id, 'x'.repeat(501));
    expect(long.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    expect((long.body.errors?.[0].extensions?.details as { field?: string } | undefined)?.field).to.equal('reason');
    expect(await app.services.database.dataSource.getRepository(TemplateRequestEntity).count()).to.equal(1);
    expect(await auditRows()).to.have.length(2);
  });

  it('each user reads their own requests; admins read everyone\'s, users may not', async () => {
    const mine = await app.gql<{ myTemplateRequests: Request[] }>(`{ myTemplateRequests { ${REQUEST_FIELDS} } }`, {}, alice.headers);
    expect(mine.body.data!.myTemplateRequests.map((r) => r.template)).to.deep.equal(['sheets']);
    const bobs = await app.gql<{ myTemplateRequests: Request[] }>(`{ myTemplateRequests { ${REQUEST_FIELDS} } }`, {}, bob.headers);
    expect(bobs.body.data!.myTemplateRequests).to.deep.equal([]);

    await request(bob, entries.get('sheets')!.id, 'Me too');
    const all = await app.gql<{ templateRequests: { totalCount: number; edges: { node: Request }[] } }>(`{ templateRequests(first: 10) { totalCount edges { node { ${REQUEST_FIELDS} } } } }`, {}, admin.headers);
    expect(all.body.errors, JSON.stringify(all.body.errors)).to.equal(undefined);
    expect(all.body.data!.templateRequests.totalCount).to.equal(2);
    expect(all.body.data!.templateRequests.edges.map((e) => [e.node.user, e.node.reason])).to.deep.equal([
      [bob.username, 'Me too'],
      [alice.username, 'Still needed'],
    ]);
    const page = await app.gql<{ templateRequests: { edges: { node: Request }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>('{ templateRequests(first: 1) { edges { node { user } } pageInfo { hasNextPage endCursor } } }', {}, admin.headers);
    expect(page.body.data!.templateRequests.pageInfo.hasNextPage).to.equal(true);
    const next = await app.gql<{ templateRequests: { edges: { node: Request }[] } }>('query N($after: String) { templateRequests(first: 1, after: $after) { edges { node { user } } } }', { after: page.body.data!.templateRequests.pageInfo.endCursor }, admin.headers);
    expect(next.body.data!.templateRequests.edges.map((e) => e.node.user)).to.deep.equal([alice.username]);

    const forbidden = await app.gql('{ templateRequests { totalCount } }', {}, alice.headers);
    expect(forbidden.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
  });
});
