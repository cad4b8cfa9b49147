import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import type { PidFileState } from '../../src/platform/kube/local-cluster/managed-process';
import { startLocalCluster } from '../../src/platform/kube/local-cluster';
import { isProcessAlive } from '../../src/platform/kube/local-cluster/watchdog';
import { getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const serverDir = path.resolve(__dirname, '../..');

interface RunningCli {
  child: ChildProcess;
  kubeconfigPath: string;
  rootDir: string;
  pids: PidFileState;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run cluster` as a child process (without npm in between, so signals reach the CLI itself). */
async function startCli(extraArgs: string[] = []): Promise<RunningCli> {
  const args = ['-r', '@swc-node/register', 'src/platform/kube/local-cluster/cli.ts', '--nodes', '1', '--no-crds', ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: serverDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^KUBECONFIG=(.+)$/.exec(line);
      if (m) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`npm run cluster exited (${code}) before printing KUBECONFIG:\n${stderr}`)));
  });
  const rootDir = path.dirname(kubeconfigPath);
  const pids = JSON.parse(readFileSync(path.join(rootDir, 'run', 'pids.json'), 'utf8')) as PidFileState;
  return { child, kubeconfigPath, rootDir, pids, exited };
}

describe('local cluster lifecycle: no orphaned processes', function () {
  before(async function () {
    // Builds the binaries if needed (shared with the other kube tests), so the CLI below starts warm.
    this.timeout(KUBE_START_TIMEOUT_MS);
    await getTestCluster();
  });

  it('npm run cluster prints KUBECONFIG and stops every component on Ctrl-C (SIGINT)', async function () {
    this.timeout(180_000);
    const cli = await startCli();
    // metrics-server too: `npm run cluster` serves the metrics API unless told --no-metrics-server.
    expect(cli.pids.processes.map((p) => p.name).sort()).to.deep.equal(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'metrics-server']);
    expect(cli.pids.processes.every((p) => isProcessAlive(p.pid, p.startTime))).to.equal(true);

    cli.child.kill('SIGINT');
    expect(await cli.exited).to.deep.equal({ code: 0, signal: null });
    for (const p of cli.pids.processes) expect(isProcessAlive(p.pid, p.startTime), `${p.name} (${p.pid})`).to.equal(false);
    expect(existsSync(cli.rootDir), 'the temporary cluster directory is removed').to.equal(false);
  });

  it('refuses to start a second control plane on a data directory that a live process owns', async function () {
    this.timeout(180_000);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'streamspace-k8s-owned-'));
    try {
      const cli = await startCli(['--data-dir', dataDir]);
      let error: Error | undefined;
      await startLocalCluster({ dataDir, nodes: 1, crdDir: null }).then(
        (c) => c.stop(),
        (err: Error) => (error = err),
      );
      expect(error?.message).to.equal(`this cluster is already running in process ${cli.child.pid} (pid file ${path.join(dataDir, 'run', 'pids.json')}); stop it first`);
      // The refused start touched nothing: the running cluster still answers and stops cleanly.
      expect(cli.pids.processes.every((p) => isProcessAlive(p.pid, p.startTime))).to.equal(true);
      cli.child.kill('SIGINT');
      expect(await cli.exited).to.deep.equal({ code: 0, signal: null });
      expect(existsSync(path.join(dataDir, 'etcd')), 'a persistent cluster keeps its data').to.equal(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves no process behind when its owner is killed with SIGKILL (parent-death signal and watchdog)', async function () {
    this.timeout(180_000);
    const cli = await startCli();
    cli.child.kill('SIGKILL');
    await cli.exited;
    await waitUntil(
      () => cli.pids.processes.every((p) => !isProcessAlive(p.pid, p.startTime)),
      `the components of the killed cluster to exit: ${cli.pids.processes.map((p) => `${p.name}(${p.pid})`).join(', ')}`,
      60_000,
    );
    await waitUntil(() => !existsSync(cli.rootDir), 'the watchdog to remove the temporary directory', 60_000);
  });
});
