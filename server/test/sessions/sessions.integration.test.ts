import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { buildSchema, getNamedType, isLeafType, isObjectType, type GraphQLObjectType } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { publishSessionChange } from '../../src/modules/sessions/session-table';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { createUnderFreshName } from '../../src/modules/sessions/session.service';
import { kubeStatusCode } from '../../src/platform/kube/kube-errors';
import { startTestApp, type TestApp } from '../support/app';
import { COUNT_HEADER, countStatements } from '../support/sql-counter';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { createTestDatabase } from '../support/postgres';
import { FIXTURE_DIR } from '../templates/template-fixtures';

const group = 'stream.streamspace.io';
const version = 'v1alpha1';

/**
 * A selection of every field of a type from the committed schema (object fields expanded `depth` levels, unions and
 * interfaces and fields that require arguments left out): a field added to the type is in it without anyone listing it.
 */
function everyField(type: GraphQLObjectType, depth: number): string {
  return Object.values(type.getFields())
    .filter((f) => f.args.every((a) => a.defaultValue !== undefined || !a.type.toString().endsWith('!')))
    .map((f) => {
      const named = getNamedType(f.type);
      if (isLeafType(named)) return f.name;
      const inner = depth > 0 && isObjectType(named) ? everyField(named, depth - 1) : '';
      return inner && `${f.name} { ${inner} }`;
    })
    .filter(Boolean)
    .join(' ');
}
const SCHEMA = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8'));

const SESSION_FIELDS = 'id name user templateName state phase message url appType podName persistentHome createdAt template { name displayName appType }';

interface Sess {
  id: string;
  name: string;
  user: string;
  templateName: string;
  state: string;
  phase: string;
  message: string | null;
  url: string | null;
  appType: string;
  podName: string | null;
  persistentHome: boolean;
  template: { name: string; displayName: string; appType: string } | null;
}

