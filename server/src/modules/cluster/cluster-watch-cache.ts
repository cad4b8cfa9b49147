import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createInformer, type Informer } from '../../platform/kube/informer';
import type { Logger } from '../../platform/logging/logger';
import { resourcePath, type KindInfo } from './cluster-kinds';
import type { KubeObject } from './cluster-manifest';

/** Kinds whose admin lists are served from a watch cache: the ones that grow with the cluster (Secrets never). */
export const CACHED_KINDS: readonly string[] = ['Pod', 'Node'];

/** A kind's cache not read for this long is stopped and dropped (its memory released); the next list starts it again. */
const IDLE_STOP_MS = 10 * 60_000;

/** The API server's order of a list: by namespace, then name. */
export function objectKey(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

interface KindCache {
  informer: Informer<KubernetesObject>;
  synced: boolean;
  lastUsed: number;
  /** Keys in order, rebuilt after an object was added or deleted (status updates keep it). */
  sorted: string[] | null;
  /** Settles when the first list is in (true) or the informer stopped before it (false). */
  started: Promise<boolean>;
}

/**
 * Watch caches of the admin's biggest lists (Pods, Nodes), like kube-apiserver's own watch cache: one informer per
 * kind over every namespace, started by the first list of that kind and stopped after 10 minutes unread. Until its
 * first list is in, callers read the API server as before (`page` answers null). A page is a slice of the cache in
 * the API server's order (namespace, name); its cursor names the last object, so the next page starts after it
 * even when objects came or went in between.
 */
export class ClusterWatchCache {
  private readonly kinds = new Map<string, KindCache>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly deps: { kubeConfig: KubeConfig; logger?: Logger; now?: () => number }) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The kind's cache if it has synced (starting it on first use), else null. */
  private cacheOf(info: KindInfo): KindCache | null {
    if (!CACHED_KINDS.includes(info.kind)) return null;
    let c = this.kinds.get(info.kind);
    if (!c) {
      const informer = createInformer({ kubeConfig: this.deps.kubeConfig, path: resourcePath(info, undefined) });
      const entry: KindCache = { informer, synced: false, lastUsed: this.now(), sorted: null, started: Promise.resolve(false) };
      const dirty = () => (entry.sorted = null);
      informer.on('add', dirty).on('delete', dirty).on('synced', dirty);
      informer.on('error', (err) => this.deps.logger?.debug({ kind: info.kind, err: (err as Error).message }, 'cluster watch cache: watch failed; retrying'));
      entry.started = informer.start().then(
        () => (entry.synced = true),
        () => false,
      );
      this.kinds.set(info.kind, (c = entry));
    }
    c.lastUsed = this.now();
    return c.synced ? c : null;
  }

  /**
   * A page of `info`'s objects from the cache (in `namespace` when given), starting after the object whose key is
   * `after`; null while the cache is not synced (or the kind is not cached).
   */
  page(info: KindInfo, namespace: string | undefined, size: number, after: string | undefined): { items: KubeObject[]; total: number; offset: number; hasMore: boolean } | null {
    const c = this.cacheOf(info);
    if (!c) return null;
    c.sorted ??= (c.informer.list() as unknown as KubeObject[])
      .map(objectKey)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let keys = c.sorted;
    if (namespace !== undefined) {
      const from = lowerBound(keys, `${namespace}/`);
      const to = lowerBound(keys, `${namespace}0`); // '0' follows '/' in code-point order
      keys = keys.slice(from, to);
    }
    const start = after === undefined ? 0 : upperBound(keys, after);
    const items: KubeObject[] = [];
    let i = start;
    for (; i < keys.length && items.length < size; i++) {
      const [ns, name] = splitKey(keys[i]!);
      const obj = c.informer.get(name, ns || undefined);
      if (obj) items.push(obj as unknown as KubeObject);
    }
    return { items, total: keys.length, offset: start, hasMore: i < keys.length };
  }

  /**
   * Starts `info`'s cache if it is not running and resolves once its first list is in: true when the kind's lists are
   * served from the cache from now on, false for a kind that is not cached (or a cache stopped before its list).
   */
  async whenSynced(info: KindInfo): Promise<boolean> {
    if (!this.cacheOf(info)) {
      const c = this.kinds.get(info.kind);
      return c ? c.started : false;
    }
    return true;
  }

  /** Every object of `info` from the cache; null while it is not synced. */
  all(info: KindInfo): KubeObject[] | null {
    return (this.cacheOf(info)?.informer.list() as unknown as KubeObject[] | undefined) ?? null;
  }

  private sweep(): void {
    const now = this.now();
    for (const [kind, c] of this.kinds) {
      if (now - c.lastUsed < IDLE_STOP_MS) continue;
      this.kinds.delete(kind);
      void c.informer.stop();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.kinds.values()];
    this.kinds.clear();
    await Promise.all(all.map((c) => c.informer.stop()));
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** First index whose key is >= `key`. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is > `key`. */
function upperBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
