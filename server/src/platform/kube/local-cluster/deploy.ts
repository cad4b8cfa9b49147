/**
 * The Helm chart on the local cluster's real node, as an operator would run it: the platform and PostgreSQL images
 * built by `npm run image` (scripts/images/platform.sh, cached by content) and imported into the node's containerd,
 * then `helm install`. Used by `npm run cluster -- --deploy` and by the deploy test.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { findRepoRoot } from './binaries';
import type { LocalCluster } from './local-cluster';
import { importImages, REAL_NODE_IP, REAL_NODE_LABEL, realNodeLayout } from './real-node';
import { REAL_NODE_STORAGE_CLASS } from './real-node-runner';

const run = promisify(execFile);

export interface BuiltImage {
  ref: string;
  archive: string;
  /** Uncompressed size (a docker-archive holds the layers as plain tarballs). */
  bytes: number;
}

export interface PlatformImages {
  streamspace: BuiltImage;
  postgres: BuiltImage;
  seconds: number;
}

/**
 * Builds (or finds in the cache) the platform and PostgreSQL images; `commit` overrides the recorded commit, which
 * gives a distinct image of the same code (an upgrade to test). Needs the built server and clients (`npm run build`).
 */
export async function buildPlatformImages(options: { commit?: string; repoRoot?: string } = {}): Promise<PlatformImages> {
  const started = Date.now();
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const env = { ...process.env, ...(options.commit ? { STREAMSPACE_COMMIT: options.commit } : {}) };
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [path.join(repoRoot, 'scripts', 'images', 'platform.sh'), 'streamspace', 'postgres'], {
      env,
      maxBuffer: 16 << 20,
      timeout: 30 * 60_000,
    }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`the image build failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' / ')}`, { cause: err });
  }
  const images: Record<string, BuiltImage> = {};
  for (const line of stdout.trim().split('\n')) {
    const [name, ref, archive, bytes] = line.split(' ');
    images[name] = { ref, archive, bytes: Number(bytes) };
  }
  return { streamspace: images.streamspace, postgres: images.postgres, seconds: (Date.now() - started) / 1000 };
}

/** Imports image archives into the real node's containerd (skipping those present). */
export async function importIntoRealNode(cluster: LocalCluster, images: BuiltImage[]): Promise<void> {
  await importImages(
    realNodeLayout(cluster.rootDir).socket,
    images.map((i) => i.ref),
    images.map((i) => i.archive),
  );
}

/** Splits docker.io/streamspace/streamspace:0.1.0-abc into repository and tag. */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}

const RELAY_SLICE = 'kubernetes-relay';

/**
 * Lets pods on the real node reach the API server the way an in-cluster client does (the `kubernetes` Service,
 * 10.0.0.1:443, whose serving certificate names that address): the local API server listens on 127.0.0.1 only, so a
 * relay on the node's bridge address forwards to it, and an EndpointSlice of the Service points at the relay
 * (kube-proxy routes the Service there). Returns a function that removes both; the relay lives in this process.
 */
export async function relayApiServerToPods(cluster: LocalCluster): Promise<() => Promise<void>> {
  const target = new URL(cluster.server);
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => relay.once('error', reject).listen(0, REAL_NODE_IP, resolve));
  relay.unref();
  const port = (relay.address() as net.AddressInfo).port;
  const discovery = cluster.kubeConfig.makeApiClient(DiscoveryV1Api);
  const body = {
    metadata: { name: RELAY_SLICE, namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [REAL_NODE_IP], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  await discovery.deleteNamespacedEndpointSlice({ name: RELAY_SLICE, namespace: 'default' }).catch(() => undefined);
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body });
  return async () => {
    await discovery.deleteNamespacedEndpointSlice({ name: RELAY_SLICE, namespace: 'default' }).catch(() => undefined);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  };
}

