import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { kubeGetJson } from '../kube-http';
import type { ManagedProcess } from './managed-process';
import { freePort } from './ports';
import { runScript } from './real-node';

const execFileAsync = promisify(execFile);
const FIELD_MANAGER = 'streamspace-local-cluster';

/** The APIService that routes metrics.k8s.io/v1beta1 to metrics-server through the aggregation layer. */
export const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';
export const METRICS_SERVER_USER = 'streamspace:metrics-server';
const SERVICE_NAME = 'metrics-server';
const SERVICE_NAMESPACE = 'kube-system';
/** The CN the API server's front-proxy client certificate carries; the only one --requestheader-allowed-names accepts. */
export const FRONT_PROXY_CLIENT = 'front-proxy-client';

/** State of the metrics API of the local cluster. */
export type MetricsServerState = { status: 'off' } | { status: 'unavailable'; reason: string } | { status: 'ready'; readyMs: number };

/**
 * Certificates of the aggregation layer, beside the cluster's (pki.ts), created when missing so a persistent
 * cluster made before them gains them without a new CA: a front-proxy CA of its own (the API server's
 * --requestheader-client-ca-file: only what it signs may assert a user in request headers), the API server's
 * front-proxy client certificate, and metrics-server's serving and client certificates (cluster CA).
 */
export interface AggregatorPki {
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  metricsServerServingCert: string;
  metricsServerServingKey: string;
  metricsServerClientCert: string;
  metricsServerClientKey: string;
  /** kwok's HTTPS server (its simulated /metrics/resource), for 127.0.0.1, so metrics-server can verify it. */
  kwokServingCert: string;
  kwokServingKey: string;
}

