import { createHash } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

/** Agents kept per KubeConfig (one per distinct server and TLS identity; a rotated client certificate adds one). */
const MAX_AGENTS = 4;

type AgentFactory = (cluster: Cluster | null, options: https.AgentOptions) => http.Agent;

/**
 * Makes every request of this KubeConfig (generated API clients, watches, exec, kube-http.ts) reuse keep-alive
 * connections to the API server. client-node (1.x) builds a new https.Agent for every request (its private
 * `createAgent`): each call then pays a TLS handshake and a new SecureContext on both ends. Measured with 1,000
 * sessions starting: the handshakes were the largest cost of the server's main thread, and of the API server's.
 * Agents are shared per server and TLS identity (CA, client certificate and key, verification settings), so a
 * rotated credential gets a new agent; bearer tokens are headers and never part of the key. Proxied clusters keep
 * the library's own agents. Free sockets are unref'd by node, so an idle pool never holds the process open.
 */
export function reuseConnections(kubeConfig: KubeConfig): KubeConfig {
  const target = kubeConfig as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kubeConfig);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    if (!cluster?.server || cluster.proxyUrl || !cluster.server.startsWith('https:')) return original(cluster, options);
    const key = identity(cluster.server, options);
    let agent = agents.get(key);
    if (!agent) {
      // Every socket a burst opened stays in the pool (up to 256): with fewer kept, each burst past the limit (a
      // reconcile wave, connects writing Connection objects and Session status at once) closed the surplus as it
      // came back and paid a TLS handshake for it again on the next burst.
      agent = new https.Agent({ ...options, keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
      if (agents.size >= MAX_AGENTS) {
        const [oldestKey, oldest] = agents.entries().next().value as [string, http.Agent];
        agents.delete(oldestKey);
        // In-flight requests keep their sockets; only the idle ones close.
        for (const sockets of Object.values(oldest.freeSockets)) for (const s of sockets ?? []) s.destroy();
      }
      agents.set(key, agent);
    }
    return agent;
  };
  return kubeConfig;
}

function identity(server: string, options: https.AgentOptions): string {
  const h = createHash('sha256');
  h.update(server);
  for (const part of [options.ca, options.cert, options.key, options.pfx]) {
    h.update('\u0000');
    for (const item of Array.isArray(part) ? part : [part]) if (item !== undefined) h.update(typeof item === 'string' || Buffer.isBuffer(item) ? item : JSON.stringify(item));
  }
  h.update(`\u0000${String(options.passphrase ?? '')}\u0000${String(options.rejectUnauthorized)}\u0000${String(options.servername ?? '')}`);
  return h.digest('hex');
}
