import { expect } from 'chai';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import type { GatewayConfig } from '../../src/config/config';
import { startGateway, type Gateway } from '../../src/modules/gateway/gateway.module';
import { attachPostgresBridge, createAppPubSub, type PostgresBridge } from '../../src/platform/graphql/pubsub';
import { Api, applyTemplates, subscribe, type Sess } from '../connections/support';
import { openWs, request, startUpstream, until, type OpenWs, type Upstream } from '../gateway/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase } from '../support/postgres';

const DESKTOP_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: group-desktop
spec:
  displayName: Group desktop
  baseImage: ghcr.io/example/desktop:1.0
  appType: desktop
  vnc:
    enabled: true
    port: 6080
    protocol: websocket
  idleTimeout: 1h
`;

type Body = { errors?: { extensions?: Record<string, unknown> }[] };
const code = (body: Body) => body.errors?.[0]?.extensions?.code;
const reason = (body: Body) => (body.errors?.[0]?.extensions?.details as { reason?: string } | undefined)?.reason;

describe('session sharing with groups: members get the role, the strongest entry wins, membership changes end access at once', function () {
  this.timeout(180_000);
  let databaseUrl: string;
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser; // the owner
  let bob: TestUser; // a member of "viewers"
  let carol: TestUser; // a member of "viewers" too
  let dave: TestUser; // in no group
  let A: Api;
  let B: Api;
  let C: Api;
  let D: Api;
  let Admin: Api;
  let upstream: Upstream;
  let gateway: Gateway;
  let port: number;
  let desktop: Sess;
  let viewersId: string;
  let editorsId: string;

  const gatewayConfig = (): GatewayConfig => ({ mode: 'host', port: 0, appsDomain: undefined, appsScheme: 'http', ticketTtlMs: 30_000, recheckIntervalMs: 60_000, activityIntervalMs: 1000 });
  function newGateway(pubSub = app.services.pubSub): Promise<Gateway> {
    return startGateway({
      config: gatewayConfig(),
      host: '127.0.0.1',
      dataSource: app.services.database.dataSource,
      pubSub,
      logger: app.services.logger,
      kubeConfig: null,
      upstreamFor: async () => ({ host: '127.0.0.1', port: upstream.port }),
      platformOrigins: [app.url],
    });
  }

  const createGroup = async (name: string) => (await Admin.ok<{ createGroup: { id: string } }>('mutation C($n: String!) { createGroup(input: { name: $n }) { id } }', { n: name })).createGroup.id;
  const addMember = (groupId: string, username: string) => Admin.raw('mutation A($g: ID!, $u: String!) { addGroupMember(groupId: $g, username: $u) { id } }', { g: groupId, u: username });
  const removeMember = (groupId: string, username: string) => Admin.raw('mutation R($g: ID!, $u: String!) { removeGroupMember(groupId: $g, username: $u) { id } }', { g: groupId, u: username });
  const shareGroup = (api: Api, sessionId: string, group: string, role: string) =>
    api.raw<{ shareSessionWithGroup: { group: string; role: string; memberCount: number; sharedBy: string } }>(
      'mutation S($id: ID!, $g: String!, $r: SessionShareRole!) { shareSessionWithGroup(sessionId: $id, group: $g, role: $r) { group role memberCount sharedBy } }',
      { id: sessionId, g: group, r: role },
    );
  const updateGroupShare = (api: Api, sessionId: string, group: string, role: string) =>
    api.raw('mutation U($id: ID!, $g: String!, $r: SessionShareRole!) { updateSessionGroupShare(sessionId: $id, group: $g, role: $r) { role } }', { id: sessionId, g: group, r: role });
  const unshareGroup = (api: Api, sessionId: string, group: string) =>
    api.raw('mutation X($id: ID!, $g: String!) { unshareSessionWithGroup(sessionId: $id, group: $g) { group role } }', { id: sessionId, g: group });
  const shareUser = (api: Api, sessionId: string, username: string, role: string) =>
    api.raw('mutation S($id: ID!, $u: String!, $r: SessionShareRole!) { shareSession(sessionId: $id, username: $u, role: $r) { role } }', { id: sessionId, u: username, r: role });
  const unshareUser = (api: Api, sessionId: string, username: string) => api.raw('mutation R($id: ID!, $u: String!) { unshareSession(sessionId: $id, username: $u) { role } }', { id: sessionId, u: username });
  const access = async (api: Api, sessionId: string) => {
    const body = await api.raw<{ session: { access: string } }>('query Q($id: ID!) { session(id: $id) { access } }', { id: sessionId });
    return body.errors ? (code(body) as string) : body.data!.session.access;
  };

  /** connectSession, then a ticket of a gateway for it, traded for the cookie. */
  async function enter(api: Api, who: TestUser, session: Sess, gw = gateway) {
    const conn = await api.connect(session.id);
    const url = new URL(await gw.issueTicket({ sessionId: session.id, userId: who.id, connectionId: conn.connectionId }));
    const gwPort = (gw.server.address() as { port: number }).port;
    const res = await request(gwPort, url.host, url.pathname + url.search);
    expect(res.status, res.body).to.equal(303);
    return { conn, cookie: res.headers['set-cookie']![0].split(';')[0], host: url.host, port: gwPort };
  }

  /** Waits for the socket to close (a 5 s cap only so a broken revocation fails instead of hanging); returns how long it took. */
  async function closedAfter(ws: OpenWs, since: number): Promise<number> {
    const closedAt = await Promise.race([ws.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    expect(closedAt, 'the proxied WebSocket was not closed').to.not.equal(-1);
    return closedAt - since;
  }

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    const ns = await createTestNamespace('groupshare');
    databaseUrl = await createTestDatabase('groupshare');
    app = await startTestApp({
      DATABASE_URL: databaseUrl,
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GATEWAY_MODE: 'host',
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      STREAMSPACE_QUOTA_MAX_SESSIONS: '50',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '20',
      STREAMSPACE_QUOTA_CPU: '2000',
      STREAMSPACE_QUOTA_MEMORY: '256Gi',
    });
    admin = await signInAsAdmin(app);
    [alice, bob, carol, dave] = [await createUserAndToken(app), await createUserAndToken(app), await createUserAndToken(app), await createUserAndToken(app)];
    [A, B, C, D, Admin] = [new Api(app, alice), new Api(app, bob), new Api(app, carol), new Api(app, dave), new Api(app, admin)];
    await applyTemplates(app, admin, [DESKTOP_TEMPLATE]);
    upstream = await startUpstream();
    gateway = await newGateway();
    port = (gateway.server.address() as { port: number }).port;
    desktop = await A.createSession({ template: 'group-desktop', idleTimeout: '1h' });
    viewersId = await createGroup('viewers');
    editorsId = await createGroup('editors');
    for (const u of [bob, carol]) expect((await addMember(viewersId, u.username)).errors).to.equal(undefined);
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
    await app?.stop();
  });

  it("shares with a group: each member gets the role (session, connect, heartbeats, \"shared with me\"); a non-member still gets NOT_FOUND", async () => {
    expect(await access(B, desktop.id)).to.equal('NOT_FOUND');
    const unknown = await shareGroup(A, desktop.id, 'no-such-group', 'VIEWER');
    expect([code(unknown), reason(unknown)]).to.deep.equal(['BAD_USER_INPUT', 'UNKNOWN_GROUP']);

    const shared = await shareGroup(A, desktop.id, 'Viewers', 'VIEWER');
    expect(shared.data?.shareSessionWithGroup, JSON.stringify(shared.errors)).to.deep.equal({ group: 'viewers', role: 'VIEWER', memberCount: 2, sharedBy: alice.username });
    expect(code(await shareGroup(A, desktop.id, 'viewers', 'COLLABORATOR'))).to.equal('CONFLICT');

    expect(await access(B, desktop.id)).to.equal('VIEWER');
    expect(await access(C, desktop.id)).to.equal('VIEWER');
    expect(await access(D, desktop.id)).to.equal('NOT_FOUND');
    expect(code(await D.connectRaw(desktop.id))).to.equal('NOT_FOUND');

    const mine = await B.ok<{ sharedWithMe: { role: string; viaGroup: string | null; sharedBy: string; session: { id: string } }[] }>('{ sharedWithMe { role viaGroup sharedBy session { id } } }');
    expect(mine.sharedWithMe).to.deep.equal([{ role: 'VIEWER', viaGroup: 'viewers', sharedBy: alice.username, session: { id: desktop.id } }]);
    expect((await D.ok<{ sharedWithMe: unknown[] }>('{ sharedWithMe { role } }')).sharedWithMe).to.deep.equal([]);
    const conn = await B.connect(desktop.id);
    expect((await B.heartbeat(conn.connectionId)).errors).to.equal(undefined);
    await B.disconnect(conn.connectionId);

    // The owner sees the group entry; a member may not manage the list.
    const list = await A.ok<{ sessionGroupShares: { group: string; role: string; memberCount: number }[] }>('query L($id: ID!) { sessionGroupShares(sessionId: $id) { group role memberCount } }', { id: desktop.id });
    expect(list.sessionGroupShares).to.deep.equal([{ group: 'viewers', role: 'VIEWER', memberCount: 2 }]);
    expect(code(await B.raw('query L($id: ID!) { sessionGroupShares(sessionId: $id) { group } }', { id: desktop.id }))).to.equal('FORBIDDEN');
    expect(code(await shareGroup(B, desktop.id, 'editors', 'VIEWER'))).to.equal('FORBIDDEN');
    expect(code(await shareGroup(D, desktop.id, 'editors', 'VIEWER'))).to.equal('NOT_FOUND');

    const audit = await app.services.database.dataSource.getRepository(AuditLogEntity).findBy({ action: 'session.share.group', resourceId: desktop.id });
    expect(audit).to.have.length(1);
    expect(audit[0]).to.deep.include({ actorUsername: alice.username });
    expect(audit[0].changes).to.deep.include({ group: 'viewers', role: 'VIEWER' });
  });

  it('the strongest entry wins: a group COLLABORATOR over a direct VIEWER and the other way round; the gateway follows', async () => {
    const s = await A.createSession({ template: 'group-desktop', idleTimeout: '1h' });
    expect((await addMember(editorsId, dave.username)).errors).to.equal(undefined);
    expect((await shareUser(A, s.id, dave.username, 'VIEWER')).errors).to.equal(undefined);
    expect(await access(D, s.id)).to.equal('VIEWER');
    expect((await shareGroup(A, s.id, 'editors', 'COLLABORATOR')).errors).to.equal(undefined);
    expect(await access(D, s.id)).to.equal('COLLABORATOR');
    const full = await enter(D, dave, s);
    expect((await request(port, full.host, '/echo', { cookie: full.cookie }, 'POST')).status, 'a collaborator may post').to.equal(200);

    // The group drops to VIEWER: Dave's strongest entry is VIEWER now; his input-carrying socket closes.
    const ws = await openWs(port, full.host, '/websockify?who=dave-full', { cookie: full.cookie });
    await until('greeting', () => ws.messages.length >= 1);
    const since = Date.now();
    expect((await updateGroupShare(A, s.id, 'editors', 'VIEWER')).errors).to.equal(undefined);
    const ms = await closedAfter(ws, since);
    console.log(`      (demotion through the group closed the socket after ${ms} ms)`);
    expect(await access(D, s.id)).to.equal('VIEWER');
    const viewer = await enter(D, dave, s);
    expect((await request(port, viewer.host, '/echo', { cookie: viewer.cookie }, 'POST')).status, 'a viewer may not post').to.equal(403);

    // A direct COLLABORATOR beats the group's VIEWER; removing the direct entry leaves the group's VIEWER (no REMOVED).
    const events = subscribe<{ mySharesChanged: { kind: string; share: { sessionId: string; role: string } } }>(app.wsUrl, dave.accessToken, 'subscription { mySharesChanged { kind share { sessionId role } } }', {});
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect((await unshareUser(A, s.id, dave.username)).errors).to.equal(undefined);
      expect((await shareUser(A, s.id, dave.username, 'COLLABORATOR')).errors).to.equal(undefined);
      expect(await access(D, s.id)).to.equal('COLLABORATOR');
      expect((await unshareUser(A, s.id, dave.username)).errors).to.equal(undefined);
      expect(await access(D, s.id)).to.equal('VIEWER');
      const open = (await app.services.database.dataSource.query('SELECT disconnected_at FROM connections WHERE id = $1', [viewer.conn.connectionId])) as { disconnected_at: Date | null }[];
      expect(open[0].disconnected_at, 'the group still lets him in: his connection stays').to.equal(null);
      await until('two access events', () => events.events.length >= 2);
      await new Promise((r) => setTimeout(r, 200));
      // Removing the first direct VIEWER changed nothing (the group's VIEWER); then VIEWER -> COLLABORATOR -> VIEWER.
      expect(events.events.filter((e) => e.mySharesChanged.share.sessionId === s.id).map((e) => [e.mySharesChanged.kind, e.mySharesChanged.share.role])).to.deep.equal([
        ['UPDATED', 'COLLABORATOR'],
        ['UPDATED', 'VIEWER'],
      ]);
    } finally {
      await events.close();
    }
    await D.disconnect(viewer.conn.connectionId);
  });

  it("removing a member from the group closes that member's gateway sockets on every replica and ends their connection; other members keep theirs", async () => {
    const pubSubB = createAppPubSub();
    const bridge: PostgresBridge = await attachPostgresBridge(pubSubB, { url: databaseUrl, logger: app.services.logger });
    const replica = await newGateway(pubSubB);
    const events = subscribe<{ mySharesChanged: { kind: string; share: { sessionId: string } } }>(app.wsUrl, bob.accessToken, 'subscription { mySharesChanged { kind share { sessionId } } }', {});
    try {
      const here = await enter(B, bob, desktop);
      const there = await enter(B, bob, desktop, replica);
      const carolIn = await enter(C, carol, desktop);
      const wsHere = await openWs(port, here.host, '/websockify?who=bob-here', { cookie: here.cookie });
      const wsThere = await openWs(there.port, there.host, '/websockify?who=bob-there', { cookie: there.cookie });
      const carolWs = await openWs(port, carolIn.host, '/websockify?who=carol', { cookie: carolIn.cookie });
      await until('greetings', () => wsHere.messages.length >= 1 && wsThere.messages.length >= 1 && carolWs.messages.length >= 1);

      const since = Date.now();
      expect((await removeMember(viewersId, bob.username)).errors).to.equal(undefined);
      const msHere = await closedAfter(wsHere, since);
      const msThere = await closedAfter(wsThere, since);
      console.log(`      (removal from the group closed the sockets after ${msHere} ms here, ${msThere} ms on the other replica)`);
      expect(carolWs.ws.readyState, "another member's socket stays open").to.equal(carolWs.ws.OPEN);

      expect(await access(B, desktop.id)).to.equal('NOT_FOUND');
      expect(code(await B.heartbeat(here.conn.connectionId))).to.equal('NOT_FOUND');
      expect(code(await B.connectRaw(desktop.id))).to.equal('NOT_FOUND');
      expect((await request(port, here.host, '/', { cookie: here.cookie })).status).to.be.oneOf([401, 403]);
      const ended = (await app.services.database.dataSource.query('SELECT disconnect_reason FROM connections WHERE id = $1', [here.conn.connectionId])) as { disconnect_reason: string }[];
      expect(ended[0].disconnect_reason).to.equal('unshared');
      await until('Bob is told', () => events.events.some((e) => e.mySharesChanged.kind === 'REMOVED' && e.mySharesChanged.share.sessionId === desktop.id));
      expect((await B.ok<{ sharedWithMe: unknown[] }>('{ sharedWithMe { role } }')).sharedWithMe).to.deep.equal([]);
      expect(await access(C, desktop.id)).to.equal('VIEWER');
      carolWs.ws.close();
      await C.disconnect(carolIn.conn.connectionId);
    } finally {
      await events.close();
      await replica.stop();
      await bridge.stop();
    }
  });

  it('unsharing the group, or deleting it, ends its members\' access at once', async () => {
    // Unshare the group: Carol (still a member) loses access.
    const carolIn = await enter(C, carol, desktop);
    const ws = await openWs(port, carolIn.host, '/websockify?who=carol-2', { cookie: carolIn.cookie });
    await until('greeting', () => ws.messages.length >= 1);
    let since = Date.now();
    expect((await unshareGroup(A, desktop.id, 'viewers')).errors).to.equal(undefined);
    console.log(`      (unsharing the group closed the socket after ${await closedAfter(ws, since)} ms)`);
    expect(await access(C, desktop.id)).to.equal('NOT_FOUND');
    expect(code(await unshareGroup(A, desktop.id, 'viewers'))).to.equal('NOT_FOUND');

    // Share again, then delete the group.
    expect((await shareGroup(A, desktop.id, 'viewers', 'COLLABORATOR')).errors).to.equal(undefined);
    expect(await access(C, desktop.id)).to.equal('COLLABORATOR');
    const again = await enter(C, carol, desktop);
    const ws2 = await openWs(port, again.host, '/websockify?who=carol-3', { cookie: again.cookie });
    await until('greeting', () => ws2.messages.length >= 1);
    since = Date.now();
    expect((await Admin.raw('mutation D($id: ID!) { deleteGroup(id: $id) { name } }', { id: viewersId })).errors).to.equal(undefined);
    console.log(`      (deleting the group closed the socket after ${await closedAfter(ws2, since)} ms)`);
    expect(await access(C, desktop.id)).to.equal('NOT_FOUND');
    expect((await A.ok<{ sessionGroupShares: unknown[] }>('query L($id: ID!) { sessionGroupShares(sessionId: $id) { group } }', { id: desktop.id })).sessionGroupShares).to.deep.equal([]);
    const actions = (await app.services.database.dataSource.getRepository(AuditLogEntity).findBy({ resourceId: desktop.id })).map((a) => a.action);
    expect(actions).to.include.members(['session.share.group', 'session.unshare.group']);
  });
});
