import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { AppConfig } from '../../config/config';
import type { Logger } from '../logging/logger';
import { kubeGetJson } from './kube-http';
import { reuseConnections } from './kube-agent';
import { demoTemplates, REAL_NODE_LABEL, REAL_NODE_STORAGE_CLASS, startLocalCluster, type LocalCluster } from './local-cluster';

/**
 * The one place that decides which Kubernetes cluster the server talks to. Everything else only sees
 * `ClusterConnection.kubeConfig` and makes its own API clients from it (`kubeConfig.makeApiClient(CoreV1Api)`),
 * so a module never cares whether the cluster is real or the local simulated one.
 */

/** Where the connection came from. */
export type ClusterSource = 'in-cluster' | 'kubeconfig' | 'local';

export interface ClusterConnection {
  kubeConfig: KubeConfig;
  mode: ClusterSource;
  /** True for the local control plane, whose nodes are simulated by kwok (pods never run containers). */
  simulated: boolean;
  /** For logs and /readyz: "kubeconfig /path (context x, https://...)", "local simulated cluster at ...". */
  description: string;
  /** API server URL. */
  server: string;
  /** The kubeconfig file kubectl can use (local mode, kubeconfig mode); undefined in-cluster. */
  kubeconfigPath: string | undefined;
  /** GET /version within `timeoutMs`; rejects when the API server does not answer. */
  ping(timeoutMs?: number): Promise<{ gitVersion: string }>;
  /** Stops the local control plane (local mode); nothing to do for a real cluster. Idempotent. */
  stop(): Promise<void>;
  /**
   * Local mode with a running real node: where sessions go by default (its label, its static volumes) and the
   * demo Templates of its locally built images (created once in the sessions namespace).
   */
  realNode?: { nodeSelector: Record<string, string>; storageClass: string; demoTemplates: (namespace: string) => KubernetesObject[] };
}

/** A cluster selection that cannot work; the message says what to fix. Never answered by a silent fallback. */
export class ClusterConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterConfigError';
  }
}

/** Where to look for in-cluster credentials and the default kubeconfig (tests point them elsewhere). */
export interface ClusterEnvironment {
  /** Holds token, ca.crt, namespace. Default /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
  /** KUBERNETES_SERVICE_HOST and _PORT; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** For ~/.kube/config; default os.homedir(). */
  homeDir?: string;
  /** Nodes of the local simulated cluster. Default 3. */
  localNodes?: number;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Connects to the cluster chosen by STREAMSPACE_CLUSTER:
 * - `in-cluster`: the pod's ServiceAccount (token, CA and KUBERNETES_SERVICE_HOST/PORT);
 * - `kubeconfig`: KUBECONFIG, else ~/.kube/config;
 * - `local`: a local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok), its data under
 *   STREAMSPACE_DATA_DIR/cluster so that sessions survive a restart like the database does;
 * - `auto` (default): in-cluster when running in a pod, else a kubeconfig if KUBECONFIG is set or ~/.kube/config
 *   exists, else local. A kubeconfig that is named but broken is an error, never a reason to fall back;
 * - `none`: no cluster (null), for tests of parts that need none.
 */
export async function connectCluster(
  config: Pick<AppConfig, 'cluster' | 'kubeconfig' | 'dataDir'> & Partial<Pick<AppConfig, 'localRealNode'>>,
  logger: Logger,
  environment: ClusterEnvironment = {},
): Promise<ClusterConnection | null> {
  const mode = config.cluster;
  if (mode === 'none') return null;
  const saDir = environment.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const env = environment.env ?? process.env;

  if (mode === 'in-cluster') return connectInCluster(saDir, env);
  if (mode === 'kubeconfig') return connectKubeconfig(config.kubeconfig, environment.homeDir);
  const realNode = (config.localRealNode ?? 'off') !== 'off';
  if (mode === 'local') return connectLocal(config.dataDir, logger, environment.localNodes, realNode);

  // auto
  if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(saDir, 'token'))) return connectInCluster(saDir, env);
  if (config.kubeconfig) return connectKubeconfig(config.kubeconfig, environment.homeDir);
  const defaultKubeconfig = path.join(environment.homeDir ?? os.homedir(), '.kube', 'config');
  if (existsSync(defaultKubeconfig)) return connectKubeconfig(undefined, environment.homeDir);
  logger.info('STREAMSPACE_CLUSTER=auto: not in a pod, no KUBECONFIG and no ~/.kube/config; starting the local simulated cluster');
  return connectLocal(config.dataDir, logger, environment.localNodes, realNode);
}

function connectInCluster(saDir: string, env: NodeJS.ProcessEnv): ClusterConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const tokenFile = path.join(saDir, 'token');
  const caFile = path.join(saDir, 'ca.crt');
  if (!host) {
    throw new ClusterConfigError('STREAMSPACE_CLUSTER=in-cluster, but KUBERNETES_SERVICE_HOST is not set: the server is not running in a Kubernetes pod');
  }
  for (const file of [tokenFile, caFile]) {
    if (!existsSync(file)) {
      throw new ClusterConfigError(
        `STREAMSPACE_CLUSTER=in-cluster, but ${file} does not exist (is automountServiceAccountToken disabled for the pod?)`,
      );
    }
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespaceFile = path.join(saDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const kubeConfig = new KubeConfig();
  // The token file is re-read periodically (client-node's tokenFile provider), because the kubelet rotates it.
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile, skipTLSVerify: false }],
    users: [{ name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account', namespace }],
    currentContext: 'in-cluster',
  });
  return realCluster(kubeConfig, 'in-cluster', `in-cluster ServiceAccount (${server}${namespace ? `, namespace ${namespace}` : ''})`, undefined);
}

