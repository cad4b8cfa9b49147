import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec, NetworkingV1Api, type V1NetworkPolicy, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { expect } from 'chai';
import { NETPOL_IPTABLES_CHAIN, NETPOL_TABLE, REAL_NODE_IP, REAL_NODE_PLACEMENT, SERVICE_CIDR } from '../../src/platform/kube/local-cluster';
import { LABEL_GATEWAY, LABEL_SESSION } from '../../src/modules/sessions/session-manifests';
import type { TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin } from '../support/auth';
import { KUBE_START_TIMEOUT_MS, requireRealNode } from '../support/kube';
import { waitUntil } from '../support/wait';
import { Api, applyTemplates } from '../connections/support';
import { request } from '../gateway/support';
import { startRealNodeApp } from './support';

/** The web app image's port (busybox httpd; scripts/images/files/webapp-start.sh). */
const APP_PORT = 8080;
/** Pod and Service ranges of the local cluster (real-node.ts, local-cluster.ts). */
const POD_CIDR = '10.245.0.0/24';
/**
 * A stand-in for an API server on another machine (as on any cluster whose control plane is not on the pod's node)
 * and an address of "the internet": two addresses of a network namespace made by this test, reached from pods
 * through the host's forwarding path, where the enforcer sees them. The real API server and database of the local
 * cluster listen on 127.0.0.1 only: no pod reaches them at all (checked below).
 */
const API_STANDIN = '10.246.0.2';
const OUTSIDE = '10.246.0.3';
const STANDIN_PORT = 6443;

interface Probe {
  ok: boolean;
  output: string;
}

/**
 * NetworkPolicy enforced on the local cluster's real node by its agent (kube-network-policies: nftables + NFQUEUE),
 * with real pods: the per-session policy the reconciler writes (only the gateway reaches a session's port), and an
 * egress policy like the chart's (no pods, Services, API server or metadata address; everything else allowed).
 */
