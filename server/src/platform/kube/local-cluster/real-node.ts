import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { isProcessAlive, processStartTime } from './watchdog';

const execFileAsync = promisify(execFile);

/**
 * The real node: containerd (+ runc), a CNI bridge, kubelet and kube-proxy on this machine, registered beside the
 * kwok nodes. This file holds what does not need the cluster object: checks, binaries, images, configuration
 * files and the machine-wide lock. local-cluster.ts runs the processes.
 */

export const REAL_NODE_NAME = 'streamspace-node';
/** Label and NoSchedule taint of the real node: only pods that ask for it (nodeSelector + toleration) land there. */
export const REAL_NODE_LABEL = 'streamspace.io/real-node';
export const REAL_NODE_TAINT = { key: REAL_NODE_LABEL, value: 'true', effect: 'NoSchedule' } as const;
/** What a pod spec needs to run on the real node. */
export const REAL_NODE_PLACEMENT = {
  nodeSelector: { [REAL_NODE_LABEL]: 'true' },
  tolerations: [{ key: REAL_NODE_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
};
export const REAL_NODE_BRIDGE = 'streamspace0';
export const REAL_NODE_POD_SUBNET = '10.245.0.0/24';
/** The bridge's own address: the pods' gateway, and the only address kubelet listens on. */
export const REAL_NODE_IP = '10.245.0.1';
/** One real node per machine: kube-proxy's chains and the bridge are machine-wide names. */
export const REAL_NODE_LOCK = '/run/streamspace-real-node.json';
/**
 * The NetworkPolicy agent's nftables table (family inet) and queue number; scripts/k8s/node-cleanup.sh deletes the
 * table by this name.
 */
export const NETPOL_TABLE = 'streamspace-netpol';
export const NETPOL_QUEUE = 100;
/** What enforces NetworkPolicy on the real node (scripts/k8s/build-netpol.sh pins the version). */
export const NETPOL_AGENT = 'kube-network-policies v0.8.0';

export interface RealNodeImages {
  pause: string;
  webapp: string;
  desktop: string;
}

export interface RealNodeBinaries {
  kubelet: string;
  kubeProxy: string;
}

/** Whether NetworkPolicy is enforced on the real node: by which agent, or why not. */
export type NetworkPolicyState = { enforced: true; agent: string; queueing: NetpolQueueing } | { enforced: false; reason: string };

/** What the cluster reports about its real node. */
export type RealNodeState =
  | { status: 'off' }
  | { status: 'unavailable'; reason: string }
  | { status: 'ready'; name: string; images: RealNodeImages; readyMs: number; networkPolicy: NetworkPolicyState };

/** Debian packages providing each command the node needs (for the one-line reason when one is missing). */
const NEEDED_COMMANDS: Record<string, string> = {
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  iptables: 'iptables',
  ip: 'iproute2',
  umoci: 'umoci',
  skopeo: 'skopeo',
  busybox: 'busybox-static',
  mmdebstrap: 'mmdebstrap',
  openssl: 'openssl',
};
export const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why this machine cannot run the real node, or null when it can (as far as can be known before trying). */
export function realNodePreflight(): string | null {
  if (process.platform !== 'linux') return `the real node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the real node needs root (containerd, mounts, network namespaces); run as root';
  const missing = Object.entries(NEEDED_COMMANDS)
    .filter(([cmd]) => !hasCommand(cmd))
    .map(([cmd, pkg]) => `${cmd} (${pkg})`);
  if (missing.length) return `missing commands: ${missing.join(', ')}; apt-get install -y ${[...new Set(missing.map((m) => m.replace(/.*\((.*)\)/, '$1')))].join(' ')}`;
  if (!cniBinDir()) return `no CNI plugins (bridge, host-local) in ${CNI_BIN_DIRS.join(' or ')}; apt-get install -y containernetworking-plugins`;
  if (!existsSync('/sys/fs/cgroup/cpu') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'no cgroup file system at /sys/fs/cgroup';
  if (!existsSync('/proc/self/ns/net')) return 'network namespaces are not available';
  return null;
}

const NFQUEUE_PROC = '/proc/net/netfilter/nfnetlink_queue';
const BRIDGE_NF_CALL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/**
 * How new connections of pods reach the agent's queue. `nftables`: the agent's own table (upstream's design; it
 * queues only pods that a policy selects). `iptables`: for kernels without nftables' queue expression (nft_queue),
 * such as this project's VMs, the node adds a chain of its own with iptables' NFQUEUE target that queues every new
 * connection from or to the pod range; the agent then accepts those of pods that no policy selects.
 */
export type NetpolQueueing = 'nftables' | 'iptables';
/** The node's own chain (table mangle, from POSTROUTING) in `iptables` queueing; node-cleanup.sh removes it. */
export const NETPOL_IPTABLES_CHAIN = 'STREAMSPACE-NETPOL';

/**
 * Why this machine cannot enforce NetworkPolicy on the real node, or how packets will reach the agent. The agent
 * needs NFQUEUE (nfnetlink_queue), nftables' queue expression or iptables' NFQUEUE target, the nft command (the
 * cleanup), and bridged pod-to-pod packets passing the IP hooks (br_netfilter's bridge-nf-call-iptables = 1, which
 * it turns on as kube-proxy's users do).
 */
export function netpolPreflight(): { reason: string } | { queueing: NetpolQueueing } {
  if (!hasCommand('nft')) return { reason: 'missing command: nft (nftables); apt-get install -y nftables' };
  const list = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (list.status !== 0) return { reason: `nftables is not usable here (nft list tables: ${(list.stderr || '').trim().split('\n')[0]})` };
  if (!existsSync(NFQUEUE_PROC)) spawnSync('modprobe', ['nfnetlink_queue'], { stdio: 'ignore' });
  if (!existsSync(NFQUEUE_PROC)) return { reason: 'the kernel has no NFQUEUE (nfnetlink_queue: no module and not built in)' };
  if (!existsSync(BRIDGE_NF_CALL)) spawnSync('modprobe', ['br_netfilter'], { stdio: 'ignore' });
  if (!existsSync(BRIDGE_NF_CALL)) return { reason: 'bridged pod traffic bypasses netfilter here (no br_netfilter: no module and not built in)' };
  if (readFileSync(BRIDGE_NF_CALL, 'utf8').trim() !== '1') {
    try {
      writeFileSync(BRIDGE_NF_CALL, '1');
    } catch (err) {
      return { reason: `cannot set net.bridge.bridge-nf-call-iptables=1 (${(err as Error).message})` };
    }
  }
  // nft -c asks the kernel to check a transaction without committing it: a missing expression fails here.
  const probe = `table inet streamspace-netpol-check {\n chain c { type filter hook postrouting priority 0; queue num ${NETPOL_QUEUE}; }\n}\n`;
  if (spawnSync('nft', ['-c', '-f', '-'], { input: probe, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0) return { queueing: 'nftables' };
  modprobeQuietly('nft_queue');
  if (spawnSync('nft', ['-c', '-f', '-'], { input: probe, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0) return { queueing: 'nftables' };
  return { queueing: 'iptables' };
}

function modprobeQuietly(mod: string): void {
  spawnSync('modprobe', [mod], { stdio: 'ignore' });
}

/**
 * The `iptables` queueing: like the agent's own chain, it lets DNS, root's sockets on the node and established
 * connections pass, and queues the first packet of every other connection from or to a pod. Installed right
 * before the agent starts (fail closed: until it reads the queue, those packets are dropped).
 */
export async function installIptablesQueueing(): Promise<void> {
  const ipt = (...args: string[]) => execFileAsync('iptables', ['-w', '-t', 'mangle', ...args]);
  const c = NETPOL_IPTABLES_CHAIN;
  await ipt('-N', c).catch(() => ipt('-F', c));
  await ipt('-A', c, '-p', 'udp', '--dport', '53', '-j', 'RETURN');
  await ipt('-A', c, '-m', 'owner', '--uid-owner', '0', '-j', 'RETURN');
  await ipt('-A', c, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'RETURN');
  await ipt('-A', c, '-s', REAL_NODE_POD_SUBNET, '-j', 'NFQUEUE', '--queue-num', String(NETPOL_QUEUE));
  await ipt('-A', c, '-d', REAL_NODE_POD_SUBNET, '-j', 'NFQUEUE', '--queue-num', String(NETPOL_QUEUE));
  await ipt('-C', 'POSTROUTING', '-j', c).catch(() => ipt('-A', 'POSTROUTING', '-j', c));
}

/** Removes the `iptables` queueing (an agent that did not start must not leave a queue nobody reads). */
export async function removeIptablesQueueing(): Promise<void> {
  const ipt = (...args: string[]) => execFileAsync('iptables', ['-w', '-t', 'mangle', ...args]).catch(() => undefined);
  await ipt('-D', 'POSTROUTING', '-j', NETPOL_IPTABLES_CHAIN);
  await ipt('-F', NETPOL_IPTABLES_CHAIN);
  await ipt('-X', NETPOL_IPTABLES_CHAIN);
}

/** Whether the agent has bound its queue (a line of /proc/net/netfilter/nfnetlink_queue starts with its number). */
export function netpolQueueBound(): boolean {
  try {
    return readFileSync(NFQUEUE_PROC, 'utf8')
      .split('\n')
      .some((l) => l.trim().split(/\s+/)[0] === String(NETPOL_QUEUE));
  } catch {
    return false;
  }
}

export function cniBinDir(): string | undefined {
  return CNI_BIN_DIRS.find((d) => existsSync(path.join(d, 'bridge')) && existsSync(path.join(d, 'host-local')));
}

/** Contents of the machine-wide lock: who runs the real node and how to clean up after it. */
interface RealNodeLockState {
  ownerPid: number;
  ownerStartTime: string | null;
  nodeDir: string;
  cleanup: string[];
}

/**
 * Takes the machine-wide lock. A live owner means another local cluster runs the real node: say so. A dead one
 * means it was killed before its watchdog finished: run its cleanup first.
 */
export function acquireRealNodeLock(nodeDir: string, cleanup: string[], log: (msg: string) => void): string | null {
  if (existsSync(REAL_NODE_LOCK)) {
    let old: RealNodeLockState | undefined;
    try {
      old = JSON.parse(readFileSync(REAL_NODE_LOCK, 'utf8')) as RealNodeLockState;
    } catch {
      // unreadable: treat as stale
    }
    if (old && old.ownerPid !== process.pid && isProcessAlive(old.ownerPid, old.ownerStartTime)) {
      return `another local cluster (process ${old.ownerPid}, ${old.nodeDir}) runs the real node on this machine`;
    }
    if (old?.cleanup?.length) {
      log(`cleaning up the real node of an earlier run (${old.nodeDir})`);
      spawnSync(old.cleanup[0]!, old.cleanup.slice(1), { stdio: 'ignore', timeout: 60_000 });
    }
  }
  const state: RealNodeLockState = { ownerPid: process.pid, ownerStartTime: processStartTime(process.pid), nodeDir, cleanup };
  writeFileSync(REAL_NODE_LOCK, JSON.stringify(state));
  return null;
}

export function releaseRealNodeLock(): void {
  try {
    const old = JSON.parse(readFileSync(REAL_NODE_LOCK, 'utf8')) as RealNodeLockState;
    if (old.ownerPid === process.pid) rmSync(REAL_NODE_LOCK, { force: true });
  } catch {
    // not ours or gone
  }
}

/** Runs a build script of the repository; its last stdout lines are the result, progress goes to `log`. */
export async function runScript(script: string, args: string[], log: (msg: string) => void): Promise<string[]> {
  const stdout: string[] = [];
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
    createInterface({ input: child.stderr }).on('line', (l) => {
      tail.push(l);
      if (tail.length > 30) tail.shift();
      if (!l.startsWith('go: ') && !l.startsWith('I: ') && !l.startsWith('Get:')) log(l);
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${path.basename(script)} failed (exit ${code}): ${tail.slice(-5).join(' | ')}`);
  return stdout.filter((l) => l.trim() !== '');
}

export async function ensureNodeBinaries(repoRoot: string, log: (msg: string) => void): Promise<RealNodeBinaries> {
  const out = await runScript(path.join(repoRoot, 'scripts', 'k8s', 'build-node.sh'), [], log);
  const dir = out.pop()!;
  return { kubelet: path.join(dir, 'kubelet'), kubeProxy: path.join(dir, 'kube-proxy') };
}

/** Builds (or finds in the cache) the NetworkPolicy agent; returns its path. */
export async function ensureNetpolAgent(repoRoot: string, log: (msg: string) => void): Promise<string> {
  const out = await runScript(path.join(repoRoot, 'scripts', 'k8s', 'build-netpol.sh'), [], log);
  return out.pop()!;
}

/** Builds (or finds in the cache) the node's images; returns their references and archive paths. */
export async function ensureNodeImages(repoRoot: string, log: (msg: string) => void): Promise<{ refs: RealNodeImages; archives: string[] }> {
  const out = await runScript(path.join(repoRoot, 'scripts', 'images', 'build.sh'), ['pause', 'webapp', 'desktop'], log);
  const refs: Partial<RealNodeImages> = {};
  const archives: string[] = [];
  for (const line of out) {
    const [name, ref, archive] = line.split(' ');
    if (name === 'pause' || name === 'webapp' || name === 'desktop') {
      refs[name] = ref;
      archives.push(archive!);
    }
  }
  if (!refs.pause || !refs.webapp || !refs.desktop) throw new Error(`scripts/images/build.sh printed no image list (${out.join(' | ')})`);
  return { refs: refs as RealNodeImages, archives };
}

/** Files and directories of the node, all under <cluster>/node. */
export interface RealNodeLayout {
  dir: string;
  socket: string;
  containerdConfig: string;
  cniConfDir: string;
  kubeletDir: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
  netpolKubeconfig: string;
  volumesDir: string;
}

export function realNodeLayout(rootDir: string): RealNodeLayout {
  const dir = path.join(rootDir, 'node');
  return {
    dir,
    socket: path.join(dir, 'containerd.sock'),
    containerdConfig: path.join(dir, 'containerd.toml'),
    cniConfDir: path.join(dir, 'cni'),
    kubeletDir: path.join(dir, 'kubelet'),
    kubeletConfig: path.join(dir, 'kubelet.yaml'),
    kubeletKubeconfig: path.join(dir, 'kubelet.kubeconfig'),
    kubeProxyConfig: path.join(dir, 'kube-proxy.yaml'),
    kubeProxyKubeconfig: path.join(dir, 'kube-proxy.kubeconfig'),
    netpolKubeconfig: path.join(dir, 'netpol-agent.kubeconfig'),
    volumesDir: path.join(dir, 'volumes'),
  };
}

/** containerd with everything under the node directory: root, state, socket, runc state, CNI, netns mounts. */
export async function writeContainerdConfig(l: RealNodeLayout, sandboxImage: string): Promise<void> {
  const cni = cniBinDir() ?? CNI_BIN_DIRS[0]!;
  const q = JSON.stringify;
  const toml = `version = 2
root = ${q(path.join(l.dir, 'containerd', 'root'))}
state = ${q(path.join(l.dir, 'containerd', 'state'))}
# Leave the score alone: this kind of VM does not allow lowering oom_score_adj.
oom_score = 0

[grpc]
  address = ${q(l.socket)}

[ttrpc]
  address = ""

[debug]
  address = ""
  level = "warn"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(path.join(l.dir, 'containerd', 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(sandboxImage)}
  # Required here: without it, every sandbox fails with runc's "can't get final child's PID from pipe: EOF"
  # (runc cannot lower oom_score_adj to -998 in this VM).
  restrict_oom_score_adj = true
  # Network namespaces under the node's state directory instead of the machine-wide /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(cni)}
    conf_dir = ${q(l.cniConfDir)}
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's container state under the node directory, so the cleanup finds (and kills) exactly ours.
        Root = ${q(path.join(l.dir, 'runc', 'k8s.io'))}
`;
  await mkdir(path.join(l.dir, 'runc', 'k8s.io'), { recursive: true });
  await writeFile(l.containerdConfig, toml);
}

/** The CNI network: a bridge with host-local addresses, no masquerade (pods talk to the host and each other). */
export async function writeCniConfig(l: RealNodeLayout): Promise<void> {
  await mkdir(l.cniConfDir, { recursive: true });
  const conf = {
    cniVersion: '0.4.0',
    name: 'streamspace',
    plugins: [
      {
        type: 'bridge',
        bridge: REAL_NODE_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: REAL_NODE_POD_SUBNET, gateway: REAL_NODE_IP }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: path.join(l.dir, 'cni-ipam'),
        },
      },
    ],
  };
  await writeFile(path.join(l.cniConfDir, '10-streamspace.conflist'), JSON.stringify(conf, null, 2));
}