/** The cached helm binary (scripts/helm/ensure-helm.sh), run with its output returned and its errors explained. */
export async function helmCommand(repoRoot = findRepoRoot()): Promise<(...args: string[]) => Promise<string>> {
  const helm = (await run('bash', [path.join(repoRoot, 'scripts', 'helm', 'ensure-helm.sh')], { maxBuffer: 1 << 20 })).stdout.trim();
  return async (...args: string[]) => {
    try {
      return (await run(helm, args, { maxBuffer: 32 << 20, timeout: 10 * 60_000 })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`helm ${args.slice(0, 2).join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
}

/**
 * Values that let the chart's sessions run on the real node (pinned there, homes on its static volumes) and reach a
 * browser on this host: the portal at http://localhost:<portalPort> and every session at
 * http://<id>.apps.localhost:<gatewayPort> (browsers resolve *.localhost to loopback), both loopback relays to the
 * platform's Service (`serviceLoopbackRelays`).
 */
export function realNodeSessionValues(options: { portalPort: number; gatewayPort: number; sessionsNamespace?: string }): Record<string, unknown> {
  return {
    auth: { publicUrl: `http://localhost:${options.portalPort}` },
    gateway: { appsDomain: `apps.localhost:${options.gatewayPort}` },
    sessions: { ...(options.sessionsNamespace ? { namespace: options.sessionsNamespace } : {}), homeStorageClass: REAL_NODE_STORAGE_CLASS, homeSize: '1Gi' },
    extraEnv: [{ name: 'STREAMSPACE_SESSION_NODE_SELECTOR', value: `${REAL_NODE_LABEL}=true` }],
  };
}

/**
 * Loopback relays to the platform Service's http (80) and gateway (8081) ports, opened before the install (their
 * ports go into the values); they relay once `setService` names the Service's ClusterIP.
 */
export async function serviceLoopbackRelays(): Promise<{ portal: LoopbackRelay; gateway: LoopbackRelay; setService: (clusterIp: string) => void; stop: () => Promise<void> }> {
  let ip: string | undefined;
  const portal = await loopbackRelay(() => (ip ? { host: ip, port: 80 } : undefined));
  const gateway = await loopbackRelay(() => (ip ? { host: ip, port: 8081 } : undefined));
  return {
    portal,
    gateway,
    setService: (clusterIp) => (ip = clusterIp),
    stop: async () => {
      await portal.stop();
      await gateway.stop();
    },
  };
}

/**
 * Writes a values file that runs the chart on the real node: the given images (never pulled), the database's
 * claim on the node's static volumes, small resource requests.
 */
export async function realNodeValuesFile(file: string, platform: BuiltImage, postgres: BuiltImage, extra: Record<string, unknown> = {}): Promise<string> {
  const values = {
    image: { ...splitImageRef(platform.ref), pullPolicy: 'Never' },
    database: {
      bundled: {
        image: { ...splitImageRef(postgres.ref), pullPolicy: 'Never' },
        persistence: { size: '1Gi', storageClass: REAL_NODE_STORAGE_CLASS },
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
      },
    },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '1Gi' } },
    nodeSelector: { [REAL_NODE_LABEL]: 'true' },
    tolerations: [{ key: REAL_NODE_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
    ...extra,
  };
  await writeFile(file, stringify(values));
  return file;
}

export interface LoopbackRelay {
  port: number;
  /** Connections relayed so far. */
  connections: number;
  stop: () => Promise<void>;
}

/**
 * A TCP relay from loopback (127.0.0.1 and, where the host has it, ::1, on one port) to the address `target()`
 * names when a connection arrives, e.g. a Service's ClusterIP, which kube-proxy on the real node balances over the
 * Service's ready endpoints: what a NodePort or a load balancer gives a browser on a real cluster. A pod that goes
 * away closes its connections; new ones land on the pods still ready. Lives in this process.
 */
export async function loopbackRelay(target: () => { host: string; port: number } | undefined): Promise<LoopbackRelay> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const onConnection = (client: net.Socket) => {
    const to = target();
    if (!to) return void client.destroy();
    state.connections += 1;
    const upstream = net.connect(to.port, to.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  };
  const listen = (server: net.Server, host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject).listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
    });
  const v4 = net.createServer(onConnection);
  const port = await listen(v4, '127.0.0.1', 0);
  const servers = [v4];
  const v6 = net.createServer(onConnection);
  // Browsers try ::1 for localhost names too; a host without IPv6 loopback has only the IPv4 listener.
  if (await listen(v6, '::1', port).then(() => true, () => false)) servers.push(v6);
  return {
    port,
    get connections() {
      return state.connections;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
