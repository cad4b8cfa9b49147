import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isGone, kubeGetJson, kubeGetStream, KubeHttpError } from './kube-http';

/**
 * List-then-watch of one collection, kept in a local cache, the way client-go's reflector does it:
 *
 * - lists (paged) and remembers the list's resourceVersion, then watches from it with bookmarks on;
 * - every event moves the resourceVersion forward, so a dropped connection (apiserver restart, idle timeout,
 *   the server's own watch timeout) resumes exactly where it stopped, without a new list;
 * - "410 Gone" (resourceVersion too old, after an etcd compaction or a fresh watch cache) means events were
 *   lost: it lists again and reports the difference to the cache as add/update/delete, so handlers never miss
 *   a deletion that happened while nobody watched;
 * - any other failure (connection refused, 5xx, 403) backs off exponentially with jitter, forever, until
 *   stop(); the 'error' event reports each failure and the delay before the next attempt.
 *
 * @kubernetes/client-node's makeInformer was not used: in 1.4.0 it stops for good on the first error that is
 * not a 410 (the caller must restart it), has no backoff, no bookmarks and no client-side idle timeout.
 */

/** What an informer watches. */
export interface InformerOptions {
  kubeConfig: KubeConfig;
  /** Path of the collection: /api/v1/namespaces/<ns>/pods, /apis/<group>/<version>/<plural>, ... */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the list. Default 500. */
  pageSize?: number;
  /**
   * First retry delay after a failure; doubles up to maxBackoffMs, with jitter (half to all of it). Defaults 200 ms
   * and 3 s: an API server back from a restart is watched again within 3 s, and a few informers per replica retrying
   * every 1.5-3 s are no load for it.
   */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The server ends each watch after about this long (randomised +-25%); the informer then resumes. Default 300 s. */
  watchTimeoutSeconds?: number;
}

/** Why the cache was (re)filled from a list. */
export type SyncReason = 'initial' | 'gone';

export interface InformerEvents<T> {
  add: (obj: T) => void;
  update: (obj: T, old: T) => void;
  delete: (obj: T) => void;
  /** The cache holds the result of a full list (first one, or after 410 Gone). */
  synced: (info: { reason: SyncReason; count: number; resourceVersion: string }) => void;
  /** A failure; the informer retries after `retryInMs`. */
  error: (err: Error, info: { retryInMs: number }) => void;
}

/** Counters for logs, metrics and tests. */
export interface InformerStats {
  lists: number;
  watches: number;
  /** Re-lists caused by 410 Gone. */
  relists: number;
  failures: number;
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; reason?: string; message?: string };
}

interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** A cached, continuously updated view of one collection. */
export class Informer<T extends KubernetesObject = KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: { [K in keyof InformerEvents<T>]: InformerEvents<T>[K][] } = {
    add: [],
    update: [],
    delete: [],
    synced: [],
    error: [],
  };
  private rv = '';
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private syncedOnce: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (err: Error) => void;
  readonly stats: InformerStats = { lists: 0, watches: 0, relists: 0, failures: 0 };

  private syncFailed = false;

  constructor(private readonly options: InformerOptions) {
    this.syncedOnce = this.resetSync();
  }

  private resetSync(): Promise<void> {
    this.syncFailed = false;
    let settled = false;
    this.syncedOnce = new Promise((resolve, reject) => {
      this.resolveSynced = () => {
        settled = true;
        resolve();
      };
      this.rejectSynced = (err) => {
        if (settled) return;
        settled = true;
        this.syncFailed = true;
        reject(err);
      };
    });
    // stop() before the first sync rejects this promise; nobody has to be listening for that.
    this.syncedOnce.catch(() => {});
    return this.syncedOnce;
  }

  on<K extends keyof InformerEvents<T>>(event: K, handler: InformerEvents<T>[K]): this {
    this.handlers[event].push(handler);
    return this;
  }

  off<K extends keyof InformerEvents<T>>(event: K, handler: InformerEvents<T>[K]): this {
    const list = this.handlers[event];
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  /** Starts listing and watching; resolves after the first complete list (retrying failures until then). */
  async start(): Promise<void> {
    if (!this.running) {
      // Started again after a stop() that came before the first sync: that stop rejected the sync promise.
      if (this.syncFailed) this.resetSync();
      this.abort = new AbortController();
      this.running = this.run(this.abort.signal);
    }
    await this.syncedOnce;
  }

  /** Ends the watch; the cache keeps its last state. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.abort!.abort();
    this.rejectSynced(new Error('informer stopped before its first sync'));
    await this.running;
    this.running = undefined;
  }

  /** Resolves once the first list is in the cache. */
  waitForSync(): Promise<void> {
    return this.syncedOnce;
  }

  /** The newest resourceVersion seen (of a list, an event or a bookmark). */
  get resourceVersion(): string {
    return this.rv;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(cacheKey(namespace, name));
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let reason: SyncReason = 'initial';
    while (!signal.aborted) {
      try {
        if (!this.rv) {
          await this.relist(signal, reason);
          failures = 0;
        }
        const outcome = await this.watchOnce(signal);
        if (outcome === 'gone') {
          this.rv = '';
          reason = 'gone';
          this.stats.relists++;
          continue;
        }
        // A watch that delivered events (or lasted) was healthy; one the server closed at once counts as a
        // failure, or a misbehaving server would get a tight reconnect loop.
        if (outcome === 'healthy') {
          failures = 0;
          continue;
        }
        throw new Error('the watch ended immediately without events');
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          // A list continuation token or the watch's resourceVersion expired: list again from scratch.
          this.rv = '';
          reason = 'gone';
          this.stats.relists++;
          continue;
        }
        this.stats.failures++;
        const base = Math.min(this.options.maxBackoffMs ?? 3_000, (this.options.initialBackoffMs ?? 200) * 2 ** failures);
        const delay = Math.round(base / 2 + (Math.random() * base) / 2);
        failures++;
        this.emit('error', err instanceof Error ? err : new Error(String(err)), { retryInMs: delay });
        await sleep(delay, signal);
      }
    }
  }

  /** Lists every page and replaces the cache, reporting differences as events. */
  private async relist(signal: AbortSignal, reason: SyncReason): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let rv: string;
    do {
      const page = await kubeGetJson<ObjectList<T>>(this.options.kubeConfig, this.options.path, {
        signal,
        query: {
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          limit: this.options.pageSize ?? 500,
          continue: continueToken,
        },
      });
      items.push(...(page.items ?? []));
      continueToken = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? '';
    } while (continueToken);
    this.stats.lists++;

    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, old] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    this.rv = rv;
    this.emit('synced', { reason, count: fresh.size, resourceVersion: rv });
    this.resolveSynced();
  }

  /**
   * One watch connection from the current resourceVersion. Resolves when the server ends it ('healthy' if it
   * was useful, 'short' if it ended at once), or 'gone' for a 410; rejects on other failures.
   */
  private async watchOnce(signal: AbortSignal): Promise<'healthy' | 'short' | 'gone'> {
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.max(1, Math.round(timeout * (0.75 + Math.random() * 0.5)));
    const started = Date.now();
    const res = await kubeGetStream(this.options.kubeConfig, this.options.path, {
      signal,
      // With no event and no bookmark for longer than the server's own timeout, the connection is dead.
      idleTimeoutMs: (timeoutSeconds + 30) * 1000,
      query: {
        watch: 1,
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      },
    });
    this.stats.watches++;
    let events = 0;
    // Lines are split by hand: iterating the response itself throws when the connection breaks mid-stream
    // (apiserver killed), where readline would wait for an 'end' that never comes.
    let buffered = '';
    try {
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') {
            const status = event.object;
            if (status.code === 410) return 'gone';
            throw new KubeHttpError(
              status.code ?? 500,
              status.reason,
              `watch error ${status.code ?? ''} ${status.reason ?? ''}: ${status.message ?? ''}`,
            );
          }
          events++;
          this.apply(event);
        }
      }
    } catch (err) {
      if (signal.aborted) return 'healthy';
      throw err;
    } finally {
      res.destroy();
    }
    return events > 0 || Date.now() - started > 1000 ? 'healthy' : 'short';
  }

  private apply(event: WatchEvent<T>): void {
    const obj = event.object;
    const rv = obj.metadata?.resourceVersion;
    if (event.type !== 'BOOKMARK') {
      const key = keyOf(obj);
      const old = this.cache.get(key);
      if (event.type === 'DELETED') {
        this.cache.delete(key);
        this.emit('delete', obj);
      } else {
        this.cache.set(key, obj);
        if (!old) this.emit('add', obj);
        else if (old.metadata?.resourceVersion !== rv) this.emit('update', obj, old);
      }
    }
    if (rv) this.rv = rv;
  }

  private emit<K extends keyof InformerEvents<T>>(event: K, ...args: Parameters<InformerEvents<T>[K]>): void {
    for (const handler of [...this.handlers[event]]) {
      try {
        (handler as (...a: Parameters<InformerEvents<T>[K]>) => void)(...args);
      } catch (err) {
        // A handler's bug must not stop the watch; the error handlers hear about it (unless they threw).
        if (event !== 'error') this.emit('error', err as Error, { retryInMs: 0 });
      }
    }
  }
}

/** Creates an informer (not started). */
export function createInformer<T extends KubernetesObject = KubernetesObject>(options: InformerOptions): Informer<T> {
  return new Informer<T>(options);
}

function keyOf(obj: KubernetesObject): string {
  return cacheKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

function cacheKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
