import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findRepoRoot, REAL_NODE_LABEL, type LocalCluster } from '../../src/platform/kube/local-cluster';
import {
  buildPlatformImages,
  helmCommand,
  importIntoRealNode,
  realNodeSessionValues,
  realNodeValuesFile,
  relayApiServerToPods,
  serviceLoopbackRelays,
  type BuiltImage,
} from '../../src/platform/kube/local-cluster/deploy';
import { REAL_NODE_IP } from '../../src/platform/kube/local-cluster/real-node';
import { STREAMSPACE_TEMPLATES_FIXTURE, TestGitRepo } from '../catalog/git-fixture';
import { createTestNamespace, KUBE_START_TIMEOUT_MS, requireRealNode } from '../support/kube';
import { waitUntil } from '../support/wait';
import { makeTestCa, serveGitOverHttps } from './git-https';

const RELEASE = 'streamspace';
const chart = path.join(findRepoRoot(), 'helm', 'streamspace');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const USER = { username: 'rita', password: 'rita-deploy-password' };
/** The desktop's background (scripts/images/files/desktop-start.sh) and two colours the user paints it with. */
const BACKGROUND: Rgb = [0x2e, 0x5d, 0x8a];
const ORANGE: Rgb = [0xcc, 0x66, 0x33];
const GREEN: Rgb = [0x33, 0xaa, 0x55];
type Rgb = [number, number, number];

const near = (actual: Rgb, expected: Rgb) => actual.every((v, i) => Math.abs(v - expected[i]) <= 8);
const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

async function pixel(page: Page, xFraction: number, yFraction: number): Promise<Rgb> {
  return page.evaluate(
    ({ xFraction, yFraction }) => {
      const canvas = document.querySelector('[data-testid="vnc-screen"] canvas') as HTMLCanvasElement | null;
      if (!canvas || canvas.width === 0) return [-1, -1, -1] as [number, number, number];
      const data = canvas.getContext('2d')!.getImageData(Math.floor(canvas.width * xFraction), Math.floor(canvas.height * yFraction), 1, 1).data;
      return [data[0], data[1], data[2]] as [number, number, number];
    },
    { xFraction, yFraction },
  );
}

/** The catalog's desktop: the real desktop image the node has (scripts/images/build.sh). */
function desktopManifest(image: string): string {
  return [
    'apiVersion: stream.streamspace.io/v1alpha1',
    'kind: Template',
    'metadata:',
    '  name: local-desktop',
    'spec:',
    '  displayName: Local Desktop',
    '  description: TigerVNC, twm and xterm, built on this machine.',
    '  category: Desktops',
    `  baseImage: ${image}`,
    '  appType: desktop',
    '  vnc:',
    '    enabled: true',
    '    port: 6080',
    '  volumeMounts:',
    '    - name: user-home',
    '      mountPath: /home/streamspace',
    '  defaultResources:',
    '    requests: { cpu: 100m, memory: 128Mi }',
    '    limits: { memory: 1Gi }',
    '',
  ].join('\n');
}

/**
 * The chart on the local cluster's real node, as an operator runs it: the platform and PostgreSQL images built by
 * `npm run image` and imported into the node's containerd, `helm install` until the platform's readiness probe
 * passes, a sign-in with the bootstrap admin whose password the chart keeps in a Secret. Then a day of use: the
 * admin adds a catalog repository (a real git repository served over HTTPS from the host, whose CA the platform
 * trusts through a mounted bundle) and installs its desktop; a user signs in from Chromium, launches it and sees
 * the real desktop in noVNC through the deployed gateway (reached like a NodePort: a loopback relay to the
 * Service's ClusterIP, which kube-proxy balances). Then day two: an upgrade to a new build while that user is
 * connected (the session keeps its pod, the viewer reconnects by itself, no row is lost, migrations run once),
 * a rollback to the first build, and an uninstall that keeps the database's claim and the generated passwords.
 */
