import type { KubernetesObject } from '@kubernetes/client-node';
import type { ControllerDefinition, JobContext } from '../../platform/jobs/job-runner';
import type { Informer } from '../../platform/kube/informer';
import { isConflict } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { normalizeTemplate } from './template-normalize';
import { templateObjects, type TemplateManifest, type TemplateStatus } from './template.crd';

/**
 * Writes every Template's status (valid, message, observedGeneration) from the same validation the API uses
 * (normalizeTemplate), so a template made with kubectl says why it cannot be used. A controller run by the
 * leader only: watch-driven, with a periodic resync, one deduplicating queue and backoff on failure; a status
 * that is already right is not written again.
 */
export class TemplateStatusController implements ControllerDefinition {
  readonly name = 'template-status';
  private templates!: Informer<TemplateManifest & KubernetesObject>;
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private processing: Promise<void> | undefined;
  private signal: AbortSignal | undefined;
  private logger!: Logger;

  constructor(private readonly options: { kube: StreamSpaceApi; resyncIntervalMs: number }) {}

  async start({ signal, logger }: JobContext): Promise<void> {
    this.signal = signal;
    this.logger = logger;
    this.templates = templateObjects(this.options.kube).watch();
    const onTemplate = (t: TemplateManifest) => this.enqueue(t.metadata.name);
    this.templates.on('add', onTemplate);
    this.templates.on('update', onTemplate);
    this.templates.on('error', (err, info) => logger.warn({ err: err.message, retryInMs: info.retryInMs }, 'template status: watch failed; retrying'));
    await this.templates.start();
    await this.templates.waitForSync();
    this.later(() => this.resync(), this.options.resyncIntervalMs);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
    await this.templates?.stop();
    await this.processing;
  }

  private resync() {
    for (const t of this.templates.list()) this.enqueue(t.metadata.name);
    this.later(() => this.resync(), this.options.resyncIntervalMs);
  }

  private later(fn: () => void, delayMs: number) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.signal?.aborted) fn();
    }, delayMs);
    this.timers.add(t);
  }

  private enqueue(name: string) {
    if (this.signal?.aborted) return;
    this.queue.add(name);
    if (!this.processing) this.processing = this.drain().finally(() => (this.processing = undefined));
  }

  private async drain() {
    while (this.queue.size && !this.signal?.aborted) {
      const name = this.queue.values().next().value as string;
      this.queue.delete(name);
      try {
        await this.reconcile(name);
        this.retries.delete(name);
      } catch (err) {
        if (this.signal?.aborted) return;
        const n = (this.retries.get(name) ?? 0) + 1;
        this.retries.set(name, n);
        const delay = Math.min(30_000, 100 * 2 ** Math.min(n, 9));
        this.logger[isConflict(err) ? 'debug' : 'warn']({ template: name, err: (err as Error).message, retryInMs: delay }, 'template status: write failed; requeued');
        this.later(() => this.enqueue(name), delay);
      }
    }
  }

  private async reconcile(name: string) {
    const { kube } = this.options;
    const obj = this.templates.get(name, kube.namespace);
    if (!obj) return;
    const r = normalizeTemplate({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name }, spec: obj.spec });
    const status: TemplateStatus = { valid: r.ok, message: r.ok ? 'The template is valid' : `Template "${name}" is invalid: ${r.errors.join('; ')}`, observedGeneration: obj.metadata.generation };
    if (obj.status?.valid === status.valid && obj.status?.message === status.message && obj.status?.observedGeneration === status.observedGeneration) return;
    await templateObjects(kube).patchStatus(name, { status });
  }
}