export async function ensureAggregatorPki(dir: string, caCert: string, caKey: string): Promise<AggregatorPki> {
  const f = (n: string) => path.join(dir, n);
  const pki: AggregatorPki = {
    frontProxyCaCert: f('front-proxy-ca.crt'),
    frontProxyCaKey: f('front-proxy-ca.key'),
    frontProxyClientCert: f('front-proxy-client.crt'),
    frontProxyClientKey: f('front-proxy-client.key'),
    metricsServerServingCert: f('metrics-server-serving.crt'),
    metricsServerServingKey: f('metrics-server-serving.key'),
    metricsServerClientCert: f('metrics-server-client.crt'),
    metricsServerClientKey: f('metrics-server-client.key'),
    kwokServingCert: f('kwok-serving.crt'),
    kwokServingKey: f('kwok-serving.key'),
  };
  const openssl = (args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  if (!existsSync(pki.frontProxyCaCert) || !existsSync(pki.frontProxyCaKey)) {
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', pki.frontProxyCaKey]);
    await openssl([
      'req', '-x509', '-new', '-key', pki.frontProxyCaKey, '-sha256', '-days', '3650', '-subj', '/CN=streamspace-local-front-proxy-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out', pki.frontProxyCaCert,
    ]);
    await rm(pki.frontProxyClientCert, { force: true });
  }
  const issue = async (cert: string, key: string, ca: [string, string], serial: string, subject: string, ext: string[]) => {
    if (existsSync(cert) && existsSync(key)) return;
    const extFile = `${cert}.ext`;
    const csr = `${cert}.csr`;
    await writeFile(extFile, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...ext, ''].join('\n'));
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca[0], '-CAkey', ca[1], '-CAcreateserial', '-CAserial', f(serial), '-sha256', '-days', '3650', '-extfile', extFile, '-out', cert]);
    await rm(csr, { force: true });
    await rm(extFile, { force: true });
  };
  // One after the other: those of one CA share its serial file. The cluster CA's certificates here use a serial file
  // of their own (openssl starts it at a random 159-bit number), so this runs beside the node's (node-pki.ts).
  await issue(pki.frontProxyClientCert, pki.frontProxyClientKey, [pki.frontProxyCaCert, pki.frontProxyCaKey], 'front-proxy-ca.srl', `/CN=${FRONT_PROXY_CLIENT}`, ['extendedKeyUsage=clientAuth']);
  // The aggregator dials the Service's address but verifies the name <service>.<namespace>.svc.
  await issue(pki.metricsServerServingCert, pki.metricsServerServingKey, [caCert, caKey], 'ca-aggregator.srl', `/CN=${SERVICE_NAME}`, [
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:${SERVICE_NAME}.${SERVICE_NAMESPACE}.svc,DNS:${SERVICE_NAME}.${SERVICE_NAMESPACE}.svc.cluster.local,IP:127.0.0.1`,
  ]);
  await issue(pki.metricsServerClientCert, pki.metricsServerClientKey, [caCert, caKey], 'ca-aggregator.srl', `/CN=${METRICS_SERVER_USER}`, ['extendedKeyUsage=clientAuth']);
  await issue(pki.kwokServingCert, pki.kwokServingKey, [caCert, caKey], 'ca-aggregator.srl', '/CN=kwok', ['extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1']);
  return pki;
}

/** kube-apiserver flags of the aggregation layer (cheap: always on, so metrics-server can be added to a running cluster). */
export function aggregatorApiserverArgs(pki: AggregatorPki): string[] {
  return [
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
  ];
}

export interface MetricsServerContext {
  repoRoot: string;
  runDir: string;
  server: string;
  caCertFile: string;
  caCertPem: string;
  pki: AggregatorPki;
  kubeConfig: KubeConfig;
  /** The fake nodes and the port of kwok's HTTPS server, which simulates their kubelets' /metrics/resource. */
  kwokNodes: readonly string[];
  kwokPort: number;
  spawn: (name: string, command: string, args: string[]) => ManagedProcess;
  waitFor: (what: string, proc: ManagedProcess | undefined, check: () => Promise<boolean>) => Promise<void>;
  log: (msg: string) => void;
  stopTimeoutMs: number;
}

/** Builds (or finds in the cache) metrics-server; returns its path. */
export async function ensureMetricsServerBinary(repoRoot: string, log: (msg: string) => void): Promise<string> {
  const out = await runScript(path.join(repoRoot, 'scripts', 'k8s', 'build-metrics.sh'), [], log);
  return out.pop()!;
}

/**
 * metrics-server as a component of the local cluster: it scrapes each kubelet's /metrics/resource (the real node's;
 * kwok simulates one for its fake nodes, from each pod's simulated usage) and serves metrics.k8s.io through the API
 * server's aggregation layer. The APIService exists only while metrics-server runs: a registered API whose server
 * is gone makes discovery fail, which stalls namespace deletion.
 */
export class MetricsServer {
  private proc: ManagedProcess | undefined;

  constructor(private readonly c: MetricsServerContext) {}

  owns(p: ManagedProcess): boolean {
    return p === this.proc;
  }

  async start(): Promise<void> {
    const { c } = this;
    const binary = await ensureMetricsServerBinary(c.repoRoot, c.log);
    await Promise.all([applyObjects(c.kubeConfig, rbacObjects()), pointAtKwok(c.kubeConfig, c.kwokNodes, c.kwokPort)]);
    const kubeconfig = path.join(c.runDir, 'metrics-server.kubeconfig');
    await writeFile(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'local', cluster: { server: c.server, 'certificate-authority': c.caCertFile } }],
        users: [{ name: METRICS_SERVER_USER, user: { 'client-certificate': c.pki.metricsServerClientCert, 'client-key': c.pki.metricsServerClientKey } }],
        contexts: [{ name: 'local', context: { cluster: 'local', user: METRICS_SERVER_USER } }],
        'current-context': 'local',
      }),
      { mode: 0o600 },
    );
    const port = await freePort();
    this.proc = c.spawn('metrics-server', binary, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${path.join(c.runDir, 'metrics-server-certs')}`,
      `--tls-cert-file=${c.pki.metricsServerServingCert}`,
      `--tls-private-key-file=${c.pki.metricsServerServingKey}`,
      // The real node's kubelet: its InternalIP and the port it publishes in its status, its serving certificate
      // verified against the cluster CA, and a client certificate the kubelet authorizes (nodes/metrics).
      // kwok's fake nodes: only an ExternalIP (127.0.0.1, kwok's server), which the API server never dials
      // (--kubelet-preferred-address-types=InternalIP,Hostname), so their logs and exec fail as before.
      '--kubelet-preferred-address-types=InternalIP,ExternalIP',
      '--kubelet-use-node-status-port',
      `--kubelet-certificate-authority=${c.caCertFile}`,
      `--kubelet-client-certificate=${c.pki.metricsServerClientCert}`,
      `--kubelet-client-key=${c.pki.metricsServerClientKey}`,
      // Its lowest resolution: the first CPU figure needs two scrapes. A scrape must end within the resolution.
      '--metric-resolution=10s',
      '--kubelet-request-timeout=5s',
      '--profiling=false',
    ]);
    await this.proc.start();
    await this.registerApi(port);
    await c.waitFor('metrics-server', this.proc, async () => {
      const list = await kubeGetJson<{ kind?: string }>(c.kubeConfig, '/apis/metrics.k8s.io/v1beta1/nodes', { idleTimeoutMs: 5000 });
      return list.kind === 'NodeMetricsList';
    });
  }

  /** The Service (an ExternalName of the loopback address, as kwokctl does) and the APIService that routes to it. */
  private async registerApi(port: number): Promise<void> {
    await applyObjects(this.c.kubeConfig, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: SERVICE_NAME, namespace: SERVICE_NAMESPACE },
        spec: { type: 'ExternalName', externalName: '127.0.0.1' },
      } as KubernetesObject,
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: METRICS_API_SERVICE },
        spec: {
          service: { name: SERVICE_NAME, namespace: SERVICE_NAMESPACE, port },
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          caBundle: Buffer.from(this.c.caCertPem).toString('base64'),
          groupPriorityMinimum: 100,
          versionPriority: 100,
        },
      } as KubernetesObject,
    ]);
  }

  /** Unregisters the API, then stops the process. */
  async stop(): Promise<void> {
    await unregisterMetricsApi(this.c.kubeConfig).catch(() => {});
    await this.proc?.stop(this.c.stopTimeoutMs);
  }
}

