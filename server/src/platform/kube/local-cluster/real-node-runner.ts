import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { probe } from './https-probe';
import type { ManagedProcess, PidFile } from './managed-process';
import { APISERVER_KUBELET_CLIENT_USER, NETPOL_AGENT_USER, type NodePki } from './node-pki';
import { freePort } from './ports';
import {
  acquireRealNodeLock,
  ensureBridge,
  ensureNodeBinaries,
  ensureNetpolAgent,
  ensureNodeImages,
  importImages,
  NETPOL_AGENT,
  NETPOL_QUEUE,
  NETPOL_TABLE,
  installIptablesQueueing,
  netpolPreflight,
  netpolQueueBound,
  removeIptablesQueueing,
  REAL_NODE_BRIDGE,
  REAL_NODE_IP,
  REAL_NODE_LABEL,
  REAL_NODE_NAME,
  realNodeLayout,
  realNodePreflight,
  releaseRealNodeLock,
  writeCniConfig,
  writeContainerdConfig,
  writeKubeletConfig,
  writeKubeProxyConfig,
  type NetpolQueueing,
  type NetworkPolicyState,
  type RealNodeImages,
  type RealNodeLayout,
} from './real-node';

const execFileAsync = promisify(execFile);
const FIELD_MANAGER = 'streamspace-local-cluster';
/** StorageClass of the harness's static local PersistentVolumes on the real node (no provisioner). */
export const REAL_NODE_STORAGE_CLASS = 'streamspace-local';
/** How many static volumes the harness keeps available (a claim binds one; released ones are recycled on start). */
const STATIC_VOLUMES = 20;

export interface RealNodeContext {
  rootDir: string;
  repoRoot: string;
  server: string;
  kubeConfig: KubeConfig;
  caCertFile: string;
  caCertPem: string;
  nodePki: NodePki;
  pidFile: PidFile;
  spawn: (name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) => ManagedProcess;
  waitFor: (what: string, proc: ManagedProcess | undefined, check: () => Promise<boolean>) => Promise<void>;
  log: (msg: string) => void;
  stopTimeoutMs: number;
}

/**
 * Runs the real node: containerd (its own root, state, socket and config under <cluster>/node), the CNI bridge,
 * kubelet, kube-proxy and the NetworkPolicy agent. Registered as `streamspace-node` with a NoSchedule taint beside
 * the kwok nodes. The node runs without the agent when this machine cannot run it (networkPolicy says why).
 */
