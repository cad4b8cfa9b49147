import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ensureBinaries, findRepoRoot } from '../../src/platform/kube/local-cluster';
import { getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';

const script = path.join(findRepoRoot(), 'scripts', 'k8s', 'build.sh');

/** Runs scripts/k8s/build.sh with exactly `env` (plus HOME), never the caller's KUBEBUILDER_ASSETS. */
function run(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync('bash', [script], { env: { HOME: os.homedir(), PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('scripts/k8s/build.sh (pinned control plane binaries)', function () {
  let tmp: string;
  let binDir: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    // The shared test cluster builds or finds the cache; its binaries are the "ready binaries" below.
    binDir = (await getTestCluster()).binaries.binDir;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'streamspace-build-sh-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports a cache hit and prints the binary directory, whose apiserver carries the pinned version', async () => {
    const res = run({ PATH: `/usr/local/go/bin:/usr/bin:/bin` });
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stderr).to.match(/cache hit: .*v1\.35\.4-etcdv3\.6\.16-kwokv0\.8\.0/);
    expect(res.stdout.trim().split('\n').pop()).to.equal(binDir);
    const version = spawnSync(path.join(binDir, 'kube-apiserver'), ['--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).to.equal('Kubernetes v1.35.4');
    const bins = await ensureBinaries();
    expect(bins.kubeApiserver).to.equal(path.join(binDir, 'kube-apiserver'));
    expect(bins.stageDir).to.equal(path.resolve(binDir, '..', 'stage'));
  });

  it('uses ready binaries from KUBEBUILDER_ASSETS / STREAMSPACE_K8S_ASSETS and says what such a directory lacks', () => {
    for (const variable of ['KUBEBUILDER_ASSETS', 'STREAMSPACE_K8S_ASSETS']) {
      const ok = run({ [variable]: binDir });
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout.trim()).to.equal(binDir);
      expect(ok.stderr).to.include(`using ready binaries from ${binDir}`);
    }
    const partial = path.join(tmp, 'envtest-assets');
    mkdirSync(partial);
    for (const b of ['kube-apiserver', 'etcd']) {
      writeFileSync(path.join(partial, b), '#!/bin/sh\n');
      chmodSync(path.join(partial, b), 0o755);
    }
    const lacking = run({ KUBEBUILDER_ASSETS: partial });
    expect(lacking.code).to.equal(1);
    expect(lacking.stderr).to.include(`asset directory '${partial}' lacks: kube-controller-manager kube-scheduler kwok`);
  });

  it('fails with a clear message when a build is needed and Go is missing or too old', () => {
    const emptyCache = path.join(tmp, 'empty-cache');
    const missing = run({ STREAMSPACE_K8S_CACHE: emptyCache, PATH: '/usr/bin:/bin' });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('[k8s-build] error: Go is not installed (or not on PATH). Install Go 1.24+');

    const fakeBin = path.join(tmp, 'old-go');
    mkdirSync(fakeBin);
    writeFileSync(path.join(fakeBin, 'go'), '#!/bin/sh\necho go1.21.4\n');
    chmodSync(path.join(fakeBin, 'go'), 0o755);
    const old = run({ STREAMSPACE_K8S_CACHE: emptyCache, PATH: `${fakeBin}:/usr/bin:/bin` });
    expect(old.code).to.equal(1);
    expect(old.stderr).to.include(`Go 1.24 or newer is required, found 'go1.21.4' at ${path.join(fakeBin, 'go')}`);
  });
});
