import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { freePort } from '../../src/platform/kube/local-cluster/ports';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { getTestCluster, KUBE_START_TIMEOUT_MS, type LocalCluster } from '../support/kube';

interface Readyz {
  status: string;
  checks: { name: string; ok: boolean; error?: string; simulated?: boolean; mode?: string; version?: string; target?: string }[];
}

/** /readyz as an admin sees it (anonymous callers get the status only). */
async function readyz(app: TestApp): Promise<{ status: number; body: Readyz }> {
  const res = await fetch(`${app.url}/readyz`, { headers: (await signInAsAdmin(app)).headers });
  return { status: res.status, body: (await res.json()) as Readyz };
}

describe('the app and its cluster (/readyz "kubernetes", log line, services.cluster)', function () {
  const apps: TestApp[] = [];
  afterEach(async () => {
    while (apps.length) await apps.pop()!.stop();
  });

  async function start(env: Record<string, string>): Promise<TestApp> {
    const app = await startTestApp(env);
    apps.push(app);
    return app;
  }

  it('with STREAMSPACE_CLUSTER=none there is no cluster and no kubernetes check', async () => {
    const app = await start({ STREAMSPACE_CLUSTER: 'none' });
    expect(app.services.cluster).to.equal(null);
    const { status, body } = await readyz(app);
    expect(status).to.equal(200);
    expect(body.checks.map((c) => c.name)).to.not.include('kubernetes');
  });

  it('reports an unreachable API server as not ready (the app still starts and says why)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'streamspace-dead-kube-'));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'dead', server: `https://127.0.0.1:${await freePort()}`, skipTLSVerify: true }],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'dead', cluster: 'dead', user: 'u' }],
        currentContext: 'dead',
      });
      const file = path.join(tmp, 'kubeconfig');
      writeFileSync(file, kc.exportConfig());
      const app = await start({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: file });
      const { status, body } = await readyz(app);
      expect(status).to.equal(503);
      const check = body.checks.find((c) => c.name === 'kubernetes')!;
      expect(check.ok).to.equal(false);
      expect(check.error).to.match(/ECONNREFUSED/);
      expect(app.logs.some((l) => l.msg === 'Kubernetes API server is not reachable yet (see /readyz)')).to.equal(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('against the test cluster', () => {
    let cluster: LocalCluster;
    before(async function () {
      this.timeout(KUBE_START_TIMEOUT_MS);
      cluster = await getTestCluster();
    });

    it('STREAMSPACE_CLUSTER=kubeconfig: /readyz checks the API server and the log names the cluster', async () => {
      const app = await start({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath });
      const { status, body } = await readyz(app);
      expect(status).to.equal(200);
      const check = body.checks.find((c) => c.name === 'kubernetes')!;
      expect(check).to.include({ ok: true, mode: 'kubeconfig', simulated: false, version: 'v1.35.4' });
      expect(check.target).to.include(cluster.server);
      const line = app.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Kubernetes: '));
      expect(line?.msg).to.equal(`Kubernetes: kubeconfig ${cluster.kubeconfigPath} (context streamspace-local, ${cluster.server})`);
      // The seam other modules use: make a client from services.cluster.kubeConfig.
      // The fake nodes (the shared cluster may also have its real node by now).
      const nodes = await app.services.cluster!.kubeConfig.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
      expect(nodes.items).to.have.length(3);
    });
  });

  describe('STREAMSPACE_CLUSTER=local', () => {
    let dataDir: string;
    before(() => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'streamspace-local-mode-'));
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it('starts a simulated cluster under STREAMSPACE_DATA_DIR whose objects survive a restart of the server', async function () {
      this.timeout(KUBE_START_TIMEOUT_MS);
      const env = { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_DATA_DIR: dataDir };

      const first = await start(env);
      const { status, body } = await readyz(first);
      expect(status).to.equal(200);
      expect(body.checks.find((c) => c.name === 'kubernetes')).to.include({ ok: true, mode: 'local', simulated: true });
      const line = first.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Kubernetes: '));
      expect(line?.msg).to.match(/^Kubernetes: SIMULATED local simulated cluster/);
      expect(first.services.cluster!.kubeconfigPath).to.equal(path.join(dataDir, 'cluster', 'kubeconfig'));
      const core = first.services.cluster!.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survivor' }, data: { kept: 'yes' } } });
      await first.stop();
      apps.pop();

      const second = await start(env);
      const again = second.services.cluster!.kubeConfig.makeApiClient(CoreV1Api);
      const cm = await again.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
      expect(cm.data).to.deep.equal({ kept: 'yes' });
      expect((await readyz(second)).status).to.equal(200);
    });
  });
});
