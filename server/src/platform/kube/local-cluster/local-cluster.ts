import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubernetesObject,
  type V1Node,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { installCrds } from '../crds';
import { type ControlPlaneBinaries, ensureBinaries, findRepoRoot } from './binaries';
import { probe } from './https-probe';
import { ManagedProcess, PidFile, sleep } from './managed-process';
import {
  aggregatorApiserverArgs,
  ensureAggregatorPki,
  MetricsServer,
  unregisterMetricsApi,
  type AggregatorPki,
  type MetricsServerState,
} from './metrics-server';
import { ensureNodePki, type NodePki } from './node-pki';
import { ensurePki, type LocalClusterPki } from './pki';
import { freePort, isPortFree } from './ports';
import { REAL_NODE_IP, REAL_NODE_NAME, type RealNodeState } from './real-node';
import { RealNode } from './real-node-runner';
import { startWatchdog } from './watchdog';
import { reuseConnections } from '../kube-agent';

export interface LocalClusterOptions {
  /**
   * Where etcd's data, the certificates and the kubeconfig live. Given: the cluster is persistent (local mode:
   * sessions survive a restart). Omitted: a temporary directory, deleted on stop (tests).
   */
  dataDir?: string;
  /** Fake nodes managed by kwok, each 16 CPU / 64Gi / 110 pods. Default 3. */
  nodes?: number;
  /** Directory whose *.yaml CustomResourceDefinitions are applied. Default <repo>/crds; null applies none. */
  crdDir?: string | null;
  /** Progress and component failures, one line each. */
  log?: (msg: string) => void;
  /** Limit for each readiness wait. Default 120 s (the first start of a 2-core machine is the slow one). */
  readyTimeoutMs?: number;
  /** Seconds a component gets between SIGTERM and SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /**
   * Also start the real node (containerd, kubelet, kube-proxy on this machine; Linux and root only). When it
   * cannot start, the cluster still starts with its kwok nodes and `realNode` says why. Default false; a running
   * cluster can add it later with ensureRealNode().
   */
  realNode?: boolean;
  /**
   * Also run metrics-server, which serves the resource metrics API (metrics.k8s.io) from the real node's kubelet and
   * kwok's simulated kubelet metrics of the fake nodes (decision 0023). Started after the rest; when it cannot start, the cluster runs without the API and `metricsServer` says why.
   * Default false; a running cluster can add it later with ensureMetricsServer().
   */
  metricsServer?: boolean;
}

export interface LocalCluster {
  /** Admin kubeconfig (token of a system:masters user), usable with kubectl. */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** etcd's client URL (http://127.0.0.1:<port>), for fault injection in tests (compaction, direct writes). */
  readonly etcdUrl: string;
  /** Root of the cluster's files: logs/, pki/, etcd/, run/. */
  readonly rootDir: string;
  readonly persistent: boolean;
  readonly nodeNames: readonly string[];
  readonly binaries: ControlPlaneBinaries;
  /**
   * Stops kube-apiserver and starts it again on the same port; resolves when /readyz is ok. `whileStopped`
   * runs in between (tests use it to change etcd behind the apiserver's back).
   */
  restartApiServer(options?: { whileStopped?: () => Promise<void> }): Promise<void>;
  /** The real node: off (never asked for), unavailable (with the reason) or ready. */
  readonly realNode: RealNodeState;
  /**
   * Starts the real node if it is not running yet (once; later calls return the same outcome). Never throws:
   * an unavailable node is reported in the result, in one log line, and the kwok nodes keep working.
   */
  ensureRealNode(): Promise<RealNodeState>;
  /** metrics-server (the metrics.k8s.io API): off (never asked for), unavailable (with the reason) or ready. */
  readonly metricsServer: MetricsServerState;
  /**
   * Starts metrics-server if it is not running yet (once; later calls return the same outcome). Never throws: a
   * failure is reported in the result and in one log line, and the rest of the cluster keeps working.
   */
  ensureMetricsServer(): Promise<MetricsServerState>;
  /** Stops every component (SIGTERM, then SIGKILL after the timeout); idempotent. */
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'streamspace-local-cluster';
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
/**
 * Every session has a Service: a /24 held 253 of them (the 254th create failed "range is full", measured with
 * 1,000 sessions), so a /16. Its first address, 10.0.0.1, is the `kubernetes` Service (named in the PKI).
 */
export const SERVICE_CIDR = '10.0.0.0/16';
const POD_CIDR = '10.244.0.1/16';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
// kwok's defaults, as its own `kwokctl create cluster` uses them: fast node start, lease heartbeats,
// pods Ready as soon as they are scheduled, Jobs' pods complete, deleted pods go away.
const KWOK_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
  // A simulated storage provisioner: claims of the default StorageClass (kwok-volume, created below) get a
  // PersistentVolume and bind, so pods with volumes (session home directories) schedule and run.
  'volume/fast/pvc-provision.yaml',
  'volume/fast/pv-bind.yaml',
  'volume/fast/pvc-delete.yaml',
  'volume/fast/pv-delete.yaml',
];
const KWOK_STORAGE_CLASS = 'volume/fast/storage-class.yaml';
/** kwok's simulated resource usage and kubelet resource metrics (a copy of its kustomize/metrics files). */
const KWOK_METRICS_CONFIG = 'scripts/k8s/kwok-metrics.yaml';

