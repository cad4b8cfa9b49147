import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { TestGitRepo, designTemplate } from './git-fixture';
import { TestSshd } from './ssh-sshd';

const REPO_FIELDS = 'id name url authType knownHosts status templateCount lastCommit syncError';

interface Repo {
  id: string;
  knownHosts: string | null;
  status: string;
  templateCount: number;
  lastCommit: string | null;
  syncError: string | null;
}

/** Catalog repositories over ssh against a real sshd on loopback: host keys are pinned, never learned. */
describe('catalog: ssh repositories need pinned host keys (real sshd)', function () {
  let sshd: TestSshd;
  let source: TestGitRepo;
  let app: TestApp;
  let admin: SignedIn;
  let ns: string;
  let kubeconfigPath: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    sshd = new TestSshd();
    await sshd.start('host_a');
    source = new TestGitRepo('ssh-catalog');
    source.write('templates/tools/alpha/template.yaml', designTemplate('alpha')).write('templates/tools/beta/template.yaml', designTemplate('beta')).commit('two templates');
    const cluster = await getTestCluster();
    ns = await createTestNamespace('catalog-ssh');
    kubeconfigPath = cluster.kubeconfigPath;
    await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'catalog-ssh-key' }, stringData: { 'ssh-privatekey': sshd.clientKey } },
    });
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
  });
  after(async () => {
    await app?.stop();
    await sshd?.cleanup();
    source?.cleanup();
  });

  async function gql<T>(query: string, variables: Record<string, unknown>) {
    return (await app.gql<T>(query, variables, admin.headers)).body;
  }
  const add = (input: Record<string, unknown>) => gql<{ addRepository: Repo }>(`mutation($input: AddRepositoryInput!) { addRepository(input: $input) { ${REPO_FIELDS} } }`, { input });
  const update = (id: string, input: Record<string, unknown>) =>
    gql<{ updateRepository: Repo }>(`mutation($id: ID!, $input: UpdateRepositoryInput!) { updateRepository(id: $id, input: $input) { ${REPO_FIELDS} } }`, { id, input });
  const sync = async (id: string) => {
    const res = await gql<{ syncRepository: Repo }>(`mutation($id: ID!) { syncRepository(id: $id) { ${REPO_FIELDS} } }`, { id });
    expect(res.errors, JSON.stringify(res.errors)).to.equal(undefined);
    return res.data!.syncRepository;
  };
  const catalogNames = async (repositoryId: string) =>
    ((await app.services.database.dataSource.query('SELECT name FROM catalog_templates WHERE repository_id = $1 ORDER BY name', [repositoryId])) as { name: string }[]).map((r) => r.name);

  it('refuses an ssh URL with no pinned host key at create, and known_hosts that are not host keys', async () => {
    const none = await add({ name: 'ssh-unpinned', url: sshd.url(source.dir) });
    expect(none.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(none.errors?.[0]?.message).to.match(/ssh repository URL needs a pinned host key: give knownHosts/);
    const scp = await add({ name: 'ssh-scp', url: `git@127.0.0.1:${source.dir.slice(1)}` });
    expect(scp.errors?.[0]?.message).to.match(/pinned host key/);
    const junk = await add({ name: 'ssh-junk', url: sshd.url(source.dir), knownHosts: '127.0.0.1 ssh-ed25519 not-a-key' });
    expect(junk.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(junk.errors?.[0]?.message).to.match(/known_hosts line 1: the key is not a valid ssh-ed25519 public key/);
    const rows = (await app.services.database.dataSource.query(`SELECT name FROM repositories WHERE name LIKE 'ssh-%'`)) as unknown[];
    expect(rows).to.deep.equal([]);
  });

  it('fails the sync of an ssh repository whose Secret pins no host key, with a clear error', async () => {
    const created = await add({ name: 'ssh-secret-only', url: sshd.url(source.dir), auth: { type: 'SSH', secretName: 'catalog-ssh-key' } });
    expect(created.errors, JSON.stringify(created.errors)).to.equal(undefined);
    const repo = await sync(created.data!.addRepository.id);
    expect(repo.status).to.equal('FAILED');
    expect(repo.syncError).to.match(/has no pinned host key: give the repository's knownHosts/);
    expect(repo.lastCommit).to.equal(null);
  });

  it('syncs with the pinned host key, and refuses a changed host key keeping the last good catalog', async () => {
    const created = await add({
      name: 'ssh-pinned',
      url: sshd.url(source.dir),
      auth: { type: 'SSH', secretName: 'catalog-ssh-key' },
      knownHosts: `# the test server\n${sshd.knownHostsLine('host_a')}\n`,
    });
    expect(created.errors, JSON.stringify(created.errors)).to.equal(undefined);
    const id = created.data!.addRepository.id;
    expect(created.data!.addRepository.knownHosts).to.equal(sshd.knownHostsLine('host_a'));
    const good = await sync(id);
    expect(good.syncError).to.equal(null);
    expect(good).to.include({ status: 'READY', templateCount: 2 });
    const goodCommit = good.lastCommit;
    expect(await catalogNames(id)).to.deep.equal(['alpha', 'beta']);

    // The server now answers with another host key (a man in the middle, or a re-keyed host nobody re-pinned).
    source.write('templates/tools/gamma/template.yaml', designTemplate('gamma')).commit('a third template');
    await sshd.stop();
    await sshd.start('host_b');
    const refused = await sync(id);
    expect(refused.status).to.equal('FAILED');
    expect(refused.syncError).to.match(/the ssh host key of \[127\.0\.0\.1\]:\d+ does not match the pinned known_hosts \(host key verification failed\)/);
    expect(refused.lastCommit).to.equal(goodCommit);
    expect(refused.templateCount).to.equal(2);
    expect(await catalogNames(id)).to.deep.equal(['alpha', 'beta']);

    // Moving an https repository to an ssh URL without a pin is refused like an unpinned create.
    const keyless = await add({ name: 'ssh-keyless', url: 'https://example.test/r.git' });
    expect(keyless.errors, JSON.stringify(keyless.errors)).to.equal(undefined);
    const toSsh = await update(keyless.data!.addRepository.id, { url: sshd.url(source.dir) });
    expect(toSsh.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(toSsh.errors?.[0]?.message).to.match(/needs a pinned host key/);

    // Pinning the new key (after checking its fingerprint) lets the sync through.
    const repinned = await update(id, { knownHosts: sshd.knownHostsLine('host_b') });
    expect(repinned.errors, JSON.stringify(repinned.errors)).to.equal(undefined);
    const again = await sync(id);
    expect(again).to.include({ status: 'READY', templateCount: 3 });
    expect(await catalogNames(id)).to.deep.equal(['alpha', 'beta', 'gamma']);
  });

  it('never accepts a host whose key is not pinned at all (a pin for another host only)', async () => {
    const created = await add({
      name: 'ssh-other-host',
      url: sshd.url(source.dir),
      auth: { type: 'SSH', secretName: 'catalog-ssh-key' },
      knownHosts: sshd.knownHostsLine('host_b').replace('[127.0.0.1]', '[127.0.0.2]'),
    });
    expect(created.errors, JSON.stringify(created.errors)).to.equal(undefined);
    const repo = await sync(created.data!.addRepository.id);
    expect(repo.status).to.equal('FAILED');
    expect(repo.syncError).to.match(/does not match the pinned known_hosts/);
    expect(await catalogNames(created.data!.addRepository.id)).to.deep.equal([]);
  });

  it('trusts the platform-wide STREAMSPACE_GIT_SSH_KNOWN_HOSTS for repositories without their own pin', async () => {
    const platform = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GIT_SSH_KNOWN_HOSTS: `${sshd.knownHostsLine('host_b')}\n`,
    });
    try {
      const as = await signInAsAdmin(platform);
      const created = await platform.gql<{ addRepository: Repo }>(`mutation($input: AddRepositoryInput!) { addRepository(input: $input) { ${REPO_FIELDS} } }`, {
        input: { name: 'ssh-platform-pin', url: sshd.url(source.dir), auth: { type: 'SSH', secretName: 'catalog-ssh-key' } },
      }, as.headers);
      expect(created.body.errors, JSON.stringify(created.body.errors)).to.equal(undefined);
      expect(created.body.data!.addRepository.knownHosts).to.equal(null);
      const synced = await platform.gql<{ syncRepository: Repo }>(`mutation($id: ID!) { syncRepository(id: $id) { ${REPO_FIELDS} } }`, { id: created.body.data!.addRepository.id }, as.headers);
      expect(synced.body.data?.syncRepository, JSON.stringify(synced.body)).to.include({ status: 'READY', templateCount: 3 });
      // Anonymous ssh (no key) is accepted at create when the platform pins the host.
      const anonymous = await platform.gql(`mutation($input: AddRepositoryInput!) { addRepository(input: $input) { id } }`, { input: { name: 'ssh-platform-anon', url: sshd.url(source.dir) } }, as.headers);
      expect(anonymous.body.errors, JSON.stringify(anonymous.body.errors)).to.equal(undefined);
    } finally {
      await platform.stop();
    }
  });
});
