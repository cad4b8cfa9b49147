import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { PORTS_ANNOTATION } from '../../src/modules/sessions/session-manifests';
import type { GatewayConfig } from '../../src/config/config';
import { startGateway, type Gateway } from '../../src/modules/gateway/gateway.module';
import type { UpstreamPort } from '../../src/modules/gateway/gateway.proxy';
import { Api, applyTemplates, type Sess } from '../connections/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase } from '../support/postgres';
import { APP_BODY, APP_GREETING, openWs, refusedUpgrade, request, startUpstream, until, type Upstream } from './support';

const HYBRID_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: gw-hybrid
spec:
  displayName: Gateway hybrid
  baseImage: ghcr.io/example/hybrid:1.0
  appType: hybrid
  webapp:
    port: 8080
  vnc:
    enabled: true
    port: 6901
    protocol: websocket
  idleTimeout: 1h
`;
const WEB_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: gw-web-only
spec:
  displayName: Gateway web only
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  idleTimeout: 1h
`;

/**
 * A hybrid session (a web app and a VNC desktop in one pod): the portal switches between its web view and its desktop.
 * The gateway sends `/.streamspace/vnc/...` to the Service's vnc port (without the prefix) and everything else to the
 * app; other sessions have no such path. Two loopback servers stand in for the two ports.
 */
