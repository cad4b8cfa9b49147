/**
 * `npm run cluster`: a local Kubernetes control plane in the foreground, for kubectl and for running the server
 * against it (`STREAMSPACE_CLUSTER=kubeconfig KUBECONFIG=<printed path> npm start`). Ctrl-C stops it cleanly.
 *
 * Options: --nodes N (default 3), --data-dir DIR (keep etcd's data there across runs; default a temporary
 * directory deleted on exit), --no-crds, --real-node (also run a real node: containerd + kubelet; Linux, root),
 * --deploy (implies --real-node: build the platform's images, import them into the node and `helm install` the chart
 * into namespace streamspace, as an operator would; prints the URL and the bootstrap admin's password),
 * --no-metrics-server (skip metrics-server, which serves metrics.k8s.io: `kubectl top`, the console's node usage).
 */
import { parseArgs } from 'node:util';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { findRepoRoot } from './binaries';
import { buildPlatformImages, helmCommand, importIntoRealNode, realNodeSessionValues, realNodeValuesFile, relayApiServerToPods, serviceLoopbackRelays } from './deploy';
import { startLocalCluster, type LocalCluster } from './local-cluster';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      'data-dir': { type: 'string' },
      'no-crds': { type: 'boolean', default: false },
      'real-node': { type: 'boolean', default: false },
      deploy: { type: 'boolean', default: false },
      'no-metrics-server': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run cluster -- [--nodes N] [--data-dir DIR] [--no-crds] [--real-node] [--deploy] [--no-metrics-server]\n');
    return;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > 1000) throw new Error(`--nodes must be a whole number from 0 to 1000, got ${values.nodes}`);

  const log = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);
  // Our handler is registered before the cluster starts, so the launcher's own signal handling leaves the
  // decision to exit to us (it only begins stopping).
  const started: { cluster?: LocalCluster } = {};
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return; // terminals deliver Ctrl-C to the whole group; npm may forward it again
    stopping = true;
    log(`${signal}: stopping the control plane`);
    void (started.cluster ? started.cluster.stop() : Promise.resolve()).then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log(`stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));

  const cluster = await startLocalCluster({
    nodes,
    dataDir: values['data-dir'],
    crdDir: values['no-crds'] ? null : undefined,
    realNode: values['real-node'] || values.deploy,
    metricsServer: !values['no-metrics-server'],
    log,
  });
  started.cluster = cluster;
  if (stopping) {
    await cluster.stop();
    return;
  }
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfigPath}\n`);
  const real = cluster.realNode.status === 'ready' ? `, ${cluster.realNode.name} (real)` : '';
  log(`API server ${cluster.server}; nodes: ${cluster.nodeNames.join(', ')}${real}; logs in ${cluster.rootDir}/logs`);
  log(`try: export KUBECONFIG=${cluster.kubeconfigPath}; kubectl get nodes`);
  if (values.deploy) {
    if (cluster.realNode.status !== 'ready') throw new Error(`--deploy needs the real node: ${cluster.realNode.status === 'unavailable' ? cluster.realNode.reason : 'not started'}`);
    await deploy(cluster, log);
  }
  log('press Ctrl-C to stop');
  // Keep the process alive: the components' handles are unref'd so that tests can exit.
  setInterval(() => {}, 1 << 30);
}

/**
 * The chart on the real node (namespace streamspace): the portal at http://localhost:<port> and sessions on
 * *.apps.localhost:<port>, loopback relays to the platform's Service (this process keeps them open).
 */
async function deploy(cluster: LocalCluster, log: (msg: string) => void): Promise<void> {
  const namespace = 'streamspace';
  log('deploy: building the images (npm run build first if the build is missing) ...');
  const images = await buildPlatformImages();
  log(`deploy: ${images.streamspace.ref} (${(images.streamspace.bytes / 1e6).toFixed(0)} MB), ${images.postgres.ref} (${(images.postgres.bytes / 1e6).toFixed(0)} MB) in ${images.seconds.toFixed(0)} s`);
  await importIntoRealNode(cluster, [images.streamspace, images.postgres]);
  await relayApiServerToPods(cluster);
  const relays = await serviceLoopbackRelays();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'streamspace-deploy-'));
  const file = await realNodeValuesFile(
    path.join(dir, 'values.yaml'),
    images.streamspace,
    images.postgres,
    realNodeSessionValues({ portalPort: relays.portal.port, gatewayPort: relays.gateway.port }),
  );
  const helm = await helmCommand();
  const started = Date.now();
  const chart = path.join(findRepoRoot(), 'helm', 'streamspace');
  await helm('install', 'streamspace', chart, '--namespace', namespace, '--create-namespace', '-f', file, '--wait', '--timeout', '8m', '--kubeconfig', cluster.kubeconfigPath);
  log(`deploy: helm install to Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (values: ${file})`);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const svc = await core.readNamespacedService({ name: 'streamspace', namespace });
  relays.setService(svc.spec!.clusterIP!);
  const secret = await core.readNamespacedSecret({ name: 'streamspace-generated', namespace });
  const password = Buffer.from(secret.data?.STREAMSPACE_ADMIN_PASSWORD ?? '', 'base64').toString();
  const url = `http://localhost:${relays.portal.port}/`;
  process.stdout.write(`URL=${url}\nADMIN=admin\nADMIN_PASSWORD=${password}\n`);
  log(`deploy: open ${url} and sign in as admin (sessions on http://<id>.apps.localhost:${relays.gateway.port}); helm: --kubeconfig ${cluster.kubeconfigPath} -n ${namespace}`);
}

main().catch((err: Error) => {
  process.stderr.write(`[cluster] failed: ${err.message}\n`);
  process.exit(1);
});