describe('NetworkPolicy on the real node: sessions are isolated from each other and from the control plane', function () {
  let app: TestApp;
  let ns: string;
  let core: Awaited<ReturnType<typeof startRealNodeApp>>['core'];
  let net: NetworkingV1Api;
  let exec: Exec;
  let image: string;
  let A: Api;
  let netns: string | undefined;
  const standins: ChildProcess[] = [];
  let wwwDir: string | undefined;
  let apiServer: string;
  let queueing: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const real = await requireRealNode();
    if (!real.networkPolicy.enforced) throw new Error(`NetworkPolicy is not enforced on the real node: ${real.networkPolicy.reason}`);
    queueing = real.networkPolicy.queueing;
    const started = await startRealNodeApp('realnetpol');
    ({ app, ns, core } = started);
    net = real.cluster.kubeConfig.makeApiClient(NetworkingV1Api);
    exec = new Exec(real.cluster.kubeConfig);
    image = real.images.webapp;
    apiServer = real.cluster.server;
    const admin = await signInAsAdmin(app);
    A = new Api(app, await createUserAndToken(app, 'user'));
    await applyTemplates(app, admin, [
      `
apiVersion: stream.space/v1alpha1
kind: Template
metadata: { name: real-web }
spec:
  displayName: real-web
  baseImage: ${image}
  appType: webapp
  webapp:
    port: ${APP_PORT}
    healthCheck: { path: /healthz, initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 1 }
`,
    ]);
  });

  after(async () => {
    for (const p of standins) p.kill('SIGKILL');
    if (netns) {
      spawnSync('ip', ['netns', 'del', netns]);
      spawnSync('ip', ['link', 'del', `${netns}-h`]);
    }
    if (wwwDir) rmSync(wwwDir, { recursive: true, force: true });
    await app?.stop();
  });

  /** A plain pod of the web app image on the real node, Running with an address. */
  async function plainPod(name: string, labels: Record<string, string>): Promise<V1Pod> {
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name, labels }, spec: { ...REAL_NODE_PLACEMENT, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent' }] } },
    });
    let pod: V1Pod | undefined;
    await waitUntil(async () => {
      pod = await core.readNamespacedPod({ name, namespace: ns });
      return pod.status?.phase === 'Running' && !!pod.status.podIP;
    }, `pod ${name} to run`, 90_000);
    return pod!;
  }

  /**
   * An HTTP GET of /healthz sent with `nc` from a pod, with a 3 s connect timeout (busybox-static's wget crashes on
   * these machines; nc does not). ok when an HTTP 200 came back; output says "timed out" for dropped packets.
   */
  async function probeFrom(pod: string, ip: string, port: number): Promise<Probe> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let output = '';
    stdout.on('data', (b: Buffer) => (output += b.toString()));
    stderr.on('data', (b: Buffer) => (output += b.toString()));
    const script = `printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | timeout 8 nc -w 3 ${ip} ${port}`;
    const status = await new Promise<V1Status>((resolve, reject) => {
      exec.exec(ns, pod, 'app', ['sh', '-c', script], stdout, stderr, null, false, resolve).catch(reject);
    });
    output = output.trim();
    return { ok: status.status === 'Success' && /^HTTP\/1\.\d 200 /.test(output), output: output || (status.message ?? '') };
  }

  function expectReached(p: Probe, what: string) {
    expect(p.ok, `${what}: expected the connection to succeed, got: ${JSON.stringify(p.output)}`).to.equal(true);
  }

  /** Dropped by the enforcer: no answer at all (a refused connection would be some other layer saying no). */
  function expectDropped(p: Probe, what: string) {
    expect(p.ok, `${what}: expected NetworkPolicy to drop the connection, but it got an answer: ${JSON.stringify(p.output)}`).to.equal(false);
    expect(p.output, `${what}: expected a connect timeout (packets dropped), got: ${JSON.stringify(p.output)}`).to.match(/timed out/);
  }

  /** The same GET from a host process, as root or as an unprivileged user (setpriv). */
  function hostFetch(ip: string, port: number, asUser?: number): Probe {
    const nc = ['busybox', 'timeout', '8', 'busybox', 'nc', '-w', '3', ip, String(port)];
    const cmd = asUser === undefined ? nc : ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', '--', ...nc];
    const res = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 15_000, input: 'GET /healthz HTTP/1.0\r\n\r\n' });
    const output = `${res.stdout}${res.stderr}`.trim();
    return { ok: res.status === 0 && /^HTTP\/1\.\d 200 /.test(output), output };
  }

  it("a session's pod admits only the gateway: another session's pod cannot connect to it, the gateway can", async function () {
    this.timeout(300_000);
    const [sa, sb] = [await A.createSession({ template: 'real-web' }), await A.createSession({ template: 'real-web' })];
    const [runningA, runningB] = [await A.waitPhase(sa.id, 'Running', 120_000), await A.waitPhase(sb.id, 'Running', 120_000)];
    const podA = await core.readNamespacedPod({ name: runningA.podName!, namespace: ns });
    const ipA = podA.status!.podIP!;

    // The reconciler's policy for A: only pods labelled as the gateway, in the gateway's namespace, on the app's port.
    const policy: V1NetworkPolicy = await net.readNamespacedNetworkPolicy({ name: sa.name, namespace: ns });
    expect(policy.spec!.podSelector?.matchLabels).to.deep.equal({ [LABEL_SESSION]: sa.name });
    expect(policy.spec!.ingress).to.deep.equal([
      {
        _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: { [LABEL_GATEWAY]: 'true' } } }],
        ports: [{ protocol: 'TCP', port: APP_PORT }],
      },
    ]);

    // A pod that no policy selects: B reaches it, so the network and the probe work and a failure below is the policy.
    const open = await plainPod('unprotected', {});
    expectReached(await probeFrom(runningB.podName!, open.status!.podIP!, APP_PORT), "session B's pod -> a pod no policy selects");

    expectDropped(await probeFrom(runningB.podName!, ipA, APP_PORT), "session B's pod -> session A's app port");
    const sessionLike = await plainPod('session-like', { [LABEL_SESSION]: 'someone-else' });
    expectDropped(await probeFrom(sessionLike.metadata!.name!, ipA, APP_PORT), "a pod labelled as another session -> session A's app port");
    // The same image with the gateway's label in the gateway's namespace is admitted: the label is what the policy trusts.
    const gatewayLike = await plainPod('gateway-like', { [LABEL_GATEWAY]: 'true' });
    expectReached(await probeFrom(gatewayLike.metadata!.name!, ipA, APP_PORT), "a pod labelled as the gateway -> session A's app port");

    // The platform's gateway (in this process on the host, as in local mode) reaches A: connect and fetch through it.
    const conn = await A.connect(sa.id);
    const url = new URL(conn.url);
    const gatewayPort = (app.services.gateway!.server.address() as { port: number }).port;
    const entered = await request(gatewayPort, url.host, url.pathname + url.search);
    expect(entered.status, entered.body).to.equal(303);
    const page = await request(gatewayPort, url.host, '/', { cookie: entered.headers['set-cookie']![0]!.split(';')[0]! });
    expect(page.status, page.body).to.equal(200);
    expect(page.body).to.contain('Hello from a real container');
    // The page names its pod by hostname (the pod's name, cut to 63 characters).
    const servedBy = /<code id="pod">([^<]+)<\/code>/.exec(page.body)?.[1] ?? '';
    expect(servedBy.length, "the gateway served session A's own page").to.be.greaterThan(10);
    expect(runningA.podName!.startsWith(servedBy), `served by ${servedBy}, not by session A's pod ${runningA.podName}`).to.equal(true);

    // Host traffic: the agent accepts packets of root's sockets on the node (kubelet's probes, kube-proxy, and here
    // the gateway); any other local user is a source outside every pod, which A's policy does not admit.
    expectReached(hostFetch(ipA, APP_PORT), 'root on the node -> session A');
    expectDropped(hostFetch(ipA, APP_PORT, 65534), 'an unprivileged user (nobody) on the node -> session A');

    // The netfilter side: new connections of pods go to the agent's queue (its own nftables table with the set of
    // selected pods, or the node's iptables chain for the pod range where the kernel has no nftables queue).
    if (queueing === 'nftables') {
      const table = execFileSync('nft', ['list', 'table', 'inet', NETPOL_TABLE], { encoding: 'utf8' });
      expect(table, 'A and B are in the set of pods a policy selects').to.contain(ipA).and.to.contain((await core.readNamespacedPod({ name: runningB.podName!, namespace: ns })).status!.podIP!);
      expect(table).to.match(/queue (flags \S+ )?to 100|queue num 100/);
    } else {
      const chain = execFileSync('iptables', ['-t', 'mangle', '-S', NETPOL_IPTABLES_CHAIN], { encoding: 'utf8' });
      expect(chain).to.contain(`-s ${POD_CIDR} -j NFQUEUE --queue-num 100`).and.to.contain(`-d ${POD_CIDR} -j NFQUEUE --queue-num 100`);
    }

    for (const s of [sa, sb]) await A.ok('mutation D($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('with an egress policy like the chart\'s, a session pod reaches no pod, no Service, not the API server address, and still the outside', async function () {
    this.timeout(300_000);
    // The stand-ins: a network namespace with an "API server" and an "outside" address, routed from the host.
    netns = `ssnp${process.pid % 100000}`;
    const sh = (cmd: string[]) => execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'pipe' });
    sh(['ip', 'netns', 'add', netns]);
    sh(['ip', 'link', 'add', `${netns}-h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    sh(['ip', 'addr', 'add', '10.246.0.1/29', 'dev', `${netns}-h`]);
    sh(['ip', 'link', 'set', `${netns}-h`, 'up']);
    for (const a of [API_STANDIN, OUTSIDE]) sh(['ip', '-n', netns, 'addr', 'add', `${a}/29`, 'dev', 'eth0']);
    sh(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', netns, 'route', 'add', POD_CIDR, 'via', '10.246.0.1']);
    wwwDir = mkdtempSync(path.join(tmpdir(), 'netpol-standin-'));
    writeFileSync(path.join(wwwDir, 'healthz'), 'ok\n');
    for (const a of [API_STANDIN, OUTSIDE]) {
      standins.push(spawn('ip', ['netns', 'exec', netns, 'busybox', 'httpd', '-f', '-p', `${a}:${STANDIN_PORT}`, '-h', wwwDir], { stdio: 'ignore' }));
    }
    await waitUntil(() => hostFetch(OUTSIDE, STANDIN_PORT).ok && hostFetch(API_STANDIN, STANDIN_PORT).ok, 'the stand-in servers to answer', 10_000);

    const prober = await plainPod('egress-prober', { [LABEL_SESSION]: 'prober' });
    const target = await plainPod('egress-target', { app: 'egress-target' });
    const service = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'egress-target' }, spec: { selector: { app: 'egress-target' }, ports: [{ port: APP_PORT }] } },
    });
    const clusterIp = service.spec!.clusterIP!;
    const p = prober.metadata!.name!;
    const routes: [string, string, number][] = [
      ['another pod', target.status!.podIP!, APP_PORT],
      ["another pod's Service (ClusterIP)", clusterIp, APP_PORT],
      ['the API server address', API_STANDIN, STANDIN_PORT],
      ['an outside address', OUTSIDE, STANDIN_PORT],
    ];
    // Before: everything is reachable (so every failure after is the policy's).
    for (const [what, ip, port] of routes) {
      let last: Probe = { ok: false, output: '' };
      await waitUntil(async () => (last = await probeFrom(p, ip, port)).ok, `${what} to be reachable before the policy`, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${last.output}`);
      });
    }

    await net.createNamespacedNetworkPolicy({
      namespace: ns,
      body: {
        metadata: { name: 'session-egress' },
        spec: {
          podSelector: { matchExpressions: [{ key: LABEL_SESSION, operator: 'Exists' }] },
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [POD_CIDR, SERVICE_CIDR, `${API_STANDIN}/32`, '169.254.169.254/32'] } }] }],
        },
      },
    });
    // The agent applies a policy when its watch sees it: wait for the first drop, then check every route.
    await waitUntil(async () => !(await probeFrom(p, target.status!.podIP!, APP_PORT)).ok, 'the egress policy to be enforced', 30_000);
    expectDropped(await probeFrom(p, target.status!.podIP!, APP_PORT), 'session pod -> another pod');
    // ClusterIPs are translated before the enforcer sees the packet: the pod range is what denies them.
    expectDropped(await probeFrom(p, clusterIp, APP_PORT), "session pod -> another pod's Service");
    expectDropped(await probeFrom(p, API_STANDIN, STANDIN_PORT), 'session pod -> the API server address');
    expectReached(await probeFrom(p, OUTSIDE, STANDIN_PORT), 'session pod -> an outside address (egress to the rest is allowed)');

    // The local cluster's own API server and database listen on 127.0.0.1 only: from a pod, the node's address
    // refuses them (with or without a policy), and the kubernetes Service has no endpoint a pod could use.
    const apiPort = Number(new URL(apiServer).port);
    const [{ port: dbPort }] = (await app.services.database.dataSource.query('SELECT inet_server_port() AS port')) as { port: number }[];
    for (const [what, port] of [
      ['the API server', apiPort],
      ['the database', dbPort],
    ] as const) {
      const res = await probeFrom(p, REAL_NODE_IP, port);
      expect(res.ok, `session pod -> ${what} at the node's address ${REAL_NODE_IP}:${port}: ${res.output}`).to.equal(false);
      expect(res.output, `session pod -> ${what}: refused by the node (nothing listens there)`).to.match(/Connection refused/);
    }
    await net.deleteNamespacedNetworkPolicy({ name: 'session-egress', namespace: ns });
  });
});