/** Clusters of this process, so exit and signal handlers can stop what would otherwise be orphaned. */
const activeClusters = new Set<LocalClusterImpl>();

/**
 * Starts a real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (RBAC, ServiceAccount tokens),
 * kube-controller-manager, kube-scheduler and kwok, which plays the kubelet of `nodes` fake nodes so that pods
 * reach Running without containers. Applies the CRDs and resolves once the nodes are Ready and every CRD is
 * Established.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const repoRoot = findRepoRoot();
  const binaries = await ensureBinaries({ repoRoot, log });

  const persistent = options.dataDir !== undefined;
  const rootDir = persistent ? path.resolve(options.dataDir!) : await mkdtemp(path.join(os.tmpdir(), 'streamspace-k8s-'));
  const cluster = new LocalClusterImpl({
    rootDir,
    persistent,
    binaries,
    nodes: options.nodes ?? 3,
    crdDir: options.crdDir === undefined ? path.join(repoRoot, 'crds') : options.crdDir,
    log,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    repoRoot,
  });
  try {
    await cluster.start();
    if (options.realNode) await cluster.ensureRealNode();
    if (options.metricsServer) await cluster.ensureMetricsServer();
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
  log(`control plane ready at ${cluster.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (${persistent ? 'data in' : 'temporary'} ${rootDir})`);
  return cluster;
}

interface ClusterSettings {
  rootDir: string;
  persistent: boolean;
  binaries: ControlPlaneBinaries;
  nodes: number;
  crdDir: string | null;
  log: (msg: string) => void;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  repoRoot: string;
}

/** Ports a persistent cluster tries to keep, so a kubeconfig handed to kubectl stays valid across restarts. */
interface SavedPorts {
  apiserver?: number;
  etcdClient?: number;
  etcdPeer?: number;
}

class LocalClusterImpl implements LocalCluster {
  readonly kubeconfigPath: string;
  readonly kubeConfig = reuseConnections(new KubeConfig());
  server = '';
  etcdUrl = '';
  readonly nodeNames: string[];
  private pki!: LocalClusterPki;
  private nodePki!: NodePki;
  private realNodeRunner: RealNode | undefined;
  private realNodePromise: Promise<RealNodeState> | undefined;
  realNode: RealNodeState = { status: 'off' };
  private aggregatorPki!: AggregatorPki;
  private kwokPort = 0;
  private metricsServerRunner: MetricsServer | undefined;
  private metricsServerPromise: Promise<MetricsServerState> | undefined;
  metricsServer: MetricsServerState = { status: 'off' };
  private pidFile!: PidFile;
  private watchdogPid: number | undefined;
  private processes: ManagedProcess[] = [];
  private apiserver!: ManagedProcess;
  private stopPromise: Promise<void> | undefined;
  private readonly dirs: { logs: string; run: string; etcd: string; pki: string };

  constructor(private readonly s: ClusterSettings) {
    this.dirs = {
      logs: path.join(s.rootDir, 'logs'),
      run: path.join(s.rootDir, 'run'),
      etcd: path.join(s.rootDir, 'etcd'),
      pki: path.join(s.rootDir, 'pki'),
    };
    this.kubeconfigPath = path.join(s.rootDir, 'kubeconfig');
    this.nodeNames = Array.from({ length: s.nodes }, (_, i) => `kwok-node-${i}`);
  }

  get rootDir(): string {
    return this.s.rootDir;
  }