describe('session gateway: a hybrid session reaches its web app and its VNC desktop', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let A: Api;
  let web: Upstream;
  let vnc: Upstream;
  let gateway: Gateway;
  let port: number;
  let hybrid: Sess;
  let webOnly: Sess;
  const asked: UpstreamPort[] = [];

  const gatewayConfig = (): GatewayConfig => ({ mode: 'host', port: 0, appsDomain: undefined, appsScheme: 'http', ticketTtlMs: 30_000, recheckIntervalMs: 60_000, activityIntervalMs: 100 });

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('gateway-hybrid');
    app = await startTestApp({
      DATABASE_URL: await createTestDatabase('gateway_hybrid'),
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
    alice = await createUserAndToken(app);
    bob = await createUserAndToken(app);
    A = new Api(app, alice);
    await applyTemplates(app, admin, [HYBRID_TEMPLATE, WEB_TEMPLATE]);
    [web, vnc] = await Promise.all([startUpstream(), startUpstream()]);
    gateway = await startGateway({
      config: gatewayConfig(),
      host: '127.0.0.1',
      dataSource: app.services.database.dataSource,
      pubSub: app.services.pubSub,
      logger: app.services.logger,
      kubeConfig: kc,
      heartbeat: (id, userId) => app.services.connections.heartbeats.beat(id, userId),
      // In production the Service's first port and its port named vnc; here two loopback servers.
      upstreamFor: async (_grant, which = 'app') => {
        asked.push(which);
        return { host: '127.0.0.1', port: which === 'vnc' ? vnc.port : web.port };
      },
      platformOrigins: [app.url],
      portalUrl: app.url,
    });
    port = (gateway.server.address() as { port: number }).port;
    hybrid = await A.createSession({ template: 'gw-hybrid', idleTimeout: '1h' });
    webOnly = await A.createSession({ template: 'gw-web-only', idleTimeout: '1h' });
  });
  after(async () => {
    await gateway?.stop();
    await web?.close();
    await vnc?.close();
    await app?.stop();
  });

  async function ticketUrl(session: Sess): Promise<URL> {
    const conn = await A.connect(session.id);
    return new URL(await gateway.issueTicket({ sessionId: session.id, userId: alice.id, connectionId: conn.connectionId }));
  }

  it('the session is hybrid and its Deployment names the app port and a vnc port for the gateway (no Service)', async () => {
    const read = await A.ok<{ session: { appType: string } }>('query S($id: ID!) { session(id: $id) { appType } }', { id: hybrid.id });
    expect(read.session.appType).to.equal('hybrid');
    const apps = kc.makeApiClient(AppsV1Api);
    await until('the Deployment', async () => (await apps.readNamespacedDeployment({ name: hybrid.name, namespace: ns }).catch(() => null)) !== null, 60_000);
    const deployment = await apps.readNamespacedDeployment({ name: hybrid.name, namespace: ns });
    expect(JSON.parse(deployment.metadata!.annotations![PORTS_ANNOTATION])).to.deep.equal({ app: 8080, vnc: 6901 });
    const services = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: ns });
    expect(services.items.map((s) => s.metadata!.name)).to.not.include(hybrid.name);
  });

  it("the desktop's WebSocket with the ticket reaches the vnc port without the prefix; the web view still reaches the app", async () => {
    const url = await ticketUrl(hybrid);
    const ticket = url.searchParams.get('ticket')!;
    const ws = await openWs(port, url.host, `/.streamspace/vnc/websockify?ticket=${encodeURIComponent(ticket)}`, { origin: app.url });
    await until('the greeting', () => ws.messages.length >= 1);
    expect(ws.messages[0]).to.equal(APP_GREETING);
    expect(vnc.seen.filter((s) => s.method === 'WS').map((s) => s.url)).to.deep.equal(['/websockify']);
    expect(web.seen.filter((s) => s.method === 'WS')).to.deep.equal([]);
    expect(asked.at(-1)).to.equal('vnc');
    ws.ws.close();
    await ws.closed;

    // The web view: a fresh ticket traded for the cookie, then the app itself.
    const webUrl = await ticketUrl(hybrid);
    const entered = await request(port, webUrl.host, webUrl.pathname + webUrl.search);
    expect(entered.status).to.equal(303);
    const cookie = entered.headers['set-cookie']![0].split(';')[0];
    const page = await request(port, webUrl.host, '/', { cookie });
    expect(page.body).to.equal(APP_BODY);
    expect(web.seen.at(-1)!.url).to.equal('/');
    expect(asked.at(-1)).to.equal('app');
  });

  it('a session that is not hybrid has no VNC path (404), and nothing reaches either port', async () => {
    const url = await ticketUrl(webOnly);
    const before = { web: web.seen.length, vnc: vnc.seen.length };
    const refused = await refusedUpgrade(port, url.host, `/.streamspace/vnc/websockify?ticket=${encodeURIComponent(url.searchParams.get('ticket')!)}`, { origin: app.url });
    expect(refused.status).to.equal(404);
    expect({ web: web.seen.length, vnc: vnc.seen.length }).to.deep.equal(before);
  });

  it('without a ticket or cookie the desktop path is refused (401) and nothing reaches the vnc port', async () => {
    const url = await ticketUrl(hybrid);
    const before = vnc.seen.length;
    const refused = await refusedUpgrade(port, url.host, '/.streamspace/vnc/websockify', { origin: app.url });
    expect(refused.status).to.equal(401);
    expect(vnc.seen.length).to.equal(before);
  });

  it("a viewer's desktop stream passes the RFB view-only filter (text is not RFB: closed, nothing reaches the desktop); on the web app it is only dropped", async () => {
    await A.ok('mutation S($id: ID!, $u: String!) { shareSession(sessionId: $id, username: $u, role: VIEWER) { role } }', { id: hybrid.id, u: bob.username });
    const B = new Api(app, bob);
    const ticketFor = async (): Promise<URL> => {
      const conn = await B.connect(hybrid.id);
      return new URL(await gateway.issueTicket({ sessionId: hybrid.id, userId: bob.id, connectionId: conn.connectionId }));
    };
    const before = { web: web.received.length, vnc: vnc.received.length };

    const desktopUrl = await ticketFor();
    const desktop = await openWs(port, desktopUrl.host, `/.streamspace/vnc/websockify?ticket=${encodeURIComponent(desktopUrl.searchParams.get('ticket')!)}`, { origin: app.url });
    await until('the desktop greeting', () => desktop.messages.length >= 1);
    desktop.ws.send('type this');
    await desktop.closed;
    expect(desktop.ws.readyState).to.equal(desktop.ws.CLOSED);

    const webUrl = await ticketFor();
    const webApp = await openWs(port, webUrl.host, `/socket?ticket=${encodeURIComponent(webUrl.searchParams.get('ticket')!)}`, { origin: app.url });
    await until('the web app greeting', () => webApp.messages.length >= 1);
    webApp.ws.send('type this');
    // Still open after a round trip the app would have answered (its echo never comes: the message was dropped).
    await new Promise<void>((resolve) => webApp.ws.ping(undefined, undefined, () => resolve()));
    expect(webApp.ws.readyState).to.equal(webApp.ws.OPEN);
    webApp.ws.close();
    await webApp.closed;
    expect({ web: web.received.length, vnc: vnc.received.length }).to.deep.equal(before);
  });
});
