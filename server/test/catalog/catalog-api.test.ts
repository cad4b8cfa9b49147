import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { STREAMSPACE_TEMPLATES_FIXTURE, TestGitRepo, designTemplate } from './git-fixture';

/** The catalog through the real HTTP API: repositories (admin), browse and search (users), assets, audit. */
describe('catalog GraphQL API', function () {
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  let dataDir: string;
  const official = new TestGitRepo('api-official');
  const design = new TestGitRepo('api-design');
  let officialId: string;
  let designId: string;

  const REPO_FIELDS = 'id name url branch path authType status templateCount lastSync lastCommit syncError fileErrors { path message template }';

  before(async () => {
    official.copyFrom(STREAMSPACE_TEMPLATES_FIXTURE).commit('import');
    design
      .write('templates/office/writer-pro/template.yaml', designTemplate('writer-pro', { displayName: 'Writer Pro', description: 'A word processor.', category: 'Office', tags: ['documents', 'office'] }))
      .write('templates/office/writer-pro/icon.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))
      .write('templates/office/writer-pro/README.md', '# Writer Pro\n\nWrite things.\n')
      .write('templates/office/sheets/template.yaml', designTemplate('sheets', { displayName: 'Sheets', description: 'Spreadsheets; works with Writer Pro.', category: 'Office', tags: ['office'] }));
    design.commit('design layout');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-catalog-api-'));
    app = await startTestApp({ STREAMSPACE_GIT_ALLOW_FILE: 'true', STREAMSPACE_DATA_DIR: dataDir });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app, 'user');
  });

  after(async () => {
    await app?.stop();
    official.cleanup();
    design.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets admins add repositories and refuses unsafe URLs', async () => {
    const add = (input: Record<string, unknown>, headers = admin.headers) =>
      app.gql<{ addRepository: { id: string; name: string; status: string } }>(
        `mutation Add($input: AddRepositoryInput!) { addRepository(input: $input) { ${REPO_FIELDS} } }`,
        { input },
        headers,
      );
    const a = await add({ name: 'official', url: official.url });
    expect(a.body.errors).to.equal(undefined);
    expect(a.body.data!.addRepository).to.include({ name: 'official', status: 'PENDING' });
    officialId = a.body.data!.addRepository.id;
    const d = await add({ name: 'design', url: design.url, branch: 'main', syncInterval: '30m' });
    designId = d.body.data!.addRepository.id;

    for (const url of ['ext::sh -c touch% /tmp/x', '--upload-pack=touch /tmp/x', '-oProxyCommand=x', 'http://example.com/r.git', 'https://user:pw@example.com/r.git']) {
      const bad = await add({ name: 'bad', url });
      expect(bad.body.errors?.[0].extensions?.code, url).to.equal('BAD_USER_INPUT');
    }
    const branch = await add({ name: 'bad', url: design.url, branch: '--upload-pack=x' });
    expect(branch.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    const creds = await add({ name: 'bad', url: 'https://example.com/r.git', auth: { type: 'TOKEN', secretName: 'git-token' } });
    expect(creds.body.errors?.[0].message).to.match(/no cluster is configured/);
    const dup = await add({ name: 'official', url: official.url });
    expect(dup.body.errors?.[0].extensions?.code).to.equal('CONFLICT');
    const forbidden = await add({ name: 'mine', url: design.url }, user.headers);
    expect(forbidden.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
  });

  it('syncs repositories on request and reports their status', async () => {
    for (const id of [officialId, designId]) {
      const res = await app.gql<{ syncRepository: { status: string; templateCount: number; lastCommit: string } }>(
        `mutation Sync($id: ID!) { syncRepository(id: $id) { ${REPO_FIELDS} } }`,
        { id },
        admin.headers,
      );
      expect(res.body.errors).to.equal(undefined);
      expect(res.body.data!.syncRepository.status).to.equal('READY');
    }
    const list = await app.gql<{ repositories: { name: string; templateCount: number; fileErrors: { template: string | null }[]; lastSync: string }[] }>(
      `{ repositories { ${REPO_FIELDS} } }`,
      {},
      admin.headers,
    );
    const byName = Object.fromEntries(list.body.data!.repositories.map((r) => [r.name, r]));
    expect(byName.official.templateCount).to.equal(187);
    expect(byName.official.fileErrors.filter((e) => e.template)).to.have.length(8);
    expect(byName.design.templateCount).to.equal(2);
    expect(byName.design.lastSync).to.be.a('string');
    const denied = await app.gql(`{ repositories { id } }`, {}, user.headers);
    expect(denied.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
  });

  it('reports sync progress over a subscription', async () => {
    type Progress = { phase: string; repositoryName: string; filesDone: number; templateCount: number | null; commit: string | null };
    const events: Progress[] = [];
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${admin.accessToken}` } });
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ repositorySyncProgress: Progress }>(
        {
          query: `subscription P($id: ID) { repositorySyncProgress(repositoryId: $id) { phase repositoryName filesDone templateCount commit message } }`,
          variables: { id: designId },
        },
        { next: (r) => (r.errors ? reject(new Error(JSON.stringify(r.errors))) : events.push(r.data!.repositorySyncProgress)), error: reject, complete: resolve },
      );
    });
    try {
      const sync = () => app.gql(`mutation S($id: ID!) { syncRepository(id: $id) { status } }`, { id: designId }, admin.headers);
      // The subscription is live once an (unchanged) sync is seen; no sleeping.
      for (let i = 0; i < 50 && events.length === 0; i++) await sync();
      expect(events.length, 'progress events').to.be.greaterThan(0);
      events.length = 0;
      design.write('templates/office/sheets/template.yaml', design.read('templates/office/sheets/template.yaml').replace('Spreadsheets', 'Spreadsheets and charts'));
      const commit = design.commit('sheets');
      await sync();
      expect(events.map((e) => e.phase)).to.deep.equal(['FETCHING', 'PARSING', 'SAVING', 'READY']);
      expect(events.at(-1)).to.include({ repositoryName: 'design', templateCount: 2, commit, filesDone: 1 });
    } finally {
      await client.dispose();
    }
    await done.catch(() => undefined);
  });

  it('lets every signed-in user browse a paged catalog with a total count', async () => {
    const query = `query Page($first: Int, $after: String, $filter: CatalogTemplateFilter) {
      catalogTemplates(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { name displayName repositoryName } } } }`;
    const seen: string[] = [];
    let after: string | undefined;
    let total: number | undefined;
    for (;;) {
      const res = await app.gql<{ catalogTemplates: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { name: string; displayName: string; repositoryName: string } }[] } }>(
        query,
        { first: 50, after },
        user.headers,
      );
      expect(res.body.errors).to.equal(undefined);
      const page = res.body.data!.catalogTemplates;
      total = page.totalCount;
      seen.push(...page.edges.map((e) => `${e.node.repositoryName}/${e.node.name}`));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(total).to.equal(189);
    expect(new Set(seen).size).to.equal(189);

    const anonymous = await app.gql(query, { first: 1 });
    expect(anonymous.body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');

    const filtered = await app.gql<{ catalogTemplates: { totalCount: number } }>(query, { first: 5, filter: { repository: 'design', tags: ['documents'] } }, user.headers);
    expect(filtered.body.data!.catalogTemplates.totalCount).to.equal(1);
    const desktops = await app.gql<{ catalogTemplates: { edges: { node: { name: string } }[] } }>(
      `{ catalogTemplates(first: 100, filter: { appType: "desktop", category: "Gaming" }) { edges { node { name appType category } } } }`,
      {},
      user.headers,
    );
    expect(desktops.body.data!.catalogTemplates.edges.length).to.be.greaterThan(0);
  });

  it('ranks the obvious match first', async () => {
    const search = async (text: string) => {
      const res = await app.gql<{ catalogTemplates: { edges: { node: { name: string } }[] } }>(
        `query S($filter: CatalogTemplateFilter) { catalogTemplates(first: 5, filter: $filter) { edges { node { name } } } }`,
        { filter: { search: text } },
        user.headers,
      );
      expect(res.body.errors).to.equal(undefined);
      return res.body.data!.catalogTemplates.edges.map((e) => e.node.name);
    };
    expect((await search('firefox'))[0]).to.equal('firefox');
    expect((await search('writer pro'))[0]).to.equal('writer-pro');
    expect((await search('GIMP'))[0]).to.equal('gimp');
    // A prefix finds it too, and words in descriptions count less than names.
    expect(await search('blend')).to.include('blender');
    const spreadsheet = await search('writer');
    expect(spreadsheet.indexOf('writer-pro')).to.be.lessThan(spreadsheet.indexOf('sheets'));
    expect(await search('zzzz-no-such-app')).to.deep.equal([]);
  });

  it('sorts by popularity and counts categories', async () => {
    const cats = await app.gql<{ catalogCategories: { name: string; count: number }[] }>(`{ catalogCategories { name count } }`, {}, user.headers);
    const byName = Object.fromEntries(cats.body.data!.catalogCategories.map((c) => [c.name, c.count]));
    expect(byName.Office).to.equal(2);
    expect(byName.Productivity).to.equal(22);
    expect(Object.values(byName).reduce((a, b) => a + b, 0)).to.equal(189);
    const pop = await app.gql<{ catalogTemplates: { edges: { node: { installCount: number } }[] } }>(
      `{ catalogTemplates(first: 3, sort: POPULARITY) { edges { node { installCount } } } }`,
      {},
      user.headers,
    );
    expect(pop.body.errors).to.equal(undefined);
  });

  it('serves icons and READMEs of design-layout templates', async () => {
    const res = await app.gql<{ catalogTemplates: { edges: { node: { iconUrl: string; readmeUrl: string } }[] } }>(
      `{ catalogTemplates(first: 1, filter: { search: "writer pro" }) { edges { node { iconUrl readmeUrl } } } }`,
      {},
      user.headers,
    );
    const node = res.body.data!.catalogTemplates.edges[0].node;
    const icon = await fetch(app.url + node.iconUrl);
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.equal('image/png');
    expect(Buffer.from(await icon.arrayBuffer())).to.deep.equal(Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const readme = await fetch(app.url + node.readmeUrl);
    expect(await readme.text()).to.contain('Write things.');
    const cached = await fetch(app.url + node.iconUrl, { headers: { 'if-none-match': icon.headers.get('etag')! } });
    expect(cached.status).to.equal(304);
    const missing = await fetch(`${app.url}/api/catalog/templates/00000000-0000-0000-0000-000000000000/icon`);
    expect(missing.status).to.equal(404);
    // Flat-layout templates point at the icon URL they declare.
    const firefox = await app.gql<{ catalogTemplates: { edges: { node: { iconUrl: string; readmeUrl: string | null } }[] } }>(
      `{ catalogTemplates(first: 1, filter: { search: "firefox" }) { edges { node { iconUrl readmeUrl } } } }`,
      {},
      user.headers,
    );
    expect(firefox.body.data!.catalogTemplates.edges[0].node.iconUrl).to.match(/^https:\/\//);
  });

  it('hides non-public repositories from users not listed', async () => {
    const upd = await app.gql(`mutation U($id: ID!) { updateRepository(id: $id, input: { public: false }) { id } }`, { id: designId }, admin.headers);
    expect(upd.body.errors).to.equal(undefined);
    const count = async (headers: Record<string, string>) =>
      (await app.gql<{ catalogTemplates: { totalCount: number } }>(`{ catalogTemplates(first: 1) { totalCount } }`, {}, headers)).body.data!.catalogTemplates.totalCount;
    expect(await count(user.headers)).to.equal(187);
    expect(await count(admin.headers)).to.equal(189);
    await app.gql(`mutation U($id: ID!, $u: [String!]) { updateRepository(id: $id, input: { allowedUsers: $u }) { id } }`, { id: designId, u: [user.username] }, admin.headers);
    expect(await count(user.headers)).to.equal(189);
  });

  it('removes a repository with its catalog entries, and audits every change', async () => {
    const res = await app.gql<{ removeRepository: { name: string } }>(`mutation R($id: ID!) { removeRepository(id: $id) { name } }`, { id: designId }, admin.headers);
    expect(res.body.data!.removeRepository.name).to.equal('design');
    const count = await app.gql<{ catalogTemplates: { totalCount: number } }>(`{ catalogTemplates(first: 1) { totalCount } }`, {}, admin.headers);
    expect(count.body.data!.catalogTemplates.totalCount).to.equal(187);
    const rows: { action: string; outcome: string }[] = await app.services.database.dataSource.query(
      `SELECT action, outcome FROM audit_log WHERE resource_type = 'repository' ORDER BY id`,
    );
    const actions = rows.map((r) => r.action);
    expect(actions).to.include.members(['repository.add', 'repository.sync', 'repository.update', 'repository.remove']);
    // Nothing the audit or the logs hold contains a credential-like value (there are none here), and no errors leaked.
    expect(JSON.stringify(app.logs)).to.not.match(/Authorization: Basic/);
  });
});