function connectKubeconfig(kubeconfigVar: string | undefined, homeDir: string | undefined): ClusterConnection {
  const named = kubeconfigVar !== undefined;
  const files = named
    ? kubeconfigVar.split(path.delimiter).filter((f) => f !== '')
    : [path.join(homeDir ?? os.homedir(), '.kube', 'config')];
  const source = named ? `KUBECONFIG=${kubeconfigVar}` : '~/.kube/config';
  if (files.length === 0) throw new ClusterConfigError(`${source} names no file`);

  const kubeConfig = new KubeConfig();
  files.forEach((file, i) => {
    if (!existsSync(file)) {
      throw new ClusterConfigError(`${source}: kubeconfig file ${file} does not exist`);
    }
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new ClusterConfigError(`${source}: cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    // The first file decides the current context, as with kubectl.
    if (i === 0) kubeConfig.loadFromFile(file);
    else kubeConfig.mergeConfig(kc, true);
  });

  const contextName = kubeConfig.getCurrentContext();
  const context = kubeConfig.getContextObject(contextName);
  if (!contextName || !context) {
    throw new ClusterConfigError(`${source}: the kubeconfig has no current-context${contextName ? ` (context "${contextName}" is not defined)` : ''}`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server) {
    throw new ClusterConfigError(`${source}: context "${contextName}" names cluster "${context.cluster}", which is not defined or has no server`);
  }
  if (!kubeConfig.getCurrentUser()) {
    throw new ClusterConfigError(`${source}: context "${contextName}" names user "${context.user}", which is not defined`);
  }
  try {
    new URL(cluster.server);
  } catch {
    throw new ClusterConfigError(`${source}: cluster "${cluster.name}" has an invalid server URL "${cluster.server}"`);
  }
  return realCluster(kubeConfig, 'kubeconfig', `kubeconfig ${files.join(path.delimiter)} (context ${contextName}, ${cluster.server})`, files[0]);
}

function realCluster(kubeConfig: KubeConfig, mode: ClusterSource, description: string, kubeconfigPath: string | undefined): ClusterConnection {
  reuseConnections(kubeConfig);
  return {
    kubeConfig,
    mode,
    simulated: false,
    description,
    server: kubeConfig.getCurrentCluster()!.server,
    kubeconfigPath,
    ping: (timeoutMs) => pingCluster(kubeConfig, timeoutMs),
    stop: async () => {},
  };
}

async function connectLocal(dataDir: string, logger: Logger, nodes: number | undefined, realNode: boolean): Promise<ClusterConnection> {
  const log = logger.child({ component: 'local-cluster' });
  const local: LocalCluster = await startLocalCluster({
    dataDir: path.join(dataDir, 'cluster'),
    nodes,
    // Not where the machine cannot: the cluster then logs the reason once and keeps its kwok nodes.
    realNode,
    log: (msg) => log.info(msg),
  });
  // In the background: the server does not need the metrics API to start (node usage reads answer null with the
  // reason until it is there), and a cold cache builds metrics-server first. Never throws; a failure is logged.
  void local.ensureMetricsServer();
  const node = local.realNode;
  return {
    kubeConfig: local.kubeConfig,
    mode: 'local',
    simulated: node.status !== 'ready',
    description:
      node.status === 'ready'
        ? `local cluster with a real node (${node.name}) and kwok nodes: ${local.nodeNames.length}, at ${local.server}, kubeconfig ${local.kubeconfigPath}`
        : `local simulated cluster (kwok nodes: ${local.nodeNames.length}) at ${local.server}, kubeconfig ${local.kubeconfigPath}`,
    realNode:
      node.status === 'ready'
        ? { nodeSelector: { [REAL_NODE_LABEL]: 'true' }, storageClass: REAL_NODE_STORAGE_CLASS, demoTemplates: (ns) => demoTemplates(node.images, ns) }
        : undefined,
    server: local.server,
    kubeconfigPath: local.kubeconfigPath,
    ping: (timeoutMs) => pingCluster(local.kubeConfig, timeoutMs),
    stop: () => local.stop(),
  };
}

/** The API server's /version, within a deadline (readiness checks must not hang on a dead connection). */
export async function pingCluster(kubeConfig: KubeConfig, timeoutMs = 3000): Promise<{ gitVersion: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await kubeGetJson<{ gitVersion: string }>(kubeConfig, '/version', { signal, idleTimeoutMs: timeoutMs });
  } catch (err) {
    if (signal.aborted) {
      throw new Error(`the Kubernetes API server ${kubeConfig.getCurrentCluster()?.server} did not answer within ${timeoutMs} ms`, { cause: err });
    }
    throw err;
  }
}