describe('Helm install on the real node (platform image, bundled PostgreSQL)', function () {
  this.timeout(KUBE_START_TIMEOUT_MS);
  // Each step builds on the one before (the installed release, the user's session).
  this.bail(true);
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let ns: string;
  let helm: (...args: string[]) => Promise<string>;
  let stopRelay: (() => Promise<void>) | undefined;
  let tmp: string;
  let first: { streamspace: BuiltImage; postgres: BuiltImage };
  let second: { streamspace: BuiltImage };
  let desktopImage: string;
  let sessionsNs: string;
  let relays: Awaited<ReturnType<typeof serviceLoopbackRelays>>;
  let git: Awaited<ReturnType<typeof serveGitOverHttps>> | undefined;
  let catalogRepo: TestGitRepo | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let sessionId: string;
  let artifacts: string;
  const log = (msg: string) => process.stderr.write(`      [deploy] ${msg}\n`);
  const portalOrigin = () => `http://localhost:${relays.portal.port}`;
  const screenshot = async (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

  before(async () => {
    const real = await requireRealNode();
    cluster = real.cluster;
    desktopImage = real.images.desktop;
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    helm = await helmCommand();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'streamspace-deploy-'));
    const built = await buildPlatformImages();
    first = built;
    log(`images: ${built.streamspace.ref} ${(built.streamspace.bytes / 1e6).toFixed(0)} MB, ${built.postgres.ref} ${(built.postgres.bytes / 1e6).toFixed(0)} MB (${built.seconds.toFixed(1)} s)`);
    // The same code recorded under another commit: a distinct image for the upgrade.
    second = await buildPlatformImages({ commit: 'upgrade-test' });
    const started = Date.now();
    const images = [built.streamspace, built.postgres, second.streamspace];
    await importIntoRealNode(cluster, images);
    log(`imported into the node's containerd in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    stopRelay = await relayApiServerToPods(cluster);
    ns = await createTestNamespace('deploy');
    sessionsNs = `${ns}-sessions`;
    artifacts = path.join(findRepoRoot(), 'e2e', 'artifacts', 'real-node-platform-deploy');
    await mkdir(artifacts, { recursive: true });

    // The browser's way in: the portal and the gateway port of the platform's Service, on loopback (a NodePort's
    // job on a real cluster). *.apps.localhost resolves to loopback in Chromium.
    relays = await serviceLoopbackRelays();

    // The catalog: the real public catalog plus a desktop of the node's image, in a git repository served over
    // HTTPS on the node's bridge address (where pods reach the host), with a certificate of a throw-away CA.
    catalogRepo = new TestGitRepo('deploy-catalog');
    catalogRepo.copyFrom(STREAMSPACE_TEMPLATES_FIXTURE).write('desktops/local-desktop.yaml', desktopManifest(desktopImage)).commit('catalog');
    const gitRoot = path.join(tmp, 'git');
    await mkdir(gitRoot);
    execFileSync('git', ['clone', '--quiet', '--bare', catalogRepo.dir, path.join(gitRoot, 'catalog.git')], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
    const ca = await makeTestCa(tmp, REAL_NODE_IP);
    git = await serveGitOverHttps(gitRoot, REAL_NODE_IP, ca);
    // The platform trusts the system's CAs plus this one: a bundle mounted over the image's (extraVolumes).
    const system = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8').catch(() => '');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'ca-bundle' }, data: { 'ca-certificates.crt': `${system}\n${ca.caPem}` } } });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await git?.stop();
    catalogRepo?.cleanup();
    await relays?.stop();
    if (sessionsNs) await core.deleteNamespace({ name: sessionsNs }).catch(() => undefined);
    if (ns) {
      await helm('uninstall', RELEASE, '--namespace', ns, '--kubeconfig', cluster.kubeconfigPath, '--wait').catch(() => undefined);
      await core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    await stopRelay?.();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const valuesFile = (image: BuiltImage) =>
    realNodeValuesFile(path.join(tmp, `values-${image.ref.split(':').pop()}.yaml`), image, first.postgres, {
      ...realNodeSessionValues({ portalPort: relays.portal.port, gatewayPort: relays.gateway.port, sessionsNamespace: sessionsNs }),
      extraVolumes: [{ name: 'ca-bundle', configMap: { name: 'ca-bundle' } }],
      extraVolumeMounts: [{ name: 'ca-bundle', mountPath: '/etc/ssl/certs/ca-certificates.crt', subPath: 'ca-certificates.crt', readOnly: true }],
    });

  const helmIn = (...args: string[]) => helm(...args, '--namespace', ns, '--kubeconfig', cluster.kubeconfigPath);

  async function serverPods(): Promise<V1Pod[]> {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=server' });
    return list.items.filter((p) => !p.metadata?.deletionTimestamp);
  }

  /** A Ready platform pod's address from the host (the node's bridge routes the pod network). */
  async function platformUrl(): Promise<string> {
    const pods = await serverPods();
    const ready = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready, 'a Ready platform pod').to.not.equal(undefined);
    return `http://${ready!.status!.podIP}:8080`;
  }

  async function signIn(base: string, username: string, password: string): Promise<string> {
    const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    expect(res.status, `sign-in as ${username}: ${await res.clone().text()}`).to.equal(200);
    return ((await res.json()) as { accessToken: string }).accessToken;
  }

  async function gql<T>(base: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
    return body.data!;
  }

  async function adminPassword(): Promise<string> {
    const secret = await core.readNamespacedSecret({ name: `${RELEASE}-generated`, namespace: ns });
    return Buffer.from(secret.data!.STREAMSPACE_ADMIN_PASSWORD, 'base64').toString();
  }

  async function runningCommit(): Promise<string> {
    const base = await platformUrl();
    const token = await signIn(base, 'admin', await adminPassword());
    return (await gql<{ version: { commit: string } }>(base, token, '{ version { version commit buildDate } }')).version.commit;
  }

  /** Every platform pod runs `ref` and is Ready (helm --wait returns once the Deployment is available). */
  async function allServersRun(ref: string) {
    await waitUntil(async () => {
      const pods = await serverPods();
      return pods.length === 2 && pods.every((p) => p.spec?.containers[0].image === ref && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, `two Ready platform pods running ${ref}`, 5 * 60_000);
  }

  /** The replaced platform pods have stopped (their preStop pause and drain are over): no socket drops after this. */
  async function oldServersGone() {
    await waitUntil(async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=server' })).items.length === 2, 'the replaced platform pods gone', 120_000);
  }

  it('installs: the platform (two replicas) and its PostgreSQL become Ready through their probes', async () => {
    const started = Date.now();
    await helmIn('install', RELEASE, chart, '-f', await valuesFile(first.streamspace), '--wait', '--timeout', '8m');
    await allServersRun(first.streamspace.ref);
    log(`helm install to Ready: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    relays.setService((await core.readNamespacedService({ name: RELEASE, namespace: ns })).spec!.clusterIP!);
    // Migrations ran once: one replica applied them, the other waited for the lock and found the schema current;
    // neither crashed racing the other.
    const pods = await serverPods();
    for (const pod of pods) expect(pod.status?.containerStatuses?.[0].restartCount, pod.metadata!.name).to.equal(0);
    const logs = await Promise.all(pods.map((p) => core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns })));
    expect(logs.filter((l) => l.includes('"msg":"migrations applied"')).length, 'pods that applied the migrations').to.equal(1);
    expect(logs.filter((l) => l.includes('"msg":"database schema is up to date"')).length).to.equal(1);
    const db = await cluster.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: `${RELEASE}-postgresql`, namespace: ns });
    expect(db.status?.readyReplicas).to.equal(1);
  });

  it("signs in with the bootstrap admin from the chart's Secret; Query.version names the image's commit", async () => {
    const commit = await runningCommit();
    expect(commit).to.not.equal('unknown');
    expect(first.streamspace.ref).to.match(/streamspace:0\.1\.0-/);
  });

  it('adds a catalog repository served over HTTPS from the host, syncs it in the pod and installs its desktop', async () => {
    const base = await platformUrl();
    const token = await signIn(base, 'admin', await adminPassword());
    const added = await gql<{ addRepository: { id: string } }>(base, token, 'mutation ($input: AddRepositoryInput!) { addRepository(input: $input) { id } }', {
      input: { name: 'catalog', url: `${git!.base}/catalog.git`, branch: 'main', autoSync: false, public: true },
    });
    const synced = await gql<{ syncRepository: { status: string; templateCount: number; syncError: string | null; lastCommit: string } }>(
      base,
      token,
      'mutation ($id: ID!) { syncRepository(id: $id) { status templateCount syncError lastCommit } }',
      { id: added.addRepository.id },
    );
    expect(synced.syncRepository.syncError).to.equal(null);
    expect(synced.syncRepository.status).to.equal('READY');
    expect(synced.syncRepository.lastCommit).to.equal(catalogRepo!.git('rev-parse', 'HEAD').trim());
    // The real catalog's 195 manifests (a few share a name) and the desktop: fetched by git in the pod over HTTPS.
    expect(synced.syncRepository.templateCount).to.be.greaterThan(150);
    expect(git!.requests.some((r) => r.startsWith('POST /catalog.git/git-upload-pack')), git!.requests.join(', ')).to.equal(true);
    const installed = await gql<{ installCatalogTemplate: { created: boolean } }>(base, token, 'mutation { installCatalogTemplate(name: "local-desktop", repository: "catalog") { created } }');
    expect(installed.installCatalogTemplate.created).to.equal(true);
    await gql(base, token, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: USER });
  });

  it('the admin signs in to the console and a user signs in to the portal from Chromium; the user launches the desktop and sees it in noVNC through the deployed gateway', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'] });
    // The operator's first step: the bootstrap admin, with the password from the chart's Secret, signs in to the
    // admin console in the browser (its own context; the user's below starts signed out).
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const adminPage = await adminContext.newPage();
    await adminPage.goto(`${portalOrigin()}/admin/`);
    await adminPage.waitForURL(/\/admin\/login/);
    await usernameFocused(adminPage);
    await adminPage.getByRole('textbox', { name: 'Username', exact: true }).fill('admin');
    await adminPage.locator('input[name="password"]').fill(await adminPassword());
    await adminPage.locator('input[name="password"]').press('Enter');
    await adminPage.waitForURL(new RegExp(`^${portalOrigin()}/admin/$`));
    const signedIn = adminPage.getByTestId('signed-in-user');
    await signedIn.waitFor({ state: 'visible', timeout: 60_000 });
    expect((await signedIn.innerText()).trim()).to.equal('admin');
    await adminPage.screenshot({ path: path.join(artifacts, '00-admin-console-signed-in.png') });
    await adminContext.close();

    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${portalOrigin()}/`);
    await page.waitForURL(/\/login/);
    await usernameFocused(page);
    await page.getByRole('textbox', { name: 'Username', exact: true }).fill(USER.username);
    await page.locator('input[name="password"]').fill(USER.password);
    await page.locator('input[name="password"]').press('Enter');
    const card = page.getByRole('article', { name: 'Local Desktop', exact: true });
    await card.waitFor({ state: 'visible', timeout: 60_000 });
    const started = Date.now();
    await card.getByRole('button', { name: 'Launch Local Desktop' }).click();
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
    sessionId = /\/sessions\/([0-9a-f-]{36})/.exec(page.url())![1];
    await page.getByTestId('vnc-screen').locator('canvas').waitFor({ state: 'attached', timeout: 180_000 });
    const status = page.getByTestId('connection-status');
    await waitUntil(async () => (await status.innerText()).trim() === 'Connected', 'the status chip to say Connected', 120_000);
    await waitUntil(async () => near(await pixel(page, 0.9, 0.9), BACKGROUND), 'the desktop background in the viewer', 60_000);
    log(`launch to the desktop on screen: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The xterm (top left) differs from the background: a real X client drew it.
    expect(near(await pixel(page, 0.15, 0.2), BACKGROUND)).to.equal(false);
    // The socket went through the gateway on the session's own host of the apps domain.
    const pod = await sessionPod();
    expect(pod.spec!.nodeSelector).to.deep.equal({ [REAL_NODE_LABEL]: 'true' });
    expect(relays.gateway.connections, 'connections through the gateway relay').to.be.greaterThan(0);
    await paint(ORANGE);
    await screenshot('01-desktop-through-the-gateway');
  });

  async function sessionPod(): Promise<V1Pod> {
    const pods = (await core.listNamespacedPod({ namespace: sessionsNs })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods.length, 'session pods').to.equal(1);
    return pods[0];
  }

  /** Types a command into the xterm (twm focuses the window under the pointer) and waits for its repaint. */
  async function paint(colour: Rgb) {
    const box = (await page.getByTestId('vnc-screen').locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * 0.2);
    await page.mouse.click(box.x + box.width * 0.15, box.y + box.height * 0.2);
    await page.keyboard.type(`xsetroot -solid '${hex(colour)}'`, { delay: 20 });
    await page.keyboard.press('Enter');
    await waitUntil(async () => near(await pixel(page, 0.9, 0.9), colour), `the repainted background (${hex(colour)})`, 30_000);
  }

  async function rows(base: string, token: string) {
    const res = await gql<{ session: Record<string, unknown>; sessionConnections: { id: string; connectedAt: string; disconnectedAt: string | null; disconnectReason: string | null; user: string }[] }>(
      base,
      token,
      'query ($id: ID!) { session(id: $id) { id name user templateName state phase podName createdAt } sessionConnections(sessionId: $id, includeEnded: true) { id connectedAt disconnectedAt disconnectReason user } }',
      { id: sessionId },
    );
    return res;
  }

  it('upgrades to a new build while the user is connected: the session keeps its pod, the viewer reconnects by itself, no row is lost', async () => {
    const base = await platformUrl();
    const token = await signIn(base, 'admin', await adminPassword());
    await gql(base, token, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', {
      input: { username: 'dayone', password: 'day-one-password' },
    });
    const before = await rows(base, token);
    const podBefore = await sessionPod();
    const oldServers = new Set((await serverPods()).map((p) => p.metadata!.uid));
    // What the user sees, sampled in the page every 50 ms: the status chip's text and the viewer's sockets.
    await page.evaluate(() => {
      const w = window as unknown as { statusLog: [number, string][] };
      w.statusLog = [];
      setInterval(() => {
        const text = document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() ?? '';
        if (w.statusLog.at(-1)?.[1] !== text) w.statusLog.push([Date.now(), text]);
      }, 50);
    });
    // Sockets the page opens from now on (the one open before is not reported to this listener).
    const sockets: string[] = [];
    page.on('websocket', (ws) => {
      if (ws.url().includes('.apps.localhost')) sockets.push(ws.url());
    });

    const started = Date.now();
    await helmIn('upgrade', RELEASE, chart, '-f', await valuesFile(second.streamspace), '--wait', '--timeout', '8m');
    await allServersRun(second.streamspace.ref);
    log(`helm upgrade to Ready (while connected): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect((await serverPods()).every((p) => !oldServers.has(p.metadata!.uid)), 'both platform pods replaced').to.equal(true);
    await oldServersGone();

    // The viewer is back by itself (nobody clicked Reconnect) on the same X server: the colour painted before the
    // upgrade is still there, and input reaches it through the new gateway pods.
    const status = page.getByTestId('connection-status');
    await waitUntil(async () => (await status.innerText()).trim() === 'Connected', 'the status chip to say Connected again', 120_000);
    await waitUntil(async () => near(await pixel(page, 0.9, 0.9), ORANGE), 'the desktop as the user left it', 60_000);
    await paint(GREEN);
    await screenshot('02-after-upgrade-reconnected');
    const statusLog = await page.evaluate(() => (window as unknown as { statusLog: [number, string][] }).statusLog);
    const gaps: number[] = [];
    let down: number | undefined;
    for (const [at, text] of statusLog) {
      if (text !== 'Connected' && down === undefined) down = at;
      if (text === 'Connected' && down !== undefined) {
        gaps.push(at - down);
        down = undefined;
      }
    }
    log(`upgrade seen by the connected user: ${gaps.length} interruption(s) of ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(', ') || 'none'}; viewer sockets opened during the upgrade ${sockets.length}; chip: ${statusLog.map(([at, t]) => `${((at - started) / 1000).toFixed(1)}s ${t}`).join(' > ')}`);
    // Both old gateway pods went away: the viewer's socket (opened before the upgrade) ended, the chip said so, and
    // the page opened a new one by itself.
    expect(gaps.length, 'interruptions the chip showed').to.be.greaterThan(0);
    expect(statusLog.map(([, t]) => t), 'what the chip showed').to.include('Reconnecting');
    expect(sockets.length, 'viewer sockets opened again').to.be.greaterThan(0);

    // The session kept running in the same pod; every row from before is still there, unchanged where it ended.
    const podAfter = await sessionPod();
    expect(podAfter.metadata!.uid).to.equal(podBefore.metadata!.uid);
    expect(podAfter.status!.containerStatuses![0].restartCount).to.equal(podBefore.status!.containerStatuses![0].restartCount);
    const after = await rows(await platformUrl(), await signIn(await platformUrl(), 'admin', await adminPassword()));
    expect(after.session).to.deep.equal(before.session);
    const afterById = new Map(after.sessionConnections.map((c) => [c.id, c]));
    for (const c of before.sessionConnections) {
      expect(afterById.get(c.id)?.connectedAt, `connection ${c.id}`).to.equal(c.connectedAt);
      if (c.disconnectedAt) expect(afterById.get(c.id)).to.deep.equal(c);
    }
    expect(after.sessionConnections.filter((c) => c.disconnectedAt === null).length, 'open connections of the session').to.be.greaterThan(0);
    log(`connection rows: ${before.sessionConnections.length} before, ${after.sessionConnections.length} after (${after.sessionConnections.map((c) => c.disconnectReason ?? 'open').join(', ')})`);

    // Migrations ran once: the new build brings none, each new replica found the schema current, neither crashed.
    const pods = await serverPods();
    const logs = await Promise.all(pods.map((p) => core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns })));
    expect(logs.filter((l) => l.includes('"msg":"migrations applied"')).length, 'pods that applied migrations').to.equal(0);
    expect(logs.filter((l) => l.includes('"msg":"database schema is up to date"')).length).to.equal(2);
    for (const pod of pods) expect(pod.status?.containerStatuses?.[0].restartCount, pod.metadata!.name).to.equal(0);

    expect(await runningCommit()).to.match(/^upgrade-/);
    await signIn(await platformUrl(), 'dayone', 'day-one-password');
  });

  it('rolls back to the first build; the session still runs in its pod and the viewer is connected again', async () => {
    const podBefore = await sessionPod();
    await helmIn('rollback', RELEASE, '1', '--wait', '--timeout', '8m');
    await allServersRun(first.streamspace.ref);
    await oldServersGone();
    expect(await runningCommit()).to.not.match(/^upgrade-/);
    await signIn(await platformUrl(), 'dayone', 'day-one-password');
    expect((await sessionPod()).metadata!.uid).to.equal(podBefore.metadata!.uid);
    const status = page.getByTestId('connection-status');
    await waitUntil(async () => (await status.innerText()).trim() === 'Connected', 'the status chip to say Connected after the rollback', 120_000);
    await waitUntil(async () => near(await pixel(page, 0.9, 0.9), GREEN), 'the desktop as the user left it', 60_000);
  });

  it("uninstalls the platform but keeps the database's claim and the generated passwords", async () => {
    // The user ends the session first (nothing of it keeps running once the platform is gone).
    await browser?.close();
    browser = undefined;
    const base = await platformUrl();
    await gql(base, await signIn(base, USER.username, USER.password), 'mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: sessionId });
    await waitUntil(async () => (await core.listNamespacedPod({ namespace: sessionsNs })).items.length === 0, 'the session pod gone', 120_000);
    await helmIn('uninstall', RELEASE, '--wait');
    await waitUntil(async () => (await serverPods()).length === 0, 'the platform pods gone');
    const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => c.metadata!.name);
    expect(claims).to.include(`${RELEASE}-postgresql`);
    await core.readNamespacedSecret({ name: `${RELEASE}-generated`, namespace: ns });
  });
});

/**
 * The sign-in form focuses its username field itself, after its first paint; Playwright's fill() focuses and then types
 * in a second step, so a late autofocus would move the password into the username field. Type once it has happened.
 */
async function usernameFocused(p: Page): Promise<void> {
  await p.waitForFunction(() => {
    const active = document.activeElement;
    return active instanceof HTMLInputElement && active.name === 'username';
  });
}
