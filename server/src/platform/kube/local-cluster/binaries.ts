import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Where the control plane's executables and kwok's stage files are. */
export interface ControlPlaneBinaries {
  binDir: string;
  /** kwok's stage directory (a copy of sigs.k8s.io/kwok's kustomize/stage). */
  stageDir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
}

/** The repository root: the nearest ancestor holding scripts/k8s/build.sh (works from src/ and from dist/). */
export function findRepoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'k8s', 'build.sh'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find the StreamSpace repository root (scripts/k8s/build.sh) above ${from}`);
    }
    dir = parent;
  }
}

/**
 * Resolves the control plane binaries through scripts/k8s/build.sh, the single place that knows the pinned
 * versions, the cache layout and KUBEBUILDER_ASSETS / STREAMSPACE_K8S_ASSETS. A warm cache costs one bash
 * start; a cold one builds from the Go module proxy (minutes), with the script's progress passed to `log`.
 */
export async function ensureBinaries(options: { repoRoot?: string; log?: (msg: string) => void } = {}): Promise<ControlPlaneBinaries> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const script = path.join(repoRoot, 'scripts', 'k8s', 'build.sh');
  const log = options.log ?? (() => {});

  const stdout: string[] = [];
  const stderrTail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
      // Go's per-module "downloading" chatter would drown the per-binary progress lines.
      if (!line.startsWith('go: ')) log(line);
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`${script} failed (exit ${code}):\n${stderrTail.join('\n')}`);
  }
  const binDir = stdout.filter((l) => l.trim() !== '').pop();
  if (!binDir || !existsSync(binDir)) {
    throw new Error(`${script} did not print an existing binary directory (got ${JSON.stringify(binDir)})`);
  }
  // The build puts stage/ beside bin/; a directory of ready binaries may carry it inside instead.
  const stageDir = [path.join(binDir, '..', 'stage'), path.join(binDir, 'stage')].find((d) => existsSync(path.join(d, 'pod')));
  if (!stageDir) {
    throw new Error(
      `no kwok stage files next to ${binDir}: expected ${path.join(binDir, '..', 'stage')} or ${path.join(binDir, 'stage')} ` +
        '(a copy of kustomize/stage from the sigs.k8s.io/kwok module)',
    );
  }
  return {
    binDir,
    stageDir: path.resolve(stageDir),
    kubeApiserver: path.join(binDir, 'kube-apiserver'),
    kubeControllerManager: path.join(binDir, 'kube-controller-manager'),
    kubeScheduler: path.join(binDir, 'kube-scheduler'),
    etcd: path.join(binDir, 'etcd'),
    kwok: path.join(binDir, 'kwok'),
  };
}