/** Creates the bridge with the node's address before kubelet starts: kubelet binds to it and reports it. */
export async function ensureBridge(): Promise<void> {
  const ip = (...args: string[]) => execFileAsync('ip', args);
  const exists = await ip('link', 'show', REAL_NODE_BRIDGE).then(
    () => true,
    () => false,
  );
  if (!exists) await ip('link', 'add', 'name', REAL_NODE_BRIDGE, 'type', 'bridge');
  const { stdout } = await ip('-4', 'addr', 'show', 'dev', REAL_NODE_BRIDGE);
  if (!stdout.includes(`${REAL_NODE_IP}/`)) await ip('addr', 'add', `${REAL_NODE_IP}/24`, 'dev', REAL_NODE_BRIDGE);
  await ip('link', 'set', REAL_NODE_BRIDGE, 'up');
}

export interface KubeletSettings {
  port: number;
  healthzPort: number;
  caFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
}

export async function writeKubeletConfig(l: RealNodeLayout, s: KubeletSettings): Promise<void> {
  await mkdir(l.kubeletDir, { recursive: true });
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: REAL_NODE_IP,
    port: s.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: s.healthzPort,
    tlsCertFile: s.tlsCertFile,
    tlsPrivateKeyFile: s.tlsKeyFile,
    // The API server (logs, exec, port-forward) authenticates with its client certificate; nobody is anonymous.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: s.caFile } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${l.socket}`,
    imageServiceEndpoint: `unix://${l.socket}`,
    // Required on these machines: cgroup v1, no systemd, oom_score_adj and swap as they are.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    registerWithTaints: [REAL_NODE_TAINT],
    registerNode: true,
    podLogsDir: path.join(l.dir, 'pod-logs'),
    resolvConf: '/etc/resolv.conf',
    serializeImagePulls: false,
    maxPods: 50,
    // A shared developer disk is often fuller than kubelet's defaults like; do not evict sessions for it.
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    nodeStatusUpdateFrequency: '5s',
    nodeStatusReportFrequency: '30s',
    syncFrequency: '10s',
    fileCheckFrequency: '20s',
    staticPodPath: '',
    protectKernelDefaults: false,
    // Pod logs, exec and port-forward over the API server's client certificate only.
    serverTLSBootstrap: false,
    rotateCertificates: false,
    shutdownGracePeriod: '0s',
    localStorageCapacityIsolation: true,
  };
  await writeFile(l.kubeletConfig, JSON.stringify(config, null, 2));
}

