import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { AppConfig } from '../../src/config/config';
import { kubeGetJson } from '../../src/platform/kube/kube-http';
import { ClusterConfigError, connectCluster, type ClusterConnection, type ClusterEnvironment } from '../../src/platform/kube/cluster';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS, type LocalCluster } from '../support/kube';

const logger = createLogger('silent');

describe('cluster selection (STREAMSPACE_CLUSTER)', function () {
  let tmp: string;
  /** A home directory without ~/.kube/config, so no test depends on the developer's own kubeconfig. */
  let emptyHome: string;
  let dataDir: string;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'streamspace-cluster-select-'));
    emptyHome = path.join(tmp, 'home-empty');
    mkdirSync(emptyHome);
    dataDir = path.join(tmp, 'data');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const config = (cluster: AppConfig['cluster'], kubeconfig?: string) => ({ cluster, kubeconfig, dataDir });
  // Outside a pod; no default kubeconfig.
  const plain = (): ClusterEnvironment => ({ env: {}, homeDir: emptyHome, serviceAccountDir: path.join(tmp, 'no-such-sa') });

  async function failure(promise: Promise<unknown>): Promise<ClusterConfigError> {
    try {
      await promise;
    } catch (err) {
      expect(err).to.be.instanceOf(ClusterConfigError);
      return err as ClusterConfigError;
    }
    throw new Error('expected connectCluster to fail');
  }

  describe('without a cluster', () => {
    it('none: no connection at all', async () => {
      expect(await connectCluster(config('none'), logger, plain())).to.equal(null);
    });

    it('a named kubeconfig that does not exist is an error in auto and kubeconfig mode, never a fallback', async () => {
      const missing = path.join(tmp, 'nope', 'config');
      for (const mode of ['auto', 'kubeconfig'] as const) {
        const err = await failure(connectCluster(config(mode, missing), logger, plain()));
        expect(err.message).to.equal(`KUBECONFIG=${missing}: kubeconfig file ${missing} does not exist`);
      }
    });

    it('a named kubeconfig that is not YAML, or whose context points nowhere, is an error that says so', async () => {
      const garbage = path.join(tmp, 'garbage.yaml');
      writeFileSync(garbage, 'clusters: [unclosed\n');
      expect((await failure(connectCluster(config('auto', garbage), logger, plain()))).message).to.match(
        new RegExp(`^KUBECONFIG=${garbage}: cannot read kubeconfig ${garbage}: `),
      );

      const dangling = path.join(tmp, 'dangling.yaml');
      writeFileSync(
        dangling,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: []',
          'users: [{name: u, user: {token: t}}]',
          'contexts: [{name: ctx, context: {cluster: gone, user: u}}]',
          'current-context: ctx',
        ].join('\n'),
      );
      expect((await failure(connectCluster(config('auto', dangling), logger, plain()))).message).to.equal(
        `KUBECONFIG=${dangling}: context "ctx" names cluster "gone", which is not defined or has no server`,
      );

      const noContext = path.join(tmp, 'no-context.yaml');
      writeFileSync(noContext, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
      expect((await failure(connectCluster(config('kubeconfig', noContext), logger, plain()))).message).to.equal(
        `KUBECONFIG=${noContext}: the kubeconfig has no current-context`,
      );
    });

    it('kubeconfig mode without KUBECONFIG and without ~/.kube/config is an error', async () => {
      const err = await failure(connectCluster(config('kubeconfig'), logger, plain()));
      expect(err.message).to.equal(`~/.kube/config: kubeconfig file ${path.join(emptyHome, '.kube', 'config')} does not exist`);
    });

    it('in-cluster mode outside a pod is an error', async () => {
      const err = await failure(connectCluster(config('in-cluster'), logger, plain()));
      expect(err.message).to.include('KUBERNETES_SERVICE_HOST is not set');
      const noToken = await failure(
        connectCluster(config('in-cluster'), logger, { ...plain(), env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' } }),
      );
      expect(noToken.message).to.include(`${path.join(tmp, 'no-such-sa', 'token')} does not exist`);
    });
  });

  describe('against the test cluster', () => {
    let cluster: LocalCluster;
    const connections: ClusterConnection[] = [];

    before(async function () {
      this.timeout(KUBE_START_TIMEOUT_MS);
      cluster = await getTestCluster();
    });
    after(async () => {
      for (const c of connections) await c.stop();
    });

    async function connect(...args: Parameters<typeof connectCluster>): Promise<ClusterConnection> {
      const connection = await connectCluster(...args);
      expect(connection).to.not.equal(null);
      connections.push(connection!);
      return connection!;
    }

    it('auto uses KUBECONFIG when it is set (and does not start a local cluster)', async () => {
      const c = await connect(config('auto', cluster.kubeconfigPath), logger, plain());
      expect(c.mode).to.equal('kubeconfig');
      expect(c.simulated).to.equal(false);
      expect(c.kubeconfigPath).to.equal(cluster.kubeconfigPath);
      expect(c.description).to.equal(`kubeconfig ${cluster.kubeconfigPath} (context streamspace-local, ${cluster.server})`);
      expect((await c.ping()).gitVersion).to.equal('v1.35.4');
    });

    it('auto falls back to ~/.kube/config when KUBECONFIG is unset', async () => {
      const home = path.join(tmp, 'home-with-config');
      mkdirSync(path.join(home, '.kube'), { recursive: true });
      copyFileSync(cluster.kubeconfigPath, path.join(home, '.kube', 'config'));
      const c = await connect(config('auto'), logger, { ...plain(), homeDir: home });
      expect(c.mode).to.equal('kubeconfig');
      expect(c.kubeconfigPath).to.equal(path.join(home, '.kube', 'config'));
      // The fake nodes (the shared cluster may also have its real node by now).
      const nodes = await c.kubeConfig.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
      expect(nodes.items).to.have.length(3);
    });

    it('auto prefers the pod ServiceAccount when running in a pod, and acts as that ServiceAccount', async () => {
      // A real ServiceAccount token from the TokenRequest API, laid out as the kubelet mounts it.
      const namespace = await createTestNamespace('incluster');
      const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'streamspace' } } });
      const token = await core.createNamespacedServiceAccountToken({
        name: 'streamspace',
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const saDir = path.join(tmp, 'serviceaccount');
      mkdirSync(saDir);
      writeFileSync(path.join(saDir, 'token'), token.status!.token);
      copyFileSync(path.join(cluster.rootDir, 'pki', 'ca.crt'), path.join(saDir, 'ca.crt'));
      writeFileSync(path.join(saDir, 'namespace'), namespace);
      const port = new URL(cluster.server).port;

      const c = await connect(config('auto', cluster.kubeconfigPath), logger, {
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
        homeDir: emptyHome,
        serviceAccountDir: saDir,
      });
      expect(c.mode).to.equal('in-cluster');
      expect(c.description).to.equal(`in-cluster ServiceAccount (https://127.0.0.1:${port}, namespace ${namespace})`);
      const review = await c.kubeConfig.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
      expect(review.status!.userInfo!.username).to.equal(`system:serviceaccount:${namespace}:streamspace`);
      // The raw requests of the informer and /readyz carry the same credentials (token file, CA).
      expect((await c.ping()).gitVersion).to.equal('v1.35.4');
      const own = await kubeGetJson<{ metadata: { name: string } }>(c.kubeConfig, `/api/v1/namespaces/${namespace}/serviceaccounts/streamspace`).catch(
        (err: Error) => err,
      );
      // A ServiceAccount without a Role may not read even itself: RBAC applies to these requests too.
      expect((own as Error).message).to.match(/^403 Forbidden: /);
    });
  });
});