/** Where kwok serves a fake node's /metrics/resource (its Metric's path, with the node's name). */
export const KWOK_METRICS_PATH_ANNOTATION = 'metrics.k8s.io/resource-metrics-path';

/**
 * Points metrics-server at kwok for each fake node: the path annotation metrics-server honours, an ExternalIP of
 * 127.0.0.1 and kwok's port as the node's kubelet port. Done after kwok initialised the nodes (its node-initialize
 * stage rewrites the addresses of a node that is not Ready yet), again on every start (the port changes).
 */
async function pointAtKwok(kubeConfig: KubeConfig, nodes: readonly string[], port: number): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  await Promise.all(
    nodes.map(async (name) => {
      await core.patchNode({ name, body: { metadata: { annotations: { [KWOK_METRICS_PATH_ANNOTATION]: `/metrics/nodes/${name}/metrics/resource` } } } }, merge);
      await core.patchNodeStatus(
        { name, body: { status: { addresses: [{ type: 'ExternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } } },
        merge,
      );
    }),
  );
}

/** Deletes the APIService (a persistent cluster's start does this first: its metrics-server is not running yet). */
export async function unregisterMetricsApi(kubeConfig: KubeConfig): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  try {
    await api.delete({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: METRICS_API_SERVICE } });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}

function rbacObjects(): KubernetesObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: METRICS_SERVER_USER },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: METRICS_SERVER_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: METRICS_SERVER_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: METRICS_SERVER_USER }],
    },
    // Delegated authentication and authorization of the requests the aggregator forwards.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${METRICS_SERVER_USER}:auth-delegator` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: METRICS_SERVER_USER }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${METRICS_SERVER_USER}:auth-reader`, namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: METRICS_SERVER_USER }],
    },
  ] as unknown as KubernetesObject[];
}

async function applyObjects(kubeConfig: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const obj of objects) {
    await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
}
