import type { KubeConfig } from '@kubernetes/client-node';
import { kubeGetJson, KubeHttpError } from '../../platform/kube/kube-http';
import type { Logger } from '../../platform/logging/logger';
import { cpuMillicores, memoryBytes } from './cluster-quantity';

/** The resource metrics API that metrics-server (or any implementation) serves through API aggregation. */
export const METRICS_API = '/apis/metrics.k8s.io/v1beta1';

/** One node's or pod's usage at one scrape: CPU in millicores, memory (working set) in bytes. */
export interface Usage {
  cpuMillicores: number;
  memoryBytes: number;
  /** When the figures were measured (the end of the window). */
  timestamp: Date | null;
  /** Seconds the CPU rate is averaged over. */
  windowSeconds: number | null;
}

export interface ContainerUsage {
  name: string;
  cpuMillicores: number;
  memoryBytes: number;
}

export interface PodUsage extends Usage {
  namespace: string;
  name: string;
  containers: ContainerUsage[];
}

/** Either the figures or, when the metrics API cannot give them, one line saying why (never both). */
export type MetricsAnswer<T> = { ok: true; value: T } | { ok: false; reason: string };

interface MetricsObject {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  window?: string;
  usage?: Record<string, string>;
  containers?: { name?: string; usage?: Record<string, string> }[];
}

/** How long a NodeMetrics list is reused: one fetch serves every node of a query (metrics-server scrapes every 15 s). */
const NODE_CACHE_MS = 5_000;

/**
 * Reads `metrics.k8s.io/v1beta1` NodeMetrics and PodMetrics through the kube seam (kube-http.ts). The API is
 * optional in a cluster: when it is not served, not reachable or not allowed, every read answers
 * `{ ok: false, reason }` with the reason in one line, never an error, so the console shows nodes without usage.
 */
export class ClusterMetrics {
  private nodeCache: { at: number; answer: Promise<MetricsAnswer<Map<string, Usage>>> } | undefined;

  constructor(private readonly deps: { kubeConfig: KubeConfig | null; logger?: Logger; now?: () => number }) {}

  /** Usage of every node the metrics API reports, by node name (cached for a few seconds). */
  nodeUsage(): Promise<MetricsAnswer<Map<string, Usage>>> {
    const now = (this.deps.now ?? Date.now)();
    if (this.nodeCache && now - this.nodeCache.at < NODE_CACHE_MS) return this.nodeCache.answer;
    const answer = this.read(`${METRICS_API}/nodes`, (items) => new Map(items.map((m) => [m.metadata?.name ?? '', toUsage(m)])));
    this.nodeCache = { at: now, answer };
    return answer;
  }

  /** Usage of the pods of one namespace (or of every namespace), with their containers, by namespace and name. */
  podUsage(namespace?: string): Promise<MetricsAnswer<PodUsage[]>> {
    const path = namespace ? `${METRICS_API}/namespaces/${encodeURIComponent(namespace)}/pods` : `${METRICS_API}/pods`;
    return this.read(path, (items) =>
      items
        .map((m) => {
          const containers = (m.containers ?? []).map((c) => ({
            name: c.name ?? '',
            cpuMillicores: cpuMillicores(c.usage?.cpu) ?? 0,
            memoryBytes: memoryBytes(c.usage?.memory) ?? 0,
          }));
          // PodMetrics has no pod-level usage: the pod's is the sum of its containers'.
          return {
            ...toUsage(m),
            cpuMillicores: containers.reduce((sum, c) => sum + c.cpuMillicores, 0),
            memoryBytes: containers.reduce((sum, c) => sum + c.memoryBytes, 0),
            namespace: m.metadata?.namespace ?? '',
            name: m.metadata?.name ?? '',
            containers,
          };
        })
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    );
  }

  private async read<T>(path: string, convert: (items: MetricsObject[]) => T): Promise<MetricsAnswer<T>> {
    if (!this.deps.kubeConfig) return { ok: false, reason: 'the server runs without a Kubernetes cluster' };
    try {
      const list = await kubeGetJson<{ items?: MetricsObject[] }>(this.deps.kubeConfig, path, { idleTimeoutMs: 10_000 });
      return { ok: true, value: convert(list.items ?? []) };
    } catch (err) {
      const reason = unavailableReason(err);
      this.deps.logger?.debug({ path, reason }, 'cluster metrics: the metrics API gave no usage');
      return { ok: false, reason };
    }
  }
}

function toUsage(m: MetricsObject): Usage {
  return {
    cpuMillicores: cpuMillicores(m.usage?.cpu) ?? 0,
    memoryBytes: memoryBytes(m.usage?.memory) ?? 0,
    timestamp: m.timestamp ? new Date(m.timestamp) : null,
    windowSeconds: parseDurationSeconds(m.window),
  };
}

/** A Go duration as metrics-server writes it (`15s`, `1m0.5s`, `20.002s`) in seconds, or null. */
export function parseDurationSeconds(text: string | undefined): number | null {
  if (!text) return null;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/.exec(rest);
    if (!match) return null;
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** Why the metrics API gave nothing, in one line an admin can act on. */
export function unavailableReason(err: unknown): string {
  if (err instanceof KubeHttpError) {
    const detail = err.message.replace(/^\d{3}( \w+)?: /, '');
    switch (err.statusCode) {
      case 404:
        return 'the cluster does not serve the metrics API (metrics.k8s.io/v1beta1): install metrics-server';
      case 401:
      case 403:
        return `the platform may not read the metrics API (metrics.k8s.io nodes/pods): ${detail}`;
      case 503:
        return `the metrics API is registered but its server does not answer: ${detail}`;
      default:
        return `the metrics API answered ${err.statusCode}: ${detail}`;
    }
  }
  return `the metrics API could not be reached: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`;
}