describe('sessions on the real control plane', function () {
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let ns: string;
  let databaseUrl: string;
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  let custom: CustomObjectsApi;

  async function start() {
    return startTestApp({
      DATABASE_URL: databaseUrl,
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_RECONCILE_RESYNC: '30s',
      STREAMSPACE_SESSION_INGRESS: 'path',
      STREAMSPACE_SESSION_HOST: 'streamspace.test',
      STREAMSPACE_SESSION_TLS_SECRET: 'streamspace-tls',
      STREAMSPACE_HOME_SIZE: '2Gi',
      STREAMSPACE_HOME_STORAGE_CLASS: `static-${ns}`,
      STREAMSPACE_QUOTA_MAX_SESSIONS: '50',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '20',
      STREAMSPACE_QUOTA_CPU: '64',
      STREAMSPACE_QUOTA_MEMORY: '256Gi',
    });
  }

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    kubeconfigPath = cluster.kubeconfigPath;
    ns = await createTestNamespace('sessions');
    databaseUrl = await createTestDatabase('sessions');
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    // The simulated cluster has no storage provisioner: a statically provisioned volume (as an admin without
    // dynamic provisioning would create) lets kube-controller-manager bind the home PVC, so its pod can schedule.
    await core.createPersistentVolume({
      body: {
        metadata: { name: `home-pv-${ns}` },
        spec: {
          storageClassName: `static-${ns}`,
          capacity: { storage: '5Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/${ns}` },
        },
      },
    });
    app = await start();
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app, 'user');
    bob = await createUserAndToken(app, 'user');
    for (const file of ['web-browsers/firefox.yaml', 'audio-video/synclounge.yaml']) {
      const yaml = fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8');
      const res = await app.gql<{ applyTemplateYaml: { name: string; valid: boolean | null } }>(
        'mutation Apply($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name valid } }',
        { yaml },
        admin.headers,
      );
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    }
  });
  after(async () => {
    await app?.stop();
    await core?.deletePersistentVolume({ name: `home-pv-${ns}` }).catch(() => undefined);
  });

  async function gql<T>(who: SignedIn, query: string, variables?: Record<string, unknown>) {
    const res = await app.gql<T>(query, variables, who.headers);
    return res.body;
  }

  async function createSession(who: SignedIn, input: Record<string, unknown>): Promise<Sess> {
    const body = await gql<{ createSession: Sess }>(who, `mutation C($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`, { input });
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
    return body.data!.createSession;
  }

  async function waitPhase(who: SignedIn, id: string, phase: string, timeoutMs = 90_000): Promise<Sess> {
    let last: Sess | undefined;
    const poll = async () => {
      // A session made with kubectl reaches the table through the watch: NOT_FOUND until then.
      const body = await gql<{ session: Sess }>(who, `query S($id: ID!) { session(id: $id) { ${SESSION_FIELDS} } }`, { id });
      last = body.data?.session ?? last;
      return body.data?.session?.phase === phase;
    };
    await waitUntil(poll, `session ${id} to be ${phase}`, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
    return last!;
  }

  async function exists(read: () => Promise<unknown>): Promise<boolean> {
    try {
      await read();
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  }

  async function sessionPods(name: string): Promise<V1Pod[]> {
    return (await core.listNamespacedPod({ namespace: ns, labelSelector: `stream.streamspace.io/session=${name}` })).items;
  }

  it('templates import from the original format and get validated by the reconciler', async () => {
    const body = await gql<{ templates: { name: string; appType: string; vncPort: number | null; webappPort: number | null }[] }>(
      alice,
      '{ templates { name appType vncPort webappPort } }',
    );
    expect(body.data!.templates).to.deep.include({ name: 'firefox', appType: 'desktop', vncPort: 3000, webappPort: null });
    expect(body.data!.templates).to.deep.include({ name: 'synclounge', appType: 'webapp', vncPort: null, webappPort: 8080 });
    await waitUntil(async () => (await gql<{ template: { valid: boolean | null } }>(alice, '{ template(name: "firefox") { valid } }')).data!.template.valid === true, 'firefox to be validated');
  });

  let first: Sess;

  it('create: Deployment, Service, Ingress and home PVC with owner references; Running with a URL only once the pod is Ready', async function () {
    this.timeout(180_000);
    first = await createSession(alice, { template: 'firefox', persistentHome: true, idleTimeout: '30m' });
    expect(first).to.deep.include({ user: alice.username, templateName: 'firefox', state: 'running', appType: 'desktop', persistentHome: true });
    expect(first.template).to.deep.equal({ name: 'firefox', displayName: 'Firefox', appType: 'desktop' });
    expect(first.phase).to.be.oneOf(['Pending', 'Running']);

    const running = await waitPhase(alice, first.id, 'Running');
    expect(running.url).to.equal(`https://streamspace.test/sessions/${first.name}/`);
    const pods = await sessionPods(first.name);
    expect(pods.map((p) => p.metadata!.name)).to.include(running.podName);
    expect(pods.find((p) => p.metadata!.name === running.podName)!.status!.conditions!.some((c) => c.type === 'Ready' && c.status === 'True')).to.equal(true);

    const owner = { kind: 'Session', name: first.name, uid: first.id, controller: true };
    const dep = await apps.readNamespacedDeployment({ name: first.name, namespace: ns });
    expect(dep.metadata!.ownerReferences![0]).to.deep.include(owner);
    expect(dep.spec!.replicas).to.equal(1);
    expect(dep.metadata!.labels).to.deep.include({ 'stream.streamspace.io/user': alice.username, 'stream.streamspace.io/template': 'firefox', 'app.kubernetes.io/managed-by': 'streamspace' });
    const svc = await core.readNamespacedService({ name: first.name, namespace: ns });
    expect(svc.metadata!.ownerReferences![0]).to.deep.include(owner);
    expect(svc.spec!.ports!.map((p) => p.port)).to.deep.equal([3000]);
    const ing = await net.readNamespacedIngress({ name: first.name, namespace: ns });
    expect(ing.metadata!.ownerReferences![0]).to.deep.include(owner);
    expect(ing.spec!.tls).to.deep.equal([{ hosts: ['streamspace.test'], secretName: 'streamspace-tls' }]);
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: `home-${alice.id}`, namespace: ns });
    // Named from the user's immutable id, owned by them.
    expect(pvc.metadata!.labels).to.deep.include({ 'stream.streamspace.io/home-owner': alice.id });
    expect(pvc.metadata!.ownerReferences ?? []).to.deep.equal([]);

    // Transitions are recorded as Kubernetes Events on the Session.
    await waitUntil(
      async () => (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${first.name}` })).items.some((e) => e.reason === 'Running'),
      'a Running event on the Session',
    );
    // ...and every mutation leaves an audit row.
    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findOneBy({ action: 'session.create', resourceId: first.id });
    expect(audit?.actorUsername).to.equal(alice.username);
  });

  it('users see only their own sessions; admins see all', async () => {
    const other = await gql<{ session: Sess }>(bob, `query S($id: ID!) { session(id: $id) { id } }`, { id: first.id });
    expect(other.errors![0].extensions!.code).to.equal('NOT_FOUND');
    const hib = await gql(bob, 'mutation H($id: ID!) { hibernateSession(id: $id) { id } }', { id: first.id });
    expect(hib.errors![0].extensions!.code).to.equal('NOT_FOUND');
    const bobList = await gql<{ sessions: { totalCount: number } }>(bob, '{ sessions { totalCount } }');
    expect(bobList.data!.sessions.totalCount).to.equal(0);
    const adminList = await gql<{ sessions: { edges: { node: { id: string } }[] } }>(admin, `query L($u: String) { sessions(filter: { user: $u }) { edges { node { id } } } }`, { u: alice.username });
    expect(adminList.data!.sessions.edges.map((e) => e.node.id)).to.include(first.id);
  });

  it('hibernate: replicas 0, Hibernated once no pod is left, home PVC kept; wake: Running again', async function () {
    this.timeout(180_000);
    const hib = await gql<{ hibernateSession: Sess }>(alice, 'mutation H($id: ID!) { hibernateSession(id: $id) { state } }', { id: first.id });
    expect(hib.data!.hibernateSession.state).to.equal('hibernated');
    await waitPhase(alice, first.id, 'Hibernated');
    expect((await apps.readNamespacedDeployment({ name: first.name, namespace: ns })).spec!.replicas).to.equal(0);
    expect(await sessionPods(first.name)).to.deep.equal([]);
    expect(await exists(() => core.readNamespacedPersistentVolumeClaim({ name: `home-${alice.id}`, namespace: ns }))).to.equal(true);

    const again = await gql(alice, 'mutation H($id: ID!) { hibernateSession(id: $id) { state } }', { id: first.id });
    expect(again.errors![0].extensions!.code).to.equal('CONFLICT');

    await gql(alice, 'mutation W($id: ID!) { wakeSession(id: $id) { state } }', { id: first.id });
    const woken = await waitPhase(alice, first.id, 'Running');
    expect(woken.url).to.be.a('string');
    expect((await apps.readNamespacedDeployment({ name: first.name, namespace: ns })).spec!.replicas).to.equal(1);
  });

  it('two sessions of the same app for one user coexist', async function () {
    this.timeout(180_000);
    const second = await createSession(alice, { template: 'firefox' });
    expect(second.name).to.not.equal(first.name);
    await waitPhase(alice, second.id, 'Running');
    expect((await waitPhase(alice, first.id, 'Running')).id).to.equal(first.id);
    const list = await gql<{ sessions: { totalCount: number; edges: { node: { id: string } }[] } }>(alice, '{ sessions(filter: { template: "firefox" }) { totalCount edges { node { id } } } }');
    expect(list.data!.sessions.edges.map((e) => e.node.id)).to.have.members([first.id, second.id]);
    expect(list.data!.sessions.totalCount).to.equal(2);
    // Relay paging over PostgreSQL; totalCount counts every matching session on every page (the first page's
    // count comes with its rows, a later page's is its own statement).
    type Page = { sessions: { totalCount: number; edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const page1 = await gql<Page>(alice, '{ sessions(first: 1, filter: { template: "firefox" }) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }');
    expect(page1.data!.sessions.edges).to.have.length(1);
    expect(page1.data!.sessions.pageInfo.hasNextPage).to.equal(true);
    expect(page1.data!.sessions.totalCount).to.equal(2);
    const page2 = await gql<Page>(alice, 'query P($after: String) { sessions(first: 1, after: $after, filter: { template: "firefox" }) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }', {
      after: page1.data!.sessions.pageInfo.endCursor,
    });
    expect(page2.data!.sessions.edges[0].node.id).to.not.equal(page1.data!.sessions.edges[0].node.id);
    expect(page2.data!.sessions.totalCount).to.equal(2);
    expect(page2.data!.sessions.pageInfo.hasNextPage).to.equal(false);
    // A filter that matches nothing: no rows, so the first page's count is 0 (not missing).
    const none = await gql<Page>(alice, '{ sessions(filter: { template: "no-such-template" }) { totalCount edges { node { id } } } }');
    expect(none.data!.sessions.edges).to.have.length(0);
    expect(none.data!.sessions.totalCount).to.equal(0);
    // Cursors that decode but do not hold the list's key (a date and a session id): a clear error, not a failed query.
    for (const key of [['not a date', page1.data!.sessions.edges[0].node.id], [new Date().toISOString(), 'not-a-uuid'], ['garbage']]) {
      const bad = await gql<Page>(alice, 'query P($after: String) { sessions(after: $after) { edges { node { id } } } }', { after: Buffer.from(JSON.stringify(key)).toString('base64url') });
      expect(bad.errors?.[0].extensions?.code, JSON.stringify(key)).to.equal('BAD_USER_INPUT');
      expect(bad.errors![0].message).to.match(/cursor is not valid/);
    }
    await gql(alice, 'mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: second.id });
  });

  it('creates a session under a new generated name when its name is taken (409 AlreadyExists), and gives up after five', async () => {
    // A namespace no reconciler watches: these objects are only names.
    const other = await createTestNamespace('names');
    const create = (name: string) =>
      custom.createNamespacedCustomObject({
        group: 'stream.streamspace.io',
        version: 'v1alpha1',
        namespace: other,
        plural: 'sessions',
        body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name, namespace: other }, spec: { user: 'alice', template: 'firefox', state: 'hibernated' } },
      }) as Promise<{ metadata: { name: string } }>;
    await create('alice-firefox-aaaaa');
    const names = ['alice-firefox-aaaaa', 'alice-firefox-bbbbb'];
    const made = await createUnderFreshName(create, () => names.shift()!);
    expect(made.metadata.name).to.equal('alice-firefox-bbbbb');
    let tries = 0;
    const err = await createUnderFreshName(create, () => (tries++, 'alice-firefox-aaaaa')).then(
      () => null,
      (e: unknown) => e,
    );
    expect([kubeStatusCode(err), tries]).to.deep.equal([409, 5]);
    // Any other refusal is not retried: an invalid name is the API server's 422 at once.
    tries = 0;
    const invalid = await createUnderFreshName(create, () => (tries++, 'Not_A_Name')).then(
      () => null,
      (e: unknown) => e,
    );
    expect([kubeStatusCode(invalid), tries]).to.deep.equal([422, 1]);
  });

  it('a list of sessions resolves their templates from the watch cache or in one batch per request (no N+1)', async () => {
    // Settings of every kind a page reads from the Session's spec (the others: the defaults).
    const extra = [
      await createSession(alice, { template: 'firefox' }),
      await createSession(bob, { template: 'synclounge', idleTimeout: '45m', maxSessionDuration: '8h', minConnections: 2, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } }),
      await createSession(alice, { template: 'firefox', newSession: true, minConnections: 0, persistentHome: false }),
    ];
    const templates = app.services.templates!;
    const calls = { getMany: 0, getObject: 0, keys: 0 };
    const { getMany, getObject } = templates;
    templates.getMany = async (names) => {
      calls.getMany++;
      calls.keys += names.length;
      return getMany.call(templates, names);
    };
    templates.getObject = async (name) => {
      calls.getObject++;
      return getObject.call(templates, name);
    };
    // Both Running first: the idle answers compared below must not change phase between the two queries.
    await waitPhase(alice, extra[0].id, 'Running');
    await waitPhase(bob, extra[1].id, 'Running');
    await waitPhase(alice, extra[2].id, 'Running');
    const counter = countStatements(app.httpServer);
    try {
      const page = '{ sessions(first: 50) { totalCount edges { node { id template { name } idle { reason hibernatesAt idleTimeoutSource } } } } }';
      await gql(admin, page); // the caller's caches warm: the counted request's statements are the page's own
      calls.getMany = calls.getObject = calls.keys = 0;
      const res = await app.gql<{ sessions: { edges: { node: { id: string; template: { name: string } | null; idle: { reason: string } } }[] } }>(page, undefined, { ...admin.headers, [COUNT_HEADER]: '1' });
      const body = res.body;
      expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
      // The page and its count in one statement; the idle decisions from the rows of that statement (no second
      // read of the sessions), the templates from their watch cache.
      const statements = counter.last();
      expect(statements.filter((sql) => /\bsessions\b/i.test(sql)), statements.join('\n')).to.have.length(1);
      expect(statements.length, statements.join('\n')).to.be.at.most(2);
      // ...and they say what the one-session query (which reads its row itself) says.
      for (const { node } of body.data!.sessions.edges) {
        const one = await gql<{ session: { idle: unknown } }>(admin, 'query S($id: ID!) { session(id: $id) { idle { reason hibernatesAt idleTimeoutSource } } }', { id: node.id });
        expect(node.idle, node.id).to.deep.equal(one.data!.session.idle);
      }
      // Every field of a page's session (whose row holds only what a page reads of spec and status), every field the
      // schema has, is what the one-session query (the whole row) answers.
      const every = everyField(SCHEMA.getType('Session') as GraphQLObjectType, 2);
      expect(every).to.include('conditions {').and.include('resources {').and.include('idle {');
      const full = await gql<{ sessions: { edges: { node: Record<string, unknown> & { id: string } }[] } }>(admin, `{ sessions(first: 50) { edges { node { ${every} } } } }`);
      expect(full.errors, JSON.stringify(full.errors)).to.equal(undefined);
      const listed = new Map(full.data!.sessions.edges.map((e) => [e.node.id, e.node]));
      for (const sess of extra) {
        const one = await gql<{ session: Record<string, unknown> }>(admin, `query S($id: ID!) { session(id: $id) { ${every} } }`, { id: sess.id });
        expect(listed.get(sess.id), sess.id).to.deep.equal(one.data!.session);
      }
      const bobs = listed.get(extra[1].id)!;
      expect(bobs).to.deep.include({ idleTimeout: '45m', maxSessionDuration: '8h', persistentHome: false, message: 'The session is running' });
      expect(bobs.resources).to.deep.equal({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: null, memory: '256Mi' } });
      expect((bobs.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status])).to.deep.include(['Ready', 'True']);
      expect(bobs.idle).to.deep.include({ idleTimeout: '45m', idleTimeoutSource: 'session' });
      expect((bobs.idle as { reason: string }).reason).to.match(/^No active connections since .*45m \(from the session\)$/);
      expect((listed.get(extra[2].id)!.idle as { reason: string }).reason).to.match(/^minConnections is 0/);
      const names = body.data!.sessions.edges.map((e) => e.node.template?.name);
      expect(names.length, 'sessions listed').to.be.greaterThan(2);
      expect(names.every((n) => n === 'firefox' || n === 'synclounge')).to.equal(true);
      // From the synced watch cache in place (no batch at all), or one batch while it has not synced: never one per session.
      expect(calls.getMany, 'template batches').to.be.at.most(1);
      expect(calls.getObject, 'per-session template reads').to.equal(0);
      expect(calls.keys, 'distinct template names asked for').to.be.at.most(2);
    } finally {
      counter.stop();
      templates.getMany = getMany;
      templates.getObject = getObject;
      for (const [who, sess] of [[alice, extra[0]], [bob, extra[1]], [alice, extra[2]]] as const) {
        await gql(who, 'mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: sess.id });
      }
    }
  });

  it('bad input returns typed errors and creates nothing', async () => {
    const before = (await custom.listNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions' })) as { items: unknown[] };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ template: 'no-such-app' }, 'BAD_USER_INPUT', /Unknown template "no-such-app"/],
      [{ template: 'Not_A_Label' }, 'BAD_USER_INPUT', /Unknown template/],
      [{ template: 'firefox', idleTimeout: '30 minutes' }, 'BAD_USER_INPUT', /idleTimeout/],
      [{ template: 'firefox', resources: { requests: { memory: '1GB' } } }, 'BAD_USER_INPUT', /resources\.requests\.memory/],
    ];
    for (const [input, code, message] of cases) {
      const body = await gql(alice, 'mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }', { input });
      expect(body.errors?.[0].extensions?.code, JSON.stringify(input)).to.equal(code);
      expect(body.errors![0].message).to.match(message);
    }
    const after = (await custom.listNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions' })) as { items: unknown[] };
    const names = (l: { items: unknown[] }) => l.items.map((i) => (i as { metadata: { name: string } }).metadata.name);
    // (a session deleted by the previous test may still be finishing; nothing may be new)
    expect(names(after).filter((n) => !names(before).includes(n))).to.deep.equal([]);
    const badYaml = await gql(admin, 'mutation A($y: String!) { applyTemplateYaml(yaml: $y) { name } }', { y: 'apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata: {name: x}\nspec: {displayName: X, appType: webapp, webapp: {port: 99999}}\n' });
    expect(badYaml.errors![0].extensions!.code).to.equal('BAD_USER_INPUT');
    expect(badYaml.errors![0].message).to.match(/spec\.baseImage: is required.*spec\.webapp\.port/);
    const notAdmin = await gql(alice, 'mutation { deleteTemplate(name: "firefox") }');
    expect(notAdmin.errors![0].extensions!.code).to.equal('FORBIDDEN');
  });

  it('a missing template ends in Failed with a message', async function () {
    this.timeout(120_000);
    // The API refuses unknown templates, so create the Session object directly (as kubectl would).
    const obj = (await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'sessions',
      body: { apiVersion: `${group}/${version}`, kind: 'Session', metadata: { name: 'ghost-session' }, spec: { user: alice.username, template: 'ghost' } },
    })) as { metadata: { uid: string } };
    const failed = await waitPhase(alice, obj.metadata.uid, 'Failed');
    expect(failed.message).to.match(/Template "ghost" does not exist/);
    expect(await exists(() => apps.readNamespacedDeployment({ name: 'ghost-session', namespace: ns }))).to.equal(false);
  });

  it('an image that cannot be pulled ends in Failed with a message (the test reports ErrImagePull as the kubelet would)', async function () {
    this.timeout(120_000);
    // kwok runs no container runtime: every pod becomes Ready whatever its image. A kubelet reports a pull
    // failure in the pod status (containerStatuses[].state.waiting.reason=ErrImagePull, Ready=False); this
    // test writes exactly that status, playing the kubelet, after kwok has made the pod Ready.
    // (kwok's pod-ready stage only matches pods in phase Pending, so it does not overwrite this status.)
    const s = await createSession(alice, { template: 'synclounge' });
    await waitPhase(alice, s.id, 'Running');
    const [pod] = await sessionPods(s.name);
    const now = new Date().toISOString();
    await core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: ns,
      body: {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Running',
          conditions: (pod.status!.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: new Date(now) } : c)),
          containerStatuses: [
            {
              name: 'app',
              image: 'lscr.io/linuxserver/synclounge:latest',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ErrImagePull', message: 'failed to pull and unpack image: not found' } },
            },
          ],
        },
      },
    });
    const failed = await waitPhase(alice, s.id, 'Failed');
    expect(failed.message).to.match(/cannot be pulled \(ErrImagePull\): failed to pull/);
    await gql(alice, 'mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('terminated sessions keep the Session but lose the workload; waking one is a CONFLICT', async function () {
    this.timeout(120_000);
    const s = await createSession(alice, { template: 'synclounge' });
    await custom.patchNamespacedCustomObject(
      { group, version, namespace: ns, plural: 'sessions', name: s.name, body: { spec: { state: 'terminated' } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitPhase(alice, s.id, 'Terminated');
    expect(await exists(() => apps.readNamespacedDeployment({ name: s.name, namespace: ns }))).to.equal(false);
    expect(await exists(() => core.readNamespacedService({ name: s.name, namespace: ns }))).to.equal(false);
    const wake = await gql(alice, 'mutation W($id: ID!) { wakeSession(id: $id) { id } }', { id: s.id });
    expect(wake.errors![0].extensions!.code).to.equal('CONFLICT');
    expect(wake.errors![0].message).to.match(/terminated/);
  });

  it('maxSessionDuration terminates the session (kept as history) and records an Event', async function () {
    this.timeout(120_000);
    const s = await createSession(alice, { template: 'synclounge', maxSessionDuration: '3s' });
    const done = await waitPhase(alice, s.id, 'Terminated');
    expect(done.state).to.equal('terminated');
    expect(await exists(() => apps.readNamespacedDeployment({ name: s.name, namespace: ns }))).to.equal(false);
    const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${s.name}` })).items.map((e) => e.reason);
    expect(events).to.include('MaxDurationExceeded');
  });

  it('startupTimeout: a pod that never becomes Ready ends in Failed', async function () {
    this.timeout(120_000);
    // 100 CPUs fit on no simulated node (16 each), so the pod stays unschedulable and never Ready.
    const obj = (await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'sessions',
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'Session',
        metadata: { name: 'too-big' },
        spec: { user: alice.username, template: 'synclounge', startupTimeout: '2s', resources: { requests: { cpu: '100' } } },
      },
    })) as { metadata: { uid: string } };
    const failed = await waitPhase(alice, obj.metadata.uid, 'Failed');
    expect(failed.message).to.match(/not Ready within the startup timeout \(2s\)/);
    await custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name: 'too-big' });
  });

  it('a Template made with kubectl that fails validation gets status.valid=false and a message', async function () {
    this.timeout(60_000);
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'templates',
      // The CRD accepts it (cross-field rules are the server's): a desktop without a VNC endpoint.
      body: { apiVersion: `${group}/${version}`, kind: 'Template', metadata: { name: 'half-made' }, spec: { displayName: 'Half', baseImage: 'x:1', appType: 'desktop' } },
    });
    await waitUntil(async () => {
      const t = (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'templates', name: 'half-made' })) as { status?: { valid?: boolean; message?: string } };
      return t.status?.valid === false && /spec\.vnc: must be enabled for appType desktop/.test(t.status.message ?? '');
    }, 'the template to be marked invalid');
  });

  it('sessionUpdated and mySessionsChanged stream changes over graphql-ws', async function () {
    this.timeout(120_000);
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: alice.headers.authorization } });
    const phases: string[] = [];
    const changes: string[] = [];
    const stopA = client.subscribe<{ sessionUpdated: { phase: string } }>(
      { query: 'subscription U($id: ID!) { sessionUpdated(id: $id) { phase } }', variables: { id: first.id } },
      { next: (m) => void (m.data && phases.push(m.data.sessionUpdated.phase)), error: () => undefined, complete: () => undefined },
    );
    const stopB = client.subscribe<{ mySessionsChanged: { type: string; session: { id: string } } }>(
      { query: 'subscription { mySessionsChanged { type session { id } } }' },
      { next: (m) => void (m.data && changes.push(`${m.data.mySessionsChanged.type}:${m.data.mySessionsChanged.session.id}`)), error: () => undefined, complete: () => undefined },
    );
    // sessionUpdated starts with the session as it is now: once it arrived, the stream is live.
    const now = await gql<{ session: { phase: string } }>(alice, 'query S($id: ID!) { session(id: $id) { phase } }', { id: first.id });
    await waitUntil(() => phases.length > 0, 'the current state as the first sessionUpdated event');
    expect(phases[0]).to.equal(now.data!.session.phase);
    // mySessionsChanged has no first event: it is live once the session's own row, published again as the mirror
    // does, came through (no sleeping); then only the hibernation's events count.
    const row = await app.services.database.dataSource.getRepository(SessionEntity).findOneByOrFail({ id: first.id });
    await waitUntil(() => {
      if (changes.length > 0) return true;
      publishSessionChange(app.services.pubSub, { type: 'UPSERTED', session: row });
      return false;
    }, 'mySessionsChanged to be live', 20_000);
    changes.length = 0;
    await gql(alice, 'mutation H($id: ID!) { hibernateSession(id: $id) { id } }', { id: first.id });
    await waitUntil(() => phases.includes('Hibernated'), 'a Hibernated update');
    expect(changes).to.include(`UPSERTED:${first.id}`);
    stopA();
    stopB();
    await client.dispose();
    await gql(alice, 'mutation W($id: ID!) { wakeSession(id: $id) { id } }', { id: first.id });
  });

  it('the reconciler converges after the server is stopped mid-way and started again; the table is rebuilt', async function () {
    this.timeout(240_000);
    const s = await createSession(alice, { template: 'synclounge' });
    await app.stop(); // right after creating: the reconciler may not have created anything yet

    // While no server runs: one session is deleted behind its back, another is created with kubectl.
    const orphanRow = await (async () => {
      const { items } = (await custom.listNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions' })) as { items: { metadata: { name: string; uid: string }; spec: { template: string } }[] };
      return items.find((i) => i.metadata.name === 'ghost-session')!;
    })();
    await custom.deleteNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name: 'ghost-session' });
    const direct = (await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural: 'sessions',
      body: { apiVersion: `${group}/${version}`, kind: 'Session', metadata: { name: 'kubectl-made' }, spec: { user: alice.username, template: 'synclounge', appType: 'webapp' } },
    })) as { metadata: { uid: string } };

    app = await start();
    await waitPhase(alice, s.id, 'Running', 120_000);
    await waitPhase(alice, direct.metadata.uid, 'Running', 120_000);
    await waitUntil(
      async () => !(await app.services.database.dataSource.getRepository(SessionEntity).findOneBy({ id: orphanRow.metadata.uid })),
      'the deleted session to leave the table',
    );
    // The ghost session had a finalizer: with no server running it waited; the new leader finished the deletion.
    expect(await exists(() => custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name: 'ghost-session' }))).to.equal(false);
  });

  it('delete: the Session goes, its children are garbage-collected, the home PVC stays', async function () {
    this.timeout(180_000);
    const del = await gql<{ deleteSession: { id: string } }>(alice, 'mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: first.id });
    expect(del.data!.deleteSession.id).to.equal(first.id);
    await waitUntil(async () => !(await exists(() => custom.getNamespacedCustomObject({ group, version, namespace: ns, plural: 'sessions', name: first.name }))), 'the Session to be gone', 90_000);
    await waitUntil(
      async () =>
        !(await exists(() => apps.readNamespacedDeployment({ name: first.name, namespace: ns }))) &&
        !(await exists(() => core.readNamespacedService({ name: first.name, namespace: ns }))) &&
        !(await exists(() => net.readNamespacedIngress({ name: first.name, namespace: ns }))) &&
        (await sessionPods(first.name)).length === 0,
      'Deployment, Service, Ingress and pods to be gone',
      90_000,
    );
    expect(await exists(() => core.readNamespacedPersistentVolumeClaim({ name: `home-${alice.id}`, namespace: ns }))).to.equal(true);
    await waitUntil(async () => (await gql(alice, `query S($id: ID!) { session(id: $id) { id } }`, { id: first.id })).errors?.[0].extensions?.code === 'NOT_FOUND', 'the row to go');
  });
});