export class RealNode {
  private readonly layout: RealNodeLayout;
  private readonly procs: ManagedProcess[] = [];
  private cleanupCommand: string[] | undefined;
  private locked = false;
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly c: RealNodeContext) {
    this.layout = realNodeLayout(c.rootDir);
  }

  owns(p: ManagedProcess): boolean {
    return this.procs.includes(p);
  }

  async start(): Promise<{ images: RealNodeImages; networkPolicy: NetworkPolicyState }> {
    const { c, layout: l } = this;
    const reason = realNodePreflight();
    if (reason) throw new Error(reason);
    const [binaries, images, netpolAgent] = await Promise.all([
      ensureNodeBinaries(c.repoRoot, c.log),
      ensureNodeImages(c.repoRoot, c.log),
      // Never fails the node: an agent that cannot be built or run leaves NetworkPolicy unenforced, with the reason.
      (async (): Promise<{ path: string; queueing: NetpolQueueing } | { reason: string }> => {
        const pre = netpolPreflight();
        if ('reason' in pre) return pre;
        return ensureNetpolAgent(c.repoRoot, c.log).then(
          (p) => ({ path: p, queueing: pre.queueing }),
          (err: Error) => ({ reason: err.message.split('\n')[0]! }),
        );
      })(),
    ]);

    await mkdir(l.dir, { recursive: true, mode: 0o700 });
    this.cleanupCommand = [path.join(c.repoRoot, 'scripts', 'k8s', 'node-cleanup.sh'), l.dir, REAL_NODE_BRIDGE, binaries.kubeProxy];
    const busy = acquireRealNodeLock(l.dir, this.cleanupCommand, c.log);
    if (busy) throw new Error(busy);
    this.locked = true;
    // From here on, a SIGKILL of the owner leaves containers and mounts: the watchdog runs the cleanup.
    c.pidFile.setCleanup(this.cleanupCommand);

    await Promise.all([writeContainerdConfig(l, images.refs.pause), writeCniConfig(l), ensureBridge(), this.applyObjects()]);
    const containerd = this.spawn('containerd', 'containerd', ['--config', l.containerdConfig]);
    await containerd.start();
    await c.waitFor('containerd', containerd, async () => {
      if (!existsSync(l.socket)) return false;
      await execFileAsync('ctr', ['--address', l.socket, 'version'], { timeout: 5000 });
      return true;
    });
    const importStart = Date.now();
    await importImages(l.socket, [images.refs.pause, images.refs.webapp, images.refs.desktop], images.archives);
    c.log(`real node: images ready in containerd in ${((Date.now() - importStart) / 1000).toFixed(1)} s`);

    const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
    await Promise.all([
      writeKubeletConfig(l, {
        port: kubeletPort,
        healthzPort: kubeletHealthz,
        caFile: c.caCertFile,
        tlsCertFile: c.nodePki.kubeletServingCert,
        tlsKeyFile: c.nodePki.kubeletServingKey,
      }),
      writeKubeProxyConfig(l, proxyHealthz, proxyMetrics),
      this.writeKubeconfig(l.kubeletKubeconfig, 'kubelet', c.nodePki.kubeletClientCert, c.nodePki.kubeletClientKey),
      this.writeKubeconfig(l.kubeProxyKubeconfig, 'kube-proxy', c.nodePki.kubeProxyClientCert, c.nodePki.kubeProxyClientKey),
      this.writeKubeconfig(l.netpolKubeconfig, NETPOL_AGENT_USER, c.nodePki.netpolAgentClientCert, c.nodePki.netpolAgentClientKey),
    ]);
    const kubelet = this.spawn('kubelet', binaries.kubelet, [
      `--config=${l.kubeletConfig}`,
      `--kubeconfig=${l.kubeletKubeconfig}`,
      `--root-dir=${l.kubeletDir}`,
      `--hostname-override=${REAL_NODE_NAME}`,
      `--node-ip=${REAL_NODE_IP}`,
      `--node-labels=${REAL_NODE_LABEL}=true,type=real`,
      `--cert-dir=${path.join(l.kubeletDir, 'pki')}`,
      '--v=1',
    ]);
    const kubeProxy = this.spawn('kube-proxy', binaries.kubeProxy, [`--config=${l.kubeProxyConfig}`, '--v=1']);
    await Promise.all([kubelet.start(), kubeProxy.start()]);
    // Started beside kubelet, and ready before the node is reported ready, so no pod of a test or a session runs
    // unenforced; its own failure only turns enforcement off.
    const networkPolicy = 'path' in netpolAgent ? this.startNetpolAgent(netpolAgent.path, netpolAgent.queueing) : Promise.resolve({ enforced: false as const, reason: netpolAgent.reason });

    const core = c.kubeConfig.makeApiClient(CoreV1Api);
    await c.waitFor(`real node ${REAL_NODE_NAME}`, kubelet, async () => {
      const node = await core.readNode({ name: REAL_NODE_NAME });
      const ready = node.status?.conditions?.find((x) => x.type === 'Ready');
      if (ready?.status !== 'True') throw new Error(`not Ready: ${ready?.reason ?? 'no condition yet'} ${ready?.message ?? ''}`.trim());
      return true;
    });
    await c.waitFor('kube-proxy', kubeProxy, async () => (await probe(`http://127.0.0.1:${proxyHealthz}/healthz`)).status === 200);
    return { images: images.refs, networkPolicy: await networkPolicy };
  }

  /**
   * kube-network-policies' controller for this node only. The first packet of each new connection of a pod goes to
   * its NFQUEUE (through its own nftables table, or the node's iptables chain where the kernel has no nftables
   * queue expression), and it answers accept or drop from the policies. Ready once its queue is bound (and, with
   * nftables, its table exists).
   */
  private async startNetpolAgent(agent: string, queueing: NetpolQueueing): Promise<NetworkPolicyState> {
    const { c, layout: l } = this;
    const proc = this.spawn('netpol-agent', agent, [
      `--kubeconfig=${l.netpolKubeconfig}`,
      `--hostname-override=${REAL_NODE_NAME}`,
      `--nftables-table=${NETPOL_TABLE}`,
      `--nfqueue-id=${NETPOL_QUEUE}`,
      '--v=1',
    ]);
    const started = Date.now();
    try {
      if (queueing === 'iptables') await installIptablesQueueing();
      await proc.start();
      await c.waitFor('the NetworkPolicy agent', proc, async () => {
        if (!netpolQueueBound()) return false;
        if (queueing === 'nftables') await execFileAsync('nft', ['list', 'table', 'inet', NETPOL_TABLE], { timeout: 5000 });
        return true;
      });
      c.log(`real node: NetworkPolicy agent ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${queueing} queueing)`);
      return { enforced: true, agent: NETPOL_AGENT, queueing };
    } catch (err) {
      await proc.stop(c.stopTimeoutMs).catch(() => {});
      if (queueing === 'iptables') await removeIptablesQueueing();
      return { enforced: false, reason: `the NetworkPolicy agent did not start: ${(err as Error).message.split('\n')[0]}` };
    }
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    const t = this.c.stopTimeoutMs;
    const named = (n: string) => this.procs.filter((p) => p.spec.name === n);
    await Promise.all([...named('kubelet'), ...named('kube-proxy'), ...named('netpol-agent')].map((p) => p.stop(t)));
    await Promise.all(named('containerd').map((p) => p.stop(t)));
    if (this.cleanupCommand) {
      const res = spawnSync(this.cleanupCommand[0]!, this.cleanupCommand.slice(1), { encoding: 'utf8', timeout: 120_000 });
      if (res.status !== 0) this.c.log(`real node cleanup: ${(res.stderr || res.error?.message || `exit ${res.status}`).trim()}`);
      this.c.pidFile.setCleanup(undefined);
    }
    if (this.locked) releaseRealNodeLock();
  }

  private spawn(name: string, command: string, args: string[]): ManagedProcess {
    const p = this.c.spawn(name, command, args);
    this.procs.push(p);
    return p;
  }

  private async writeKubeconfig(file: string, user: string, cert: string, key: string): Promise<void> {
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'streamspace-local', cluster: { server: this.c.server, 'certificate-authority-data': Buffer.from(this.c.caCertPem).toString('base64') } }],
      users: [{ name: user, user: { 'client-certificate': cert, 'client-key': key } }],
      contexts: [{ name: 'streamspace-local', context: { cluster: 'streamspace-local', user } }],
      'current-context': 'streamspace-local',
    };
    await writeFile(file, stringify(config), { mode: 0o600 });
  }

  /**
   * RBAC for the API server's calls to the kubelet, and the storage of persistent homes: a StorageClass without
   * a provisioner and static `local` PersistentVolumes, each a directory under <cluster>/node/volumes, pinned to
   * the real node. A claim binds one when its pod is scheduled (WaitForFirstConsumer); it keeps the data across
   * pod deletions (hibernate), and Retain keeps a released volume's data until the harness recycles it.
   */
  private async applyObjects(): Promise<void> {
    const client = KubernetesObjectApi.makeApiClient(this.c.kubeConfig);
    const apply = (obj: KubernetesObject) => client.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'streamspace:apiserver-kubelet-client' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: APISERVER_KUBELET_CLIENT_USER }],
    } as KubernetesObject);
    // The NetworkPolicy agent watches pods, namespaces and policies, and records events (as its chart's role does).
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NETPOL_AGENT_USER },
      rules: [
        { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
      ],
    } as KubernetesObject);
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NETPOL_AGENT_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NETPOL_AGENT_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NETPOL_AGENT_USER }],
    } as KubernetesObject);
    await apply({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: REAL_NODE_STORAGE_CLASS },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Retain',
    } as KubernetesObject);
    const core = this.c.kubeConfig.makeApiClient(CoreV1Api);
    const existing = await core.listPersistentVolume({ labelSelector: `${REAL_NODE_LABEL}=true` });
    const byName = new Map(existing.items.map((pv) => [pv.metadata!.name!, pv]));
    for (let i = 0; i < STATIC_VOLUMES; i++) {
      const name = `streamspace-local-${i}`;
      const dir = path.join(this.layout.volumesDir, name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      const pv = byName.get(name);
      // A Released volume (its claim was deleted) is wiped and offered again.
      if (pv?.status?.phase === 'Released' || pv?.status?.phase === 'Failed') {
        await core.deletePersistentVolume({ name });
        await execFileAsync('find', [dir, '-mindepth', '1', '-delete']);
      } else if (pv) continue;
      await core.createPersistentVolume({
        body: {
          metadata: { name, labels: { [REAL_NODE_LABEL]: 'true' } },
          spec: {
            capacity: { storage: '10Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName: REAL_NODE_STORAGE_CLASS,
            volumeMode: 'Filesystem',
            local: { path: dir },
            nodeAffinity: {
              required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [REAL_NODE_NAME] }] }] },
            },
          },
        },
      });
    }
  }
}
