import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from '../../platform/kube/informer';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { templateObjects, type TemplateManifest } from './template.crd';

export type CachedTemplate = TemplateManifest & KubernetesObject & { metadata: TemplateManifest['metadata'] & { resourceVersion?: string } };

/**
 * Every replica's watch cache of the Template objects (an informer: list once, then watch), so `templates`,
 * `template` and `Session.template` read memory instead of sending the API server a LIST per call (or per alias).
 * It starts on first use (the CRDs are installed by then) and, until its first list is in, answers null: the
 * service then reads the API server as before. A write through the API waits (briefly) until the cache has seen it,
 * so a client reads its own writes.
 */
export class TemplateCache {
  private informer: Informer<CachedTemplate> | undefined;
  private synced = false;

  constructor(private readonly deps: { kube: StreamSpaceApi; logger?: Logger }) {}

  /** Every cached template, or null while the cache has not synced. */
  items(): CachedTemplate[] | null {
    const informer = this.start();
    return this.synced ? informer.list() : null;
  }

  /** The cached template (undefined: none), or null while the cache has not synced. */
  find(name: string): CachedTemplate | undefined | null {
    const informer = this.start();
    return this.synced ? informer.get(name, this.deps.kube.namespace) : null;
  }

  /** Resolves once the cache holds `name` at `resourceVersion` (null: deleted), or after `timeoutMs` at the latest. */
  observed(name: string, resourceVersion: string | null, timeoutMs = 2000): Promise<void> {
    const informer = this.informer;
    if (!informer || !this.synced) return Promise.resolve();
    const seen = () => {
      const obj = informer.get(name, this.deps.kube.namespace);
      return resourceVersion === null ? !obj : obj?.metadata.resourceVersion === resourceVersion;
    };
    if (seen()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (seen()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        informer!.off('add', check).off('update', check).off('delete', check);
        resolve();
      }
      informer.on('add', check).on('update', check).on('delete', check);
    });
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }

  /** Statistics of the watch (lists, watches), for tests and logs; undefined before first use. */
  get stats() {
    return this.informer?.stats;
  }

  private start(): Informer<CachedTemplate> {
    if (this.informer) return this.informer;
    const informer = templateObjects(this.deps.kube).watch() as unknown as Informer<CachedTemplate>;
    this.informer = informer;
    informer.on('synced', () => {
      this.synced = true;
    });
    informer.on('error', (err, info) => this.deps.logger?.warn({ err: err.message, retryInMs: info.retryInMs }, 'template cache: watch failed; retrying'));
    informer.start().catch(() => undefined);
    return informer;
  }
}