  get persistent(): boolean {
    return this.s.persistent;
  }

  get binaries(): ControlPlaneBinaries {
    return this.s.binaries;
  }

  async start(): Promise<void> {
    const { log } = this.s;
    await mkdir(this.dirs.logs, { recursive: true });
    await mkdir(this.dirs.run, { recursive: true, mode: 0o700 });

    // Guard first, spawn second: the pid file and the watchdog exist before the first child does, so there is
    // no moment at which a SIGKILL of this process would orphan a component.
    const pidFilePath = path.join(this.dirs.run, 'pids.json');
    await PidFile.reapStale(pidFilePath, log);
    this.pidFile = new PidFile(pidFilePath, this.s.persistent ? undefined : this.s.rootDir);
    this.pidFile.save();
    this.watchdogPid = startWatchdog(pidFilePath, this.s.stopTimeoutMs);
    activeClusters.add(this);
    installProcessHandlers();

    this.pki = await ensurePki(this.dirs.pki);
    // Cheap (five certificates), and it lets the API server reach a real node added later (ensureRealNode).
    // Beside them, the aggregation layer's certificates (front proxy, metrics-server, kwok's server): the API server
    // always runs with them, so metrics-server can join a running cluster (ensureMetricsServer).
    [this.nodePki, this.aggregatorPki] = await Promise.all([
      ensureNodePki(this.dirs.pki, this.pki.caCertFile, this.pki.caKeyFile, REAL_NODE_NAME, REAL_NODE_IP),
      ensureAggregatorPki(this.dirs.pki, this.pki.caCertFile, this.pki.caKeyFile),
    ]);
    const ports = await this.choosePorts();
    this.server = `https://127.0.0.1:${ports.apiserver}`;
    this.etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    await this.writeKubeconfigs();

    const etcd = this.spawnComponent('etcd', this.s.binaries.etcd, this.etcdArgs(ports));
    await etcd.start();
    await this.waitFor('etcd', etcd, async () => {
      const res = await probe(`http://127.0.0.1:${ports.etcdClient}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    });

    this.apiserver = this.spawnComponent('kube-apiserver', this.s.binaries.kubeApiserver, this.apiserverArgs(ports));
    await this.apiserver.start();
    await this.waitForApiServer();
    // A persistent cluster keeps the metrics APIService of its last run in etcd, pointing at a metrics-server that
    // is gone: discovery would fail, and namespace deletion with it, until a new one registers.
    if (this.s.persistent) await unregisterMetricsApi(this.kubeConfig);

    const [kcmPort, schedulerPort] = [await freePort(), await freePort()];
    const kcm = this.spawnComponent('kube-controller-manager', this.s.binaries.kubeControllerManager, [
      `--kubeconfig=${this.runFile('kube-controller-manager.kubeconfig')}`,
      `--authentication-kubeconfig=${this.runFile('kube-controller-manager.kubeconfig')}`,
      `--authorization-kubeconfig=${this.runFile('kube-controller-manager.kubeconfig')}`,
      // No front proxy here: without this, both components log an error about its missing CA bundle on every resync.
      '--authentication-skip-lookup=true',
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${this.runFile('kube-controller-manager-certs')}`,
      // A single instance: leader election would only add a lease wait to every restart.
      '--leader-elect=false',
      '--controllers=*',
      '--enable-garbage-collector=true',
      // Each controller gets its own ServiceAccount and RBAC role, as in a real cluster, and the token
      // controller can sign ServiceAccount tokens and publish the CA (kube-root-ca.crt) to every namespace.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${this.pki.serviceAccountKeyFile}`,
      `--root-ca-file=${this.pki.caCertFile}`,
      `--cluster-signing-cert-file=${this.pki.caCertFile}`,
      `--cluster-signing-key-file=${this.pki.caKeyFile}`,
      '--cluster-name=streamspace-local',
      // The default client rate (20 requests/s per controller) would make the Deployment and ReplicaSet controllers,
      // not the platform, what a thousand sessions starting at once wait for.
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ]);
    const scheduler = this.spawnComponent('kube-scheduler', this.s.binaries.kubeScheduler, [
      `--kubeconfig=${this.runFile('kube-scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${this.runFile('kube-scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${this.runFile('kube-scheduler.kubeconfig')}`,
      '--authentication-skip-lookup=true',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${this.runFile('kube-scheduler-certs')}`,
      '--leader-elect=false',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ]);
    const kwokHome = this.runFile('kwok-home');
    this.kwokPort = await freePort();
    await mkdir(kwokHome, { recursive: true });
    const kwok = this.spawnComponent(
      'kwok',
      this.s.binaries.kwok,
      [
        `--kubeconfig=${this.runFile('kwok.kubeconfig')}`,
        // Only nodes carrying kwok's annotation are simulated, so a real kubelet joining would not be fought over.
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
        `--config=${[...KWOK_STAGES.map((s) => path.join(this.s.binaries.stageDir, s)), path.join(this.s.repoRoot, KWOK_METRICS_CONFIG)].join(',')}`,
        // Its HTTPS server simulates each fake node's kubelet /metrics/resource for metrics-server (ensureMetricsServer).
        `--server-address=127.0.0.1:${this.kwokPort}`,
        `--tls-cert-file=${this.aggregatorPki.kwokServingCert}`,
        `--tls-private-key-file=${this.aggregatorPki.kwokServingKey}`,
        '--node-lease-duration-seconds=40',
        // The default /24 runs out of pod IPs at 254 pods; 3 nodes x 110 pods need more.
        `--cidr=${POD_CIDR}`,
      ],
      // kwok also reads ~/.kwok/kwok.yaml when it exists; a private HOME keeps a developer's file out of it.
      { ...process.env, HOME: kwokHome },
    );
    await Promise.all([kcm.start(), scheduler.start(), kwok.start()]);

    await Promise.all([this.ensureNodes(), this.applyStorageClass()]);
    await Promise.all([
      this.s.crdDir ? installCrds(this.kubeConfig, { dir: this.s.crdDir, timeoutMs: this.s.readyTimeoutMs }) : undefined,
      this.waitForNodesReady(kwok),
      // The default ServiceAccount appears once the controller manager's controllers run; pods need it.
      this.waitFor('kube-controller-manager', kcm, async () => {
        const core = this.kubeConfig.makeApiClient(CoreV1Api);
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      }),
      this.waitFor('kube-scheduler', scheduler, async () => {
        // The scheduler serves a self-signed certificate it made itself; nothing secret crosses this probe.
        const res = await probe(`https://127.0.0.1:${schedulerPort}/readyz`, { insecure: true });
        return res.status === 200;
      }),
    ]);
  }

  async restartApiServer(options: { whileStopped?: () => Promise<void> } = {}): Promise<void> {
    if (this.stopPromise) throw new Error('the local cluster is stopped');
    await this.apiserver.stop(this.s.stopTimeoutMs);
    await options.whileStopped?.();
    await this.apiserver.start();
    await this.waitForApiServer();
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  ensureRealNode(): Promise<RealNodeState> {
    this.realNodePromise ??= this.startRealNode();
    return this.realNodePromise;
  }

  ensureMetricsServer(): Promise<MetricsServerState> {
    this.metricsServerPromise ??= this.startMetricsServer();
    return this.metricsServerPromise;
  }

  private async startMetricsServer(): Promise<MetricsServerState> {
    const { log } = this.s;
    const runner = new MetricsServer({
      repoRoot: this.s.repoRoot,
      runDir: this.dirs.run,
      server: this.server,
      caCertFile: this.pki.caCertFile,
      caCertPem: this.pki.caCertPem,
      pki: this.aggregatorPki,
      kubeConfig: this.kubeConfig,
      kwokNodes: this.nodeNames,
      kwokPort: this.kwokPort,
      spawn: (name, command, args) => this.spawnComponent(name, command, args),
      waitFor: (what, proc, check) => this.waitFor(what, proc, check),
      log,
      stopTimeoutMs: this.s.stopTimeoutMs,
    });
    this.metricsServerRunner = runner;
    const started = Date.now();
    try {
      await runner.start();
      this.metricsServer = { status: 'ready', readyMs: Date.now() - started };
      log(`metrics-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s (metrics.k8s.io; figures of nodes with a kubelet, after its first two scrapes)`);
    } catch (err) {
      const reason = oneLineReason((err as Error).message);
      this.metricsServer = { status: 'unavailable', reason };
      log(`metrics-server unavailable, the cluster runs without the metrics API: ${reason}`);
      await runner.stop().catch(() => {});
      this.processes = this.processes.filter((p) => !runner.owns(p));
      this.metricsServerRunner = undefined;
    }
    return this.metricsServer;
  }

  private async startRealNode(): Promise<RealNodeState> {
    const { log } = this.s;
    const runner = new RealNode({
      rootDir: this.s.rootDir,
      repoRoot: this.s.repoRoot,
      server: this.server,
      kubeConfig: this.kubeConfig,
      caCertFile: this.pki.caCertFile,
      caCertPem: this.pki.caCertPem,
      nodePki: this.nodePki,
      pidFile: this.pidFile,
      spawn: (name, command, args, env) => this.spawnComponent(name, command, args, env),
      waitFor: (what, proc, check) => this.waitFor(what, proc, check),
      log,
      stopTimeoutMs: this.s.stopTimeoutMs,
    });
    this.realNodeRunner = runner;
    const started = Date.now();
    try {
      const { images, networkPolicy } = await runner.start();
      this.realNode = { status: 'ready', name: REAL_NODE_NAME, images, readyMs: Date.now() - started, networkPolicy };
      const agent = networkPolicy.enforced ? `, NetworkPolicy enforced by ${networkPolicy.agent} (${networkPolicy.queueing} queueing)` : '';
      log(`real node ${REAL_NODE_NAME} Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (containerd, kubelet, kube-proxy${agent}; pods opt in with nodeSelector/toleration streamspace.io/real-node)`);
      if (!networkPolicy.enforced) log(`real node: NetworkPolicy is not enforced (pods reach each other whatever the policies say): ${networkPolicy.reason}`);
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!;
      this.realNode = { status: 'unavailable', reason };
      log(`real node unavailable, sessions run on simulated kwok nodes only: ${reason}`);
      await runner.stop().catch(() => {});
      this.processes = this.processes.filter((p) => !runner.owns(p));
    }
    return this.realNode;
  }

  /** For the process 'exit' handler: signal everything, synchronously; the watchdog finishes the job. */
  killNow(): void {
    for (const p of this.processes) p.killNow('SIGTERM');
  }

  private async doStop(): Promise<void> {
    const timeout = this.s.stopTimeoutMs;
    const byName = (n: string) => this.processes.filter((p) => p.spec.name === n);
    // metrics-server first, its APIService removed while the API server still answers.
    await this.metricsServerRunner?.stop().catch(() => {});
    // The real node first: kubelet and kube-proxy are clients of the API server, and containers must go before
    // the mounts and the bridge they use.
    await this.realNodeRunner?.stop();
    // Clients of the apiserver first, etcd last, so nothing logs a storm of connection errors on the way down.
    await Promise.all(this.processes.filter((p) => !['kube-apiserver', 'etcd'].includes(p.spec.name)).map((p) => p.stop(timeout)));
    await Promise.all(byName('kube-apiserver').map((p) => p.stop(timeout)));
    await Promise.all(byName('etcd').map((p) => p.stop(timeout)));
    this.pidFile?.remove();
    if (this.watchdogPid) {
      try {
        process.kill(this.watchdogPid, 'SIGTERM');
      } catch {
        // it noticed the missing pid file and left already
      }
    }
    activeClusters.delete(this);
    if (activeClusters.size === 0) uninstallProcessHandlers();
    if (!this.s.persistent) await rm(this.s.rootDir, { recursive: true, force: true });
  }

  private runFile(name: string): string {
    return path.join(this.dirs.run, name);
  }

  private spawnComponent(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): ManagedProcess {
    const proc = new ManagedProcess({ name, command, args, env, logFile: path.join(this.dirs.logs, `${name}.log`) }, this.pidFile);
    proc.onUnexpectedExit = (info) => {
      this.s.log(
        `${name} exited unexpectedly (${info.signal ?? `code ${info.code}`}); last lines of ${proc.spec.logFile}:\n${proc.logTail(15)}`,
      );
    };
    this.processes.push(proc);
    return proc;
  }

  private async choosePorts(): Promise<Required<SavedPorts>> {
    const file = this.runFile('ports.json');
    let saved: SavedPorts = {};
    if (this.s.persistent && existsSync(file)) {
      saved = JSON.parse(await readFile(file, 'utf8')) as SavedPorts;
    }
    const pick = async (p: number | undefined) => (p && (await isPortFree(p)) ? p : freePort());
    const ports = { apiserver: await pick(saved.apiserver), etcdClient: await pick(saved.etcdClient), etcdPeer: await pick(saved.etcdPeer) };
    // The three picks are separate calls, so make sure they did not land on the same port.
    while (new Set(Object.values(ports)).size < 3) ports.etcdPeer = await freePort();
    if (saved.apiserver && saved.apiserver !== ports.apiserver) {
      this.s.log(`port ${saved.apiserver} is taken; the apiserver moves to ${ports.apiserver} (the kubeconfig is rewritten)`);
    }
    await writeFile(file, JSON.stringify(ports));
    return ports;
  }

  private etcdArgs(ports: Required<SavedPorts>): string[] {
    const peer = `http://127.0.0.1:${ports.etcdPeer}`;
    const client = `http://127.0.0.1:${ports.etcdClient}`;
    return [
      '--name=streamspace',
      `--data-dir=${this.dirs.etcd}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=streamspace=${peer}`,
      '--log-level=warn',
      // A throw-away cluster does not need its writes on disk; skipping fsync makes tests much faster.
      // A persistent one keeps fsync so a crash cannot lose sessions.
      ...(this.s.persistent ? [] : ['--unsafe-no-fsync']),
    ];
  }

  private apiserverArgs(ports: Required<SavedPorts>): string[] {
    return [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${this.runFile('kube-apiserver-certs')}`,
      `--tls-cert-file=${this.pki.servingCertFile}`,
      `--tls-private-key-file=${this.pki.servingKeyFile}`,
      `--client-ca-file=${this.pki.caCertFile}`,
      `--token-auth-file=${this.pki.tokenAuthFile}`,
      // Node: each kubelet reads and writes only what belongs to its node (a real node's kubelet; kwok is admin).
      '--authorization-mode=Node,RBAC',
      // Logs, exec and port-forward to a real kubelet: a client certificate, a verified serving certificate, and
      // the node's InternalIP (its hostname resolves nowhere).
      `--kubelet-client-certificate=${this.nodePki.apiserverKubeletClientCert}`,
      `--kubelet-client-key=${this.nodePki.apiserverKubeletClientKey}`,
      `--kubelet-certificate-authority=${this.pki.caCertFile}`,
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${this.pki.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${this.pki.serviceAccountKeyFile}`,
      '--allow-privileged=true',
      // The endpoint reconciler would publish 127.0.0.1 as the kubernetes Service's endpoint, which endpoint
      // validation rejects (loopback) and logs about forever; nothing in a simulated cluster dials it anyway.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      ...aggregatorApiserverArgs(this.aggregatorPki),
    ];
  }

  private async writeKubeconfigs(): Promise<void> {
    const caData = Buffer.from(this.pki.caCertPem).toString('base64');
    const kubeconfig = (user: string, token: string) => ({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'streamspace-local', cluster: { server: this.server, 'certificate-authority-data': caData } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'streamspace-local', context: { cluster: 'streamspace-local', user } }],
      'current-context': 'streamspace-local',
    });
    const write = (file: string, user: string, token: string) =>
      writeFile(file, stringify(kubeconfig(user, token)), { mode: 0o600 });
    await Promise.all([
      write(this.kubeconfigPath, 'admin', this.pki.tokens.admin),
      write(this.runFile('kube-controller-manager.kubeconfig'), 'kube-controller-manager', this.pki.tokens.controllerManager),
      write(this.runFile('kube-scheduler.kubeconfig'), 'kube-scheduler', this.pki.tokens.scheduler),
      write(this.runFile('kwok.kubeconfig'), 'kwok', this.pki.tokens.kwok),
    ]);
    this.kubeConfig.loadFromFile(this.kubeconfigPath);
  }

  private async waitForApiServer(): Promise<void> {
    await this.waitFor('kube-apiserver', this.apiserver, async () => {
      const res = await probe(`${this.server}/readyz`, { ca: this.pki.caCertPem, token: this.pki.tokens.admin });
      return res.status === 200;
    });
  }

  /**
   * Polls `check` until it returns true. Fails early, with the end of the component's log, when the component
   * exits, and after readyTimeoutMs with the last error, so a broken start says why instead of hanging.
   */
  private async waitFor(what: string, proc: ManagedProcess | undefined, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.s.readyTimeoutMs;
    let lastError: string;
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      if (this.stopPromise) throw new Error(`the local cluster was stopped while waiting for ${what}`);
      if (proc && !proc.running) {
        throw new Error(`${proc.spec.name} exited during start (${proc.exitInfo?.signal ?? `code ${proc.exitInfo?.code}`}):\n${proc.logTail()}`);
      }
      try {
        if (await check()) return;
        lastError = 'not ready yet';
      } catch (err) {
        lastError = (err as Error).message.split('\n')[0];
      }
      if (Date.now() > deadline) {
        const tail = proc ? `\nlast lines of ${proc.spec.logFile}:\n${proc.logTail()}` : '';
        throw new Error(`${what} was not ready after ${this.s.readyTimeoutMs / 1000} s (${lastError})${tail}`);
      }
      await sleep(delay);
    }
  }

  /** kwok's StorageClass (default class, provisioner kwok.x-k8s.io/volume), served by the volume stages. */
  private async applyStorageClass(): Promise<void> {
    const file = path.join(this.s.binaries.stageDir, KWOK_STORAGE_CLASS);
    const obj = loadAllYaml(await readFile(file, 'utf8'))[0] as KubernetesObject;
    try {
      await KubernetesObjectApi.makeApiClient(this.kubeConfig).patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new Error(`applying ${file} failed: ${describeApiError(err)}`, { cause: err });
    }
  }

  /** Creates the fake nodes (or keeps those a persistent cluster already has) and removes surplus ones. */
  private async ensureNodes(): Promise<void> {
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const existing = await core.listNode({ labelSelector: 'type=kwok' });
    const wanted = new Set(this.nodeNames);
    for (const node of existing.items) {
      if (!wanted.has(node.metadata!.name!)) await core.deleteNode({ name: node.metadata!.name! });
    }
    const have = new Set(existing.items.map((n) => n.metadata!.name!));
    await Promise.all(this.nodeNames.filter((n) => !have.has(n)).map((name) => core.createNode({ body: fakeNode(name) })));
  }

  private async waitForNodesReady(kwok: ManagedProcess): Promise<void> {
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    await this.waitFor('kwok nodes', kwok, async () => {
      const nodes = await core.listNode({ labelSelector: 'type=kwok' });
      const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === this.nodeNames.length;
    });
  }
}