export async function writeKubeProxyConfig(l: RealNodeLayout, healthzPort: number, metricsPort: number): Promise<void> {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: l.kubeProxyKubeconfig },
    mode: 'iptables',
    clusterCIDR: REAL_NODE_POD_SUBNET,
    hostnameOverride: REAL_NODE_NAME,
    bindAddress: REAL_NODE_IP,
    healthzBindAddress: `127.0.0.1:${healthzPort}`,
    metricsBindAddress: `127.0.0.1:${metricsPort}`,
    // Leave the machine's conntrack table size and timeouts alone (0 = do not set).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // NodePorts only on the node's bridge address, not on every interface of the developer's machine.
    nodePortAddresses: [`${REAL_NODE_IP}/32`],
    iptables: { syncPeriod: '10s', minSyncPeriod: '0s', localhostNodePorts: false },
  };
  await writeFile(l.kubeProxyConfig, JSON.stringify(config, null, 2));
}

/** Imports image archives into containerd's k8s.io namespace (where the CRI looks), skipping those present. */
export async function importImages(socket: string, refs: string[], archives: string[]): Promise<void> {
  const ctr = (...args: string[]) => execFileAsync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 16 << 20 });
  const { stdout } = await ctr('images', 'list', '--quiet');
  const have = new Set(stdout.split('\n').map((s) => s.trim()));
  await Promise.all(
    archives.map(async (archive, i) => {
      if (have.has(refs[i]!)) return;
      await ctr('images', 'import', archive);
    }),
  );
}
