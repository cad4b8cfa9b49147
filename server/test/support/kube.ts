import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startLocalCluster, type LocalCluster, type NetworkPolicyState, type RealNodeImages } from '../../src/platform/kube/local-cluster';
import { waitUntil } from './wait';

/**
 * One real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok with 3 fake nodes) per mocha
 * run, started on first use (kube.hooks.ts stops it). Tests isolate themselves by namespace, never by cluster.
 *
 * The first start on a machine builds the binaries (scripts/k8s/build.sh, minutes); callers' before() hooks
 * should allow for it with `this.timeout(KUBE_START_TIMEOUT_MS)`.
 */
export const KUBE_START_TIMEOUT_MS = 30 * 60_000;

let shared: Promise<LocalCluster> | undefined;

export function getTestCluster(options: { nodes?: number } = {}): Promise<LocalCluster> {
  shared ??= startLocalCluster({
    nodes: options.nodes,
    log: process.env.STREAMSPACE_TEST_KUBE_LOG ? (msg) => process.stderr.write(`[test-cluster] ${msg}\n`) : undefined,
  });
  return shared;
}

export async function stopTestCluster(): Promise<void> {
  if (!shared) return;
  const pending = shared;
  shared = undefined;
  const cluster = await pending.catch(() => undefined);
  await cluster?.stop();
}

/**
 * The shared cluster with its real node (containerd + kubelet on this machine), started on first use; only the
 * tests that call this pay for it. Throws with the node's own one-line reason when this machine cannot run it
 * (not root, not Linux, a missing package), so those tests fail saying why instead of skipping silently.
 */
export async function requireRealNode(): Promise<{ cluster: LocalCluster; nodeName: string; images: RealNodeImages; networkPolicy: NetworkPolicyState }> {
  const cluster = await getTestCluster();
  const state = await cluster.ensureRealNode();
  if (state.status !== 'ready') {
    throw new Error(`the real node is unavailable: ${state.status === 'unavailable' ? state.reason : 'not started'}`);
  }
  return { cluster, nodeName: state.name, images: state.images, networkPolicy: state.networkPolicy };
}

/**
 * The shared cluster with metrics-server (the metrics.k8s.io API), started on first use. Throws with its one-line
 * reason when it cannot run (a failed build, a component that exited), so those tests fail saying why.
 */
export async function requireMetricsServer(): Promise<LocalCluster> {
  const cluster = await getTestCluster();
  const state = await cluster.ensureMetricsServer();
  if (state.status !== 'ready') {
    throw new Error(`metrics-server is unavailable: ${state.status === 'unavailable' ? state.reason : 'not started'}`);
  }
  return cluster;
}

let counter = 0;

/**
 * A fresh namespace on the shared cluster, named `<prefix>-<pid>-<n>`, that waits until the controller manager
 * has created its default ServiceAccount (pods cannot be created before). Returns its name.
 */
export async function createTestNamespace(prefix = 'test'): Promise<string> {
  const cluster = await getTestCluster();
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'test';
  const name = `${base}-${process.pid}-${++counter}`;
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { 'streamspace.io/test': 'true' } } } });
  await waitUntil(async () => {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    } catch {
      return false;
    }
  }, `the default ServiceAccount of namespace ${name}`);
  return name;
}

export type { KubeConfig, LocalCluster };
