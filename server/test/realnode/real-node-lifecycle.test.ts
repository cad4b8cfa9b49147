import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { NETPOL_IPTABLES_CHAIN, NETPOL_TABLE, REAL_NODE_PLACEMENT } from '../../src/platform/kube/local-cluster';
import { stopTestCluster } from '../support/kube';
import { waitUntil } from '../support/wait';
import { realNodeLeftovers } from './real-node-leftovers';

const serverDir = path.resolve(__dirname, '../..');
const START_TIMEOUT_MS = 30 * 60_000;
/** The web app image's server, as its container runs it (see scripts/images/files/webapp-start.sh). */
const WEBAPP_PROCESS = 'httpd -f -v -p 8080';

interface OwnerProcess {
  child: ChildProcess;
  rootDir: string;
  kubeConfig: KubeConfig;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run cluster -- --real-node` as a child process that owns the cluster (and can be SIGKILLed). */
async function startOwner(): Promise<OwnerProcess> {
  const args = ['-r', '@swc-node/register', 'src/platform/kube/local-cluster/cli.ts', '--nodes', '1', '--no-crds', '--real-node'];
  const child = spawn(process.execPath, args, { cwd: serverDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^KUBECONFIG=(.+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`npm run cluster -- --real-node exited (${code}) before printing KUBECONFIG:\n${stderr}`)));
  });
  // The CLI prints the node's state in one line; an unavailable node must fail this test with its reason.
  const unavailable = /real node unavailable[^\n]*/.exec(stderr);
  if (unavailable) {
    child.kill('SIGINT');
    await exited;
    throw new Error(unavailable[0]);
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return { child, rootDir: path.dirname(kubeconfigPath), kubeConfig, stderr: () => stderr, exited };
}

/** A running web app pod on the real node, so there is a container, a shim, mounts and a network namespace. */
async function runPodOnRealNode(owner: OwnerProcess): Promise<void> {
  const core = owner.kubeConfig.makeApiClient(CoreV1Api);
  const image = /docker\.io\/streamspace\/webapp:[0-9a-f]+/.exec(owner.stderr())?.[0] ?? (await webappImage(core));
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'leftover-check' },
      spec: { ...REAL_NODE_PLACEMENT, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent' }] },
    },
  });
  await waitUntil(
    async () => (await core.readNamespacedPod({ name: 'leftover-check', namespace: 'default' })).status?.phase === 'Running',
    'the pod on the real node to run',
    120_000,
  );
}

/** The web app image's reference, as the node reports it among its images. */
async function webappImage(core: CoreV1Api): Promise<string> {
  const node = await core.readNode({ name: 'streamspace-node' });
  const name = node.status?.images?.flatMap((i) => i.names ?? []).find((n) => n.startsWith('docker.io/streamspace/webapp:'));
  if (!name) throw new Error('the real node has no docker.io/streamspace/webapp image');
  return name;
}

describe('real node lifecycle: nothing is left behind', function () {
  before(async function () {
    this.timeout(120_000);
    // A machine runs one real node (its IP, bridge and containerd are machine-wide). The shared test cluster may hold
    // it (an earlier file asked for it): stop that cluster, whose next user starts a fresh one.
    await stopTestCluster();
  });

  it('a clean stop (SIGINT) removes containers, shims, mounts, network namespaces, the bridge, iptables chains and the NetworkPolicy table', async function () {
    this.timeout(START_TIMEOUT_MS);
    const owner = await startOwner();
    await runPodOnRealNode(owner);
    const running = realNodeLeftovers(owner.rootDir, [WEBAPP_PROCESS]);
    expect(running.length, 'the running node is seen by the check').to.be.greaterThan(3);
    expect(running, 'the NetworkPolicy queueing (the agent\'s nftables table or the node\'s iptables chain) is seen by the check').to.satisfy((f: string[]) =>
      f.some((x) => x === `nftables table inet ${NETPOL_TABLE}` || x.endsWith(`-N ${NETPOL_IPTABLES_CHAIN}`)),
    );
    expect(running.some((f) => f.includes('netpol-agent')), `the agent's process is seen by the check: ${running.join('; ')}`).to.equal(true);
    owner.child.kill('SIGINT');
    expect(await owner.exited).to.deep.equal({ code: 0, signal: null });
    expect(realNodeLeftovers(owner.rootDir, [WEBAPP_PROCESS])).to.deep.equal([]);
  });

  it('after a SIGKILL of the owner, the watchdog removes all of it too', async function () {
    this.timeout(START_TIMEOUT_MS);
    const owner = await startOwner();
    await runPodOnRealNode(owner);
    const before = realNodeLeftovers(owner.rootDir, [WEBAPP_PROCESS]);
    expect(before.some((f) => f.includes('netpol-agent')), `the agent ran before the SIGKILL: ${before.join('; ')}`).to.equal(true);
    owner.child.kill('SIGKILL');
    await owner.exited;
    let left: string[] = [];
    await waitUntil(
      () => (left = realNodeLeftovers(owner.rootDir, [WEBAPP_PROCESS])).length === 0,
      `the watchdog to clean up (left: ${left.join('; ')})`,
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${left.join('; ')}`);
    });
  });
});