/**
 * The first line of a start failure, and when the rest is a component's log tail, the last line of it that says
 * what went wrong (a Go panic, a fatal error): "exited during start (code 2)" alone explains nothing.
 */
export function oneLineReason(message: string): string {
  const [first, ...rest] = message.split('\n');
  const cause = rest
    .map((l) => l.trim())
    .filter((l) => /^(panic:|F\d{4} |E\d{4} |Error:|error:)/.test(l))
    .pop();
  return cause ? `${first!.replace(/:$/, '')}: ${cause}` : first!;
}

/** A node that only exists for kwok: its status is what the scheduler sees; kwok keeps it Ready. */
function fakeNode(name: string): V1Node {
  const resources = { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'kwok',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: 'kwok',
        machineID: '',
        operatingSystem: 'linux',
        osImage: '',
        systemUUID: '',
      },
      phase: 'Running',
    },
  };
}

/** The API server's own message from a client-node ApiException, which otherwise prints headers and all. */
export function describeApiError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON
    }
  }
  const message = (body as { message?: string } | undefined)?.message;
  if (e.code !== undefined && message) return `${e.code}: ${message}`;
  return e.message ?? String(err);
}

// --- process-wide cleanup ------------------------------------------------------------------------------

const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handlersInstalled = false;

function onExit(): void {
  for (const cluster of activeClusters) cluster.killNow();
}

/**
 * On a signal, stop the clusters properly (etcd gets to flush), then let the signal do what it would have done.
 * If the host program has its own handler for the signal (the `npm run cluster` CLI, the server's graceful
 * shutdown, a test runner), that handler owns the shutdown and calls stop() when its own clients of the cluster
 * are done: stopping here too would pull the API server away from a server that is still draining. Should the
 * host exit without stopping, the 'exit' handler, the parent-death signal and the watchdog still clean up.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  const stops = Promise.all([...activeClusters].map((c) => c.stop().catch(() => {})));
  const force = setTimeout(() => reraise(signal), 30_000);
  force.unref();
  void stops.then(() => reraise(signal));
}

function reraise(signal: NodeJS.Signals): void {
  uninstallProcessHandlers();
  process.kill(process.pid, signal);
}

function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  for (const sig of HANDLED_SIGNALS) process.on(sig, onSignal);
}

function uninstallProcessHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.removeListener('exit', onExit);
  for (const sig of HANDLED_SIGNALS) process.removeListener(sig, onSignal);
}
