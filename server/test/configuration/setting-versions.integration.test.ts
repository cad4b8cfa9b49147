import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { ConfigurationVersionEntity } from '../../src/modules/configuration/configuration-version.entity';
import { ConfigurationEntity } from '../../src/modules/configuration/configuration.entity';
import { Api, applyTemplates } from '../connections/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: settings-notes
spec:
  displayName: Notes
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  volumeMounts:
    - name: user-home
      mountPath: /home/user
`;

const SETTING_FIELDS = 'key value defaultValue source defaultSource group kind choices updatedBy';
const DIFF = 'key label before after beforeSource afterSource';
const VERSION = `id createdAt actor action restoredFrom changes { ${DIFF} }`;
const PREVIEW = `valid errors { key message } changes { ${DIFF} } dryRun { ran skippedReason objects { kind name accepted message } }`;

interface Diff {
  key: string;
  label: string;
  before: unknown;
  after: unknown;
  beforeSource: string;
  afterSource: string;
}
interface Version {
  id: number;
  actor: string | null;
  action: string;
  restoredFrom: number | null;
  changes: Diff[];
}
interface Preview {
  valid: boolean;
  errors: { key: string; message: string }[];
  changes: Diff[];
  dryRun: { ran: boolean; skippedReason: string | null; objects: { kind: string; name: string; accepted: boolean; message: string | null }[] };
}
type Change = { key: string; value?: unknown; reset?: boolean };

/** The first value `read` answers (not undefined), waiting for the reconciler. */
async function eventually<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  let value: T | undefined;
  await waitUntil(async () => (value = await read()) !== undefined, what);
  return value!;
}

/**
 * Configuration versions on a real PostgreSQL and a real kube-apiserver: typed validation per field, the API server's
 * own dry run of a sample session's objects, atomic batches, restore in one step, the source of every value, the
 * audit trail, and the settings taking effect where they apply (session objects, session rules, sharing).
 */
describe('configuration: versions, dry run, apply and restore', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('settings');
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_HOME_SIZE: '10Gi',
    });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
    await applyTemplates(app, admin, [TEMPLATE]);
    // Home claims in this namespace may ask for at most 30Gi: the API server's admission refuses more.
    await kc.makeApiClient(CoreV1Api).createNamespacedLimitRange({
      namespace: ns,
      body: { metadata: { name: 'home-limit' }, spec: { limits: [{ type: 'PersistentVolumeClaim', max: { storage: '30Gi' } }] } },
    });
  });
  after(async () => {
    await app?.stop();
  });

  async function settings(): Promise<Record<string, Record<string, unknown>>> {
    const res = await app.gql<{ settings: Record<string, unknown>[] }>(`{ settings { ${SETTING_FIELDS} } }`, undefined, admin.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return Object.fromEntries(res.body.data!.settings.map((s) => [s.key as string, s]));
  }

  function preview(changes: Change[], headers = admin.headers) {
    return app.gql<{ previewSettings: Preview }>(`query P($c: [SettingChangeInput!]!) { previewSettings(changes: $c) { ${PREVIEW} } }`, { c: changes }, headers);
  }

  function apply(changes: Change[], headers = admin.headers) {
    return app.gql<{ applySettings: { version: Version | null; dryRun: { kind: string; accepted: boolean }[] } }>(
      `mutation A($c: [SettingChangeInput!]!) { applySettings(changes: $c) { version { ${VERSION} } dryRun { kind accepted } } }`,
      { c: changes },
      headers,
    );
  }

  function restore(id: number, headers = admin.headers) {
    return app.gql<{ restoreSettingVersion: { version: Version } }>(`mutation R($id: Int!) { restoreSettingVersion(id: $id) { version { ${VERSION} } } }`, { id }, headers);
  }

  function versions(first?: number, after?: string) {
    return app.gql<{ settingVersions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Version }[] } }>(
      `query V($first: Int, $after: String) { settingVersions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${VERSION} } } } }`,
      { first, after },
      admin.headers,
    );
  }

  /** Everything a refused change must leave as it was. */
  async function state() {
    const ds = app.services.database.dataSource;
    return {
      rows: await ds.getRepository(ConfigurationEntity).find({ order: { key: 'ASC' } }),
      versions: await ds.getRepository(ConfigurationVersionEntity).count(),
      audit: await ds.getRepository(AuditLogEntity).count(),
    };
  }

  it('says where every value comes from: the environment, the built-in default', async () => {
    const s = await settings();
    expect(s['storage.homeSize']).to.include({ value: '10Gi', source: 'ENVIRONMENT', defaultSource: 'ENVIRONMENT', group: 'STORAGE', kind: 'QUANTITY' });
    expect(s['routing.ingressClass']).to.include({ value: '', source: 'DEFAULT', defaultSource: 'DEFAULT', group: 'ROUTING' });
    expect(s['routing.mode']).to.include({ value: 'none', source: 'DEFAULT', kind: 'CHOICE' });
    expect(s['routing.mode'].choices).to.deep.equal(['none', 'host', 'path']);
    expect(s['features.sharing']).to.include({ value: true, source: 'DEFAULT', kind: 'BOOLEAN', group: 'FEATURES' });
    expect(s['sessions.idleTimeout']).to.include({ value: '30m', kind: 'DURATION' });
  });

  it('previewSettings reports each broken rule on its field, runs no dry run, and saves nothing', async () => {
    const before = await state();
    const res = await preview([
      { key: 'routing.ingressClass', value: 'Bad_Class' },
      { key: 'storage.homeSize', value: '-1Gi' },
      { key: 'resources.maxCpu', value: 'lots' },
      { key: 'routing.mode', value: 'host' },
      { key: 'no.such', value: 1 },
    ]);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    const p = res.body.data!.previewSettings;
    expect(p.valid).to.equal(false);
    const byKey = Object.fromEntries(p.errors.map((e) => [e.key, e.message]));
    expect(byKey['routing.ingressClass']).to.match(/Kubernetes object name/);
    expect(byKey['storage.homeSize']).to.match(/storage quantity above zero/);
    expect(byKey['resources.maxCpu']).to.match(/CPU quantity/);
    // Host routing without an apps domain: the error sits on the field that is missing.
    expect(byKey['routing.appsDomain']).to.match(/Host routing needs an apps domain/);
    expect(byKey['no.such']).to.match(/There is no setting/);
    expect(p.dryRun).to.include({ ran: false });
    expect(await state()).to.deep.equal(before);
  });

  it("previewSettings sends a sample session's objects to the API server as a dry run and shows the diff, saving nothing", async () => {
    const before = await state();
    const res = await preview([
      { key: 'storage.homeSize', value: '20Gi' },
      { key: 'routing.mode', value: 'host' },
      { key: 'routing.appsDomain', value: 'apps.example.com' },
      { key: 'routing.ingressClass', value: 'nginx' },
      { key: 'features.internetEgress', value: false },
    ]);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    const p = res.body.data!.previewSettings;
    expect(p.errors).to.deep.equal([]);
    expect(p.valid).to.equal(true);
    expect(p.dryRun.ran).to.equal(true);
    expect(p.dryRun.objects.map((o) => o.kind)).to.have.members(['PersistentVolumeClaim', 'NetworkPolicy', 'Service', 'Ingress', 'Deployment']);
    for (const o of p.dryRun.objects) expect(o, JSON.stringify(o)).to.include({ accepted: true, message: null });
    expect(p.changes.find((c) => c.key === 'storage.homeSize')).to.deep.equal({
      key: 'storage.homeSize',
      label: 'Home volume size',
      before: '10Gi',
      after: '20Gi',
      beforeSource: 'ENVIRONMENT',
      afterSource: 'DATABASE',
    });
    expect(p.changes.map((c) => c.key)).to.have.members(['storage.homeSize', 'routing.mode', 'routing.appsDomain', 'routing.ingressClass', 'features.internetEgress']);
    // Nothing was created on the cluster either.
    const claims = await kc.makeApiClient(CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: ns });
    expect(claims.items).to.deep.equal([]);
    expect(await state()).to.deep.equal(before);
  });

  it("a value the API server refuses (a home size above the namespace's LimitRange) fails the dry run on its field; apply changes nothing", async () => {
    const before = await state();
    const p = (await preview([{ key: 'storage.homeSize', value: '50Gi' }, { key: 'features.sharing', value: false }])).body.data!.previewSettings;
    expect(p.valid).to.equal(false);
    const claim = p.dryRun.objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    expect(claim.accepted).to.equal(false);
    expect(claim.message).to.match(/maximum storage usage per PersistentVolumeClaim is 30Gi/);
    // Only the setting that shapes the refused object is blamed.
    expect(p.errors.map((e) => e.key)).to.deep.equal(['storage.homeSize']);
    expect(p.errors[0].message).to.match(/The API server refused the sample PersistentVolumeClaim/);

    const res = await apply([{ key: 'storage.homeSize', value: '50Gi' }, { key: 'features.sharing', value: false }]);
    const error = res.body.errors?.[0];
    expect(error?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect((error?.extensions?.details as { fieldErrors: { key: string }[] }).fieldErrors.map((e) => e.key)).to.deep.equal(['storage.homeSize']);
    expect(await state()).to.deep.equal(before);
    expect((await settings())['features.sharing']).to.include({ value: true, source: 'DEFAULT' });
  });

  it('applySettings is all or nothing: one broken field refuses the whole batch', async () => {
    const before = await state();
    const res = await apply([
      { key: 'storage.homeSize', value: '20Gi' },
      { key: 'sessions.heartbeatInterval', value: '5m' },
    ]);
    const error = res.body.errors?.[0];
    expect(error?.extensions?.code).to.equal('BAD_USER_INPUT');
    const fieldErrors = (error?.extensions?.details as { fieldErrors: { key: string; message: string }[] }).fieldErrors;
    expect(fieldErrors).to.have.length(1);
    expect(fieldErrors[0].key).to.equal('sessions.heartbeatInterval');
    expect(fieldErrors[0].message).to.match(/shorter than the heartbeat timeout \(1m\)/);
    expect(await state()).to.deep.equal(before);
  });

  let first: Version;
  it('applies a batch as one version (actor, diff), audited, and every value then says DATABASE', async () => {
    const auditBefore = await app.services.database.dataSource.getRepository(AuditLogEntity).countBy({ action: 'settings.apply' });
    const res = await apply([
      { key: 'storage.homeSize', value: '20Gi' },
      { key: 'storage.storageClass', value: 'fast-ssd' },
      { key: 'routing.mode', value: 'host' },
      { key: 'routing.appsDomain', value: 'apps.example.com' },
      { key: 'routing.ingressClass', value: 'nginx' },
      { key: 'features.internetEgress', value: false },
      { key: 'features.sharing', value: false },
      { key: 'resources.defaultCpu', value: '500m' },
      { key: 'resources.maxCpu', value: 2 },
      { key: 'sessions.maxDuration', value: '8h' },
      { key: 'sessions.idleTimeout', value: '45m' },
    ]);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    first = res.body.data!.applySettings.version!;
    expect(first).to.include({ actor: 'admin', action: 'apply', restoredFrom: null });
    expect(first.changes).to.have.length(11);
    expect(first.changes.find((c) => c.key === 'resources.defaultCpu')).to.include({ before: 0, after: 0.5, beforeSource: 'DEFAULT', afterSource: 'DATABASE' });
    expect(res.body.data!.applySettings.dryRun.every((o) => o.accepted)).to.equal(true);

    const s = await settings();
    expect(s['storage.homeSize']).to.include({ value: '20Gi', source: 'DATABASE', defaultSource: 'ENVIRONMENT', updatedBy: 'admin' });
    expect(s['features.sharing']).to.include({ value: false, source: 'DATABASE' });

    const audits = await app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action: 'settings.apply' }, order: { id: 'ASC' } });
    expect(audits).to.have.length(auditBefore + 1);
    const audit = audits.at(-1)!;
    expect(audit).to.include({ resourceType: 'setting', resourceId: String(first.id), actorUsername: 'admin', outcome: 'success' });
    expect((audit.changes as { version: number; changes: Diff[] }).version).to.equal(first.id);
    expect((audit.changes as { changes: Diff[] }).changes).to.have.length(11);
  });

  it('the settings take effect: session objects, resource defaults and maximums, longest life, idle timeout, sharing', async () => {
    const U = new Api(app, user);
    // Above the per-session maximum of 2 CPUs: refused before anything is created.
    const tooBig = await U.raw('mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }', {
      input: { template: 'settings-notes', resources: { limits: { cpu: '3' } } },
    });
    expect(tooBig.errors?.[0].extensions?.code).to.equal('QUOTA_EXCEEDED');
    expect((tooBig.errors?.[0].extensions?.details as { reason: string }).reason).to.equal('AboveSessionMaximum');
    // Longer than the longest life of 8h: refused.
    const tooLong = await U.raw('mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }', { input: { template: 'settings-notes', maxSessionDuration: '9h' } });
    expect(tooLong.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    expect(tooLong.errors?.[0].message).to.match(/maxSessionDuration: must be at most 8h/);

    const created = await U.createSession({ template: 'settings-notes', persistentHome: true });
    const spec = await U.ok<{ session: { maxSessionDuration: string; resources: { requests: { cpu: string } | null } | null } }>(
      'query S($id: ID!) { session(id: $id) { maxSessionDuration resources { requests { cpu } } } }',
      { id: created.id },
    );
    expect(spec.session.maxSessionDuration).to.equal('8h');
    expect(spec.session.resources?.requests?.cpu).to.equal('500m');
    expect((await U.session(created.id)).idle).to.include({ idleTimeout: '45m' });

    // The reconciler builds the session's objects from the settings now in force.
    const core = kc.makeApiClient(CoreV1Api);
    const net = kc.makeApiClient(NetworkingV1Api);
    const claim = await eventually(async () => (await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items[0], 'home claim');
    expect(claim.spec!.resources!.requests!.storage).to.equal('20Gi');
    expect(claim.spec!.storageClassName).to.equal('fast-ssd');
    const ingress = await eventually(() => net.readNamespacedIngress({ name: created.name, namespace: ns }).catch(() => undefined), 'ingress');
    expect(ingress.spec!.ingressClassName).to.equal('nginx');
    expect(ingress.spec!.rules![0].host).to.equal(`${created.name}.apps.example.com`);
    const policy = await eventually(() => net.readNamespacedNetworkPolicy({ name: created.name, namespace: ns }).catch(() => undefined), 'policy');
    expect(policy.spec!.policyTypes).to.include('Egress');
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await eventually(() => apps.readNamespacedDeployment({ name: created.name, namespace: ns }).catch(() => undefined), 'deployment');
    expect(deployment.spec!.template.spec!.containers[0].resources!.requests).to.deep.equal({ cpu: '500m' });

    // Sharing is off: a new share is refused with a typed error.
    const other = await createUserAndToken(app);
    const shared = await U.raw('mutation S($id: ID!, $u: String!) { shareSession(sessionId: $id, username: $u, role: VIEWER) { role } }', { id: created.id, u: other.username });
    expect(shared.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    expect(shared.errors?.[0].extensions?.details).to.include({ reason: 'SHARING_DISABLED', feature: 'sharing' });

    // Routing back to none and egress allowed again: the reconciler removes the Ingress, and the policy keeps only its
    // gateway rule (this install has the gateway policy), at once rather than at the next resync.
    expect((await apply([{ key: 'routing.mode', value: 'none' }, { key: 'features.internetEgress', value: true }])).body.errors).to.equal(undefined);
    await waitUntil(async () => !(await net.readNamespacedIngress({ name: created.name, namespace: ns }).then(() => true, () => false)), 'ingress removed');
    await waitUntil(async () => {
      const p = await net.readNamespacedNetworkPolicy({ name: created.name, namespace: ns });
      return JSON.stringify(p.spec!.policyTypes) === '["Ingress"]' && !p.spec!.egress?.length;
    }, 'egress rules removed');
  });

  it('connectSession tells clients the heartbeat interval in force', async () => {
    expect((await apply([{ key: 'sessions.heartbeatInterval', value: '10s' }])).body.errors).to.equal(undefined);
    const U = new Api(app, user);
    const s = await U.createSession({ template: 'settings-notes' });
    await U.waitPhase(s.id, 'Running');
    expect((await U.connect(s.id)).heartbeatIntervalSeconds).to.equal(10);
    expect((await apply([{ key: 'sessions.heartbeatInterval', value: '20s' }])).body.errors).to.equal(undefined);
    expect((await U.connect(s.id)).heartbeatIntervalSeconds).to.equal(20);
  });

  it('users may browse the catalog only while the flag is on (admins always)', async () => {
    const categories = (headers: Record<string, string>) => app.gql('{ catalogCategories { name } }', undefined, headers);
    expect((await categories(user.headers)).body.errors).to.equal(undefined);
    expect((await apply([{ key: 'features.catalogBrowsing', value: false }])).body.errors).to.equal(undefined);
    const refused = (await categories(user.headers)).body.errors?.[0];
    expect(refused?.extensions?.code).to.equal('FORBIDDEN');
    expect(refused?.extensions?.details).to.include({ feature: 'catalogBrowsing' });
    expect((await categories(admin.headers)).body.errors).to.equal(undefined);
    expect((await apply([{ key: 'features.catalogBrowsing', reset: true }])).body.errors).to.equal(undefined);
    expect((await categories(user.headers)).body.errors).to.equal(undefined);
  });

  it('restores an earlier version in one step, as a new version, audited', async () => {
    const changed = await apply([{ key: 'storage.homeSize', value: '25Gi' }, { key: 'features.sharing', value: true }, { key: 'routing.ingressClass', reset: true }]);
    expect(changed.body.errors, JSON.stringify(changed.body.errors)).to.equal(undefined);
    expect((await settings())['routing.ingressClass']).to.include({ value: '', source: 'DEFAULT' });

    const res = await restore(first.id);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    const v = res.body.data!.restoreSettingVersion.version;
    expect(v).to.include({ action: 'restore', restoredFrom: first.id, actor: 'admin' });
    expect(v.id).to.be.greaterThan(first.id);
    expect(v.changes.find((c) => c.key === 'storage.homeSize')).to.include({ before: '25Gi', after: '20Gi' });
    const s = await settings();
    expect(s['storage.homeSize']).to.include({ value: '20Gi', source: 'DATABASE' });
    expect(s['routing.ingressClass']).to.include({ value: 'nginx', source: 'DATABASE' });
    expect(s['routing.mode']).to.include({ value: 'host' });
    expect(s['features.sharing']).to.include({ value: false });
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneByOrFail({ action: 'settings.restore', resourceId: String(v.id) });
    expect(audit.changes).to.include({ version: v.id, restoredFrom: first.id });

    const missing = await restore(99_999);
    expect(missing.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
  });

  it('single-setting updates and resets are versions too, and the history pages newest first', async () => {
    const up = await app.gql('mutation { updateSetting(key: "quota.maxSessions", value: 4) { key } }', undefined, admin.headers);
    expect(up.body.errors).to.equal(undefined);
    const page1 = (await versions(2)).body.data!.settingVersions;
    expect(page1.edges.map((e) => e.node.action)).to.deep.equal(['update', 'restore']);
    expect(page1.edges[0].node.changes).to.deep.equal([
      { key: 'quota.maxSessions', label: 'Default max sessions', before: 10, after: 4, beforeSource: 'DEFAULT', afterSource: 'DATABASE' },
    ]);
    expect(page1.pageInfo.hasNextPage).to.equal(true);
    const page2 = (await versions(2, page1.pageInfo.endCursor!)).body.data!.settingVersions;
    expect(page2.edges[0].node.id).to.be.lessThan(page1.edges[1].node.id);
    expect(page2.totalCount).to.equal(page1.totalCount);
  });

  it('is admin only: users get FORBIDDEN, anonymous callers UNAUTHENTICATED, and nothing changes', async () => {
    const before = await state();
    for (const headers of [user.headers, {}]) {
      const code = headers === user.headers ? 'FORBIDDEN' : 'UNAUTHENTICATED';
      expect((await preview([{ key: 'features.sharing', value: true }], headers)).body.errors?.[0].extensions?.code).to.equal(code);
      expect((await apply([{ key: 'features.sharing', value: true }], headers)).body.errors?.[0].extensions?.code).to.equal(code);
      expect((await restore(first.id, headers)).body.errors?.[0].extensions?.code).to.equal(code);
      expect((await app.gql('{ settingVersions { totalCount } }', undefined, headers)).body.errors?.[0].extensions?.code).to.equal(code);
    }
    expect(await state()).to.deep.equal(before);
  });
});
