import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import type { LocalCluster } from '../../src/platform/kube/local-cluster';
import { REAL_NODE_IP } from '../../src/platform/kube/local-cluster/real-node';

const run = promisify(execFile);
export const repo = path.resolve(__dirname, '../../..');

export interface BuiltImage {
  ref: string;
  archive: string;
  bytes: number;
}

/**
 * The platform and PostgreSQL images as `npm run image` builds them (cached by content: a warm build takes
 * seconds); `commit` overrides the recorded commit, which gives a distinct image of the same code (an upgrade).
 */
export async function buildImages(commit?: string): Promise<{ streamspace: BuiltImage; postgres: BuiltImage; seconds: number }> {
  const started = Date.now();
  const env = { ...process.env, ...(commit ? { STREAMSPACE_COMMIT: commit } : {}) };
  const { stdout } = await run('bash', [path.join(repo, 'scripts', 'images', 'platform.sh'), 'streamspace', 'postgres'], {
    env,
    maxBuffer: 16 << 20,
    timeout: 20 * 60_000,
  });
  const images: Record<string, BuiltImage> = {};
  for (const line of stdout.trim().split('\n')) {
    const [name, ref, archive, bytes] = line.split(' ');
    images[name] = { ref, archive, bytes: Number(bytes) };
  }
  return { streamspace: images.streamspace, postgres: images.postgres, seconds: (Date.now() - started) / 1000 };
}

/** Splits docker.io/streamspace/streamspace:0.1.0-abc into repository and tag. */
export function splitRef(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}

/**
 * Lets pods on the real node reach the API server the way an in-cluster client does (the `kubernetes` Service,
 * 10.0.0.1:443, whose certificate names that address): the local API server listens on 127.0.0.1 only, so a relay
 * on the node's bridge address forwards to it and the Service's EndpointSlice points at the relay (kube-proxy
 * routes the Service there). Returns a function that removes both.
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
    metadata: { name: 'kubernetes-relay', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [REAL_NODE_IP], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  await discovery.deleteNamespacedEndpointSlice({ name: 'kubernetes-relay', namespace: 'default' }).catch(() => undefined);
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body });
  return async () => {
    await discovery.deleteNamespacedEndpointSlice({ name: 'kubernetes-relay', namespace: 'default' }).catch(() => undefined);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  };
}

/** Runs the cached helm binary against the local cluster. */
export async function helmCommand(): Promise<(...args: string[]) => Promise<string>> {
  const helm = (await run('bash', [path.join(repo, 'scripts', 'helm', 'ensure-helm.sh')], { maxBuffer: 1 << 20 })).stdout.trim();
  return async (...args: string[]) => {
    try {
      return (await run(helm, args, { maxBuffer: 32 << 20, timeout: 10 * 60_000 })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`helm ${args.slice(0, 2).join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
}
