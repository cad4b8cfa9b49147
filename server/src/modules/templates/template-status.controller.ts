import type { KubernetesObject } from '@kubernetes/client-node';
import type { ControllerDefinition, JobContext } from '../../platform/jobs/job-runner';
import { WorkQueue } from '../../platform/jobs/work-queue';
import type { Informer } from '../../platform/kube/informer';
import { isConflict } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import { normalizeTemplate } from './template-normalize';
import { isSecurityApproved, notApprovedMessage } from './template-security';
import { templateObjects, type TemplateManifest, type TemplateStatus } from './template.crd';

/**
 * Writes every Template's status (valid, message, observedGeneration) from the same validation the API uses
 * (normalizeTemplate), so a template made with kubectl says why it cannot be used. A controller run by the
 * leader only: watch-driven, with a periodic resync, a WorkQueue (deduplicated keys, backoff on failure); a status
 * that is already right is not written again.
 */
export class TemplateStatusController implements ControllerDefinition {
  readonly name = 'template-status';
  private templates!: Informer<TemplateManifest & KubernetesObject>;
  private queue: WorkQueue | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { kube: StreamSpaceApi; resyncIntervalMs: number }) {}

  async start({ signal, logger }: JobContext): Promise<void> {
    const queue = new WorkQueue({
      signal,
      handle: (name) => this.reconcile(name),
      onError: (name, err, retryInMs) => logger[isConflict(err) ? 'debug' : 'warn']({ template: name, err: (err as Error).message, retryInMs }, 'template status: write failed; requeued'),
    });
    this.queue = queue;
    this.templates = templateObjects(this.options.kube).watch();
    const onTemplate = (t: TemplateManifest) => queue.add(t.metadata.name);
    this.templates.on('add', onTemplate);
    this.templates.on('update', onTemplate);
    this.templates.on('error', (err, info) => logger.warn({ err: err.message, retryInMs: info.retryInMs }, 'template status: watch failed; retrying'));
    await this.templates.start();
    await this.templates.waitForSync();
    const resync = () => {
      this.resyncTimer = setTimeout(() => {
        if (signal.aborted) return;
        for (const t of this.templates.list()) queue.add(t.metadata.name);
        resync();
      }, this.options.resyncIntervalMs);
    };
    resync();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    const stopped = this.queue?.stop();
    await this.templates?.stop();
    await stopped;
  }

  private async reconcile(name: string) {
    const { kube } = this.options;
    const obj = this.templates.get(name, kube.namespace);
    if (!obj) return;
    const r = normalizeTemplate({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name }, spec: obj.spec });
    // A template whose security exceptions no admin approved cannot start sessions: not valid (yet), and it says why.
    const approved = r.ok && isSecurityApproved({ metadata: obj.metadata, spec: r.template.spec });
    const message = !r.ok ? `Template "${name}" is invalid: ${r.errors.join('; ')}` : approved ? 'The template is valid' : notApprovedMessage(name, r.template.spec);
    const status: TemplateStatus = { valid: approved, message, observedGeneration: obj.metadata.generation };
    if (obj.status?.valid === status.valid && obj.status?.message === status.message && obj.status?.observedGeneration === status.observedGeneration) return;
    await templateObjects(kube).patchStatus(name, { status });
  }
}
