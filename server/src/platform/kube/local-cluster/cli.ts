/**
 * `npm run cluster`: a local Kubernetes control plane in the foreground, for kubectl and for running the server
 * against it (`STREAMSPACE_CLUSTER=kubeconfig KUBECONFIG=<printed path> npm start`). Ctrl-C stops it cleanly.
 *
 * Options: --nodes N (default 3), --data-dir DIR (keep etcd's data there across runs; default a temporary
 * directory deleted on exit), --no-crds, --real-node (also run a real node: containerd + kubelet; Linux, root).
 */
import { parseArgs } from 'node:util';
import { startLocalCluster, type LocalCluster } from './local-cluster';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      'data-dir': { type: 'string' },
      'no-crds': { type: 'boolean', default: false },
      'real-node': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run cluster -- [--nodes N] [--data-dir DIR] [--no-crds] [--real-node]\n');
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
    realNode: values['real-node'],
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
  log('press Ctrl-C to stop');
  // Keep the process alive: the components' handles are unref'd so that tests can exit.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: Error) => {
  process.stderr.write(`[cluster] failed: ${err.message}\n`);
  process.exit(1);
});
