import { createHash } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseDurationMs } from '../../config/config';
import type { ControllerDefinition, JobContext } from '../../platform/jobs/job-runner';
import { WorkQueue } from '../../platform/jobs/work-queue';
import { createInformer, type Informer } from '../../platform/kube/informer';
import { isConflict, isNotFound, kubeMessage } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { normalizeTemplate } from '../templates/template-normalize';
import { envObjectLabels, type EnvObjectLabels } from '../templates/template-env-objects';
import { envReferences, isSecurityApproved, notApprovedMessage, referenceProblem } from '../templates/template-security';
import { templateObjects, type TemplateManifest } from '../templates/template.crd';
import { buildSessionChildren, homeClaimConflict, LABEL_SESSION, sessionUrl } from './session-manifests';
import { decideStatus, reconcileNeeded, statusChanged } from './session-status';
import { sessionObjects, type SessionManifest, type SessionStatus, type SessionWorkloadConfig } from './session.crd';

/**
 * The session reconciler: a controller run by the leader only (JobRunner). Watch-driven (informers on
 * Sessions, Templates, the sessions' Deployments and Pods) with a periodic resync of every Session, one
 * work queue deduplicating keys, and each reconcile idempotent:
 * - children are written with server-side apply (field manager "streamspace"), skipped when the cached
 *   object already carries the desired spec hash, so a resync of an unchanged session makes no writes;
 * - status is written only when it changed, as a merge patch of the status subresource;
 * - a resourceVersion conflict or any API failure requeues the key with backoff.
 * Template objects are watched only to build sessions; their status is templates/template-status.controller.ts's.
 */

export const SESSION_FINALIZER = 'stream.streamspace.io/session-cleanup';
export const SPEC_HASH_ANNOTATION = 'stream.streamspace.io/spec-hash';
/** Sessions reconciled at once (never the same session twice at once). */
const RECONCILE_WORKERS = 16;

const FIELD_MANAGER = 'streamspace';

export interface SessionReconcilerOptions {
  kube: StreamSpaceApi;
  /** The workload configuration now (runtime settings apply without a restart); read at each reconcile. */
  workload: () => SessionWorkloadConfig;
  /** Used when a Session has no spec.startupTimeout. */
  defaultStartupTimeoutMs: number;
  resyncIntervalMs: number;
  /** Now, for tests of deadlines; defaults to the clock. */
  now?: () => Date;
  /** Told each reconcile's duration and a session's time from creation to its first Running phase (metrics). */
  observe?: { reconciled(seconds: number, outcome: 'success' | 'failure'): void; started(seconds: number): void };
}


function hashOf(obj: unknown): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
}

export class SessionReconciler implements ControllerDefinition {
  readonly name = 'session-reconciler';
  private sessions!: Informer<SessionManifest & KubernetesObject>;
  private templates!: Informer<TemplateManifest & KubernetesObject>;
  private deployments!: Informer<V1Deployment>;
  private pods!: Informer<V1Pod>;
  private queue: WorkQueue | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private logger!: Logger;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly envObjectLabels: EnvObjectLabels;
  /** Reconciles done (for tests and metrics). */
  reconciles = 0;

  constructor(private readonly options: SessionReconcilerOptions) {
    const kc = options.kube.kubeConfig;
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.envObjectLabels = envObjectLabels(options.kube);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async start({ signal, logger }: JobContext): Promise<void> {
    this.signal = signal;
    this.logger = logger;
    this.queue = new WorkQueue({
      signal,
      handle: async (key) => {
        const began = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - began) / 1e9;
        try {
          await this.reconcileSession(key);
        } catch (err) {
          this.options.observe?.reconciled(seconds(), 'failure');
          throw err;
        }
        this.options.observe?.reconciled(seconds(), 'success');
        this.reconciles++;
      },
      // Sessions are independent: a few at once, so a thousand starting together do not queue behind each other.
      workers: RECONCILE_WORKERS,
      onError: (key, err, retryInMs) =>
        logger[isConflict(err) ? 'debug' : 'warn']({ key, err: (err as Error).message, body: (err as { body?: unknown }).body, retryInMs }, 'reconcile failed; requeued'),
    });
    const { kube } = this.options;
    const { kubeConfig, namespace } = kube;
    this.sessions = sessionObjects(kube).watch();
    this.templates = templateObjects(kube).watch();
    this.deployments = createInformer({ kubeConfig, path: `/apis/apps/v1/namespaces/${namespace}/deployments`, labelSelector: LABEL_SESSION });
    this.pods = createInformer({ kubeConfig, path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: LABEL_SESSION });

    const bySession = (obj: KubernetesObject) => {
      const name = obj.metadata?.labels?.[LABEL_SESSION];
      if (name) this.enqueue(name);
    };
    this.sessions.on('add', (s) => this.enqueue(s.metadata.name));
    this.sessions.on('update', (s, old) => {
      if (reconcileNeeded(s, old)) this.enqueue(s.metadata.name);
    });
    this.sessions.on('delete', (s) => this.forget(s.metadata.name));
    for (const inf of [this.deployments, this.pods] as Informer<KubernetesObject>[]) {
      inf.on('add', bySession);
      inf.on('update', bySession);
      inf.on('delete', bySession);
    }
    const onTemplate = (t: TemplateManifest) => {
      for (const s of this.sessions.list()) if (s.spec.template === t.metadata.name) this.enqueue(s.metadata.name);
    };
    this.templates.on('add', onTemplate);
    this.templates.on('update', onTemplate);
    this.templates.on('delete', onTemplate);
    for (const inf of [this.sessions, this.templates, this.deployments, this.pods] as Informer<KubernetesObject>[]) {
      inf.on('error', (err, info) => logger.warn({ err: err.message, retryInMs: info.retryInMs }, 'reconciler watch failed; retrying'));
    }

    await Promise.all([this.templates.start(), this.deployments.start(), this.pods.start()]);
    await Promise.all([this.templates.waitForSync(), this.deployments.waitForSync(), this.pods.waitForSync(), this.sweepServices()]);
    // Sessions last: their first events find the other caches filled.
    await this.sessions.start();
    await this.sessions.waitForSync();
    this.scheduleResync();
    logger.info({ namespace, sessions: this.sessions.list().length, templates: this.templates.list().length }, 'session reconciler started');
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    const stopped = this.queue?.stop();
    await Promise.allSettled([this.sessions?.stop(), this.templates?.stop(), this.deployments?.stop(), this.pods?.stop()]);
    await stopped;
  }

  /**
   * The sessions that have a Service now (one list): each one's first reconcile deletes it if the session no longer
   * needs one (behind the gateway alone, decision 0030: Services of an older version, or of routing since turned
   * off), instead of leaving it, its address and its endpoints until the session is deleted.
   */
  private async sweepServices(): Promise<void> {
    const { namespace } = this.options.kube;
    try {
      const services = await this.core.listNamespacedService({ namespace, labelSelector: `${LABEL_SESSION},app.kubernetes.io/managed-by=streamspace` });
      for (const s of services.items) {
        const name = s.metadata?.labels?.[LABEL_SESSION];
        if (name && name === s.metadata?.name) this.sweep.add(name);
      }
    } catch (err) {
      this.logger.warn({ err: kubeMessage(err) }, 'could not list the sessions\' Services; unneeded ones stay until their session is deleted');
    }
  }

  /** Sessions waiting to be reconciled and being reconciled now. */
  get queueDepth(): { waiting: number; active: number } {
    return this.queue?.depth ?? { waiting: 0, active: 0 };
  }

  /** Resolves once the queue is empty (tests). */
  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  private scheduleResync() {
    this.resyncTimer = setTimeout(() => {
      if (this.signal?.aborted) return;
      this.applied.clear();
      for (const s of this.sessions.list()) this.enqueue(s.metadata.name);
      this.scheduleResync();
    }, this.options.resyncIntervalMs);
  }

  private forget(name: string) {
    this.sweep.delete(name);
    this.applyFailures.delete(name);
    this.queue?.forget(name);
  }

  private enqueueAfter(key: string, delayMs: number) {
    this.queue?.addAfter(key, delayMs);
  }

  enqueue(key: string) {
    this.queue?.add(key);
  }

  // ---- templates -------------------------------------------------------------------------------

  /** The validated template for a session, or why it cannot be used. */
  private async resolveTemplate(name: string): Promise<{ template: TemplateManifest } | { reason: 'TemplateNotFound' | 'TemplateInvalid' | 'TemplateNotApproved'; message: string }> {
    const obj = this.templates.get(name, this.options.kube.namespace);
    if (!obj) return { reason: 'TemplateNotFound', message: `Template "${name}" does not exist in namespace ${this.options.kube.namespace}` };
    const r = normalizeTemplate({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata!.name }, spec: obj.spec });
    if (!r.ok) return { reason: 'TemplateInvalid', message: `Template "${name}" is invalid: ${r.errors.join('; ')}` };
    // Exceptions to the restricted pod security run only once an admin approved exactly these.
    if (!isSecurityApproved({ metadata: obj.metadata ?? {}, spec: r.template.spec })) return { reason: 'TemplateNotApproved', message: notApprovedMessage(name, r.template.spec) };
    // Env may read only Secrets and ConfigMaps labelled for sessions, also when the Template was made with kubectl.
    const problems: string[] = [];
    for (const ref of envReferences(r.template.spec)) {
      const problem = referenceProblem(ref, await this.envObjectLabels(ref.kind, ref.name), this.options.kube.namespace);
      if (problem) problems.push(problem);
    }
    if (problems.length) return { reason: 'TemplateInvalid', message: `Template "${name}" is invalid: ${problems.join('; ')}` };
    return { template: { ...r.template, metadata: { ...r.template.metadata, namespace: this.options.kube.namespace } } };
  }

  // ---- sessions --------------------------------------------------------------------------------

  private async reconcileSession(name: string) {
    const { namespace } = this.options.kube;
    const session = this.sessions.get(name, namespace);
    if (!session) return;

    if (session.metadata.deletionTimestamp) {
      await this.finalize(session);
      return;
    }
    if (!session.metadata.finalizers?.includes(SESSION_FINALIZER)) {
      await this.patchSession(name, { metadata: { finalizers: [...(session.metadata.finalizers ?? []), SESSION_FINALIZER], resourceVersion: session.metadata.resourceVersion } });
      return; // the update event brings us back with the new object
    }

    const now = this.now();
    const state = session.spec.state ?? 'running';
    // maxSessionDuration: terminate (keep as history) once the session is older than allowed.
    if (state !== 'terminated' && session.spec.maxSessionDuration && session.metadata.creationTimestamp) {
      const endsAt = new Date(new Date(session.metadata.creationTimestamp).getTime() + parseDurationMs(session.spec.maxSessionDuration));
      if (now >= endsAt) {
        await this.patchSession(name, { spec: { state: 'terminated' }, metadata: { resourceVersion: session.metadata.resourceVersion } });
        await this.event(session, 'Normal', 'MaxDurationExceeded', `The session reached its maximum duration of ${session.spec.maxSessionDuration} and was terminated`);
        return;
      }
      this.enqueueAfter(name, endsAt.getTime() - now.getTime() + 50);
    }

    const resolved = await this.resolveTemplate(session.spec.template);
    const deployment = this.deployments.get(name, namespace);
    const pods = this.pods.list(namespace).filter((p) => p.metadata?.labels?.[LABEL_SESSION] === name);
    let url: string | undefined;
    let homeProblem: { reason: 'HomeClaimConflict'; message: string } | undefined;

    if (state === 'terminated') {
      await this.removeWorkload(session);
    }
    const workload = this.options.workload();
    if (state !== 'terminated' && 'template' in resolved) {
      const children = buildSessionChildren(session, resolved.template, workload);
      const conflict = children.homeClaim ? await this.ensureClaim(children.homeClaim, session) : null;
      if (conflict) homeProblem = { reason: 'HomeClaimConflict', message: conflict };
    }
    if (state !== 'terminated' && 'template' in resolved && !homeProblem) {
      const children = buildSessionChildren(session, resolved.template, workload);
      try {
        // The policy first: the pods never run without it.
        if (children.networkPolicy) await this.apply(children.networkPolicy, this.appliedHash(children.networkPolicy));
        else await this.removeChild('NetworkPolicy', name);
        if (children.service) await this.apply(children.service, this.appliedHash(children.service));
        if (children.ingress) await this.apply(children.ingress, this.appliedHash(children.ingress));
        else await this.removeChild('Ingress', name);
        await this.apply(children.deployment, this.cachedHash(deployment));
        // After the Deployment: an older one without the ports annotation is reached through its Service until then.
        if (!children.service) await this.removeChild('Service', name);
        this.applyFailures.delete(name);
      } catch (err) {
        // The API server refused a child (a full Service address range, a quota, an admission policy): the retry
        // comes with backoff; the reason is an event on the Session (once per distinct message), not only a log line.
        const message = kubeMessage(err);
        if (!isConflict(err) && this.applyFailures.get(name) !== message) {
          this.applyFailures.set(name, message);
          await this.event(session, 'Warning', 'ApplyFailed', `The session's workload could not be created: ${message}`);
        }
        throw err;
      }
      url = sessionUrl(session, resolved.template, workload);
      this.sweep.delete(name);
    }

    const startupTimeoutMs = session.spec.startupTimeout ? parseDurationMs(session.spec.startupTimeout) : this.options.defaultStartupTimeoutMs;
    const decision = decideStatus({
      session,
      templateProblem: homeProblem ?? ('template' in resolved || state === 'terminated' ? undefined : resolved),
      deployment: state === 'terminated' ? undefined : this.deployments.get(name, namespace),
      pods,
      url,
      now,
      startupTimeoutMs,
    });
    if (decision.requeueAt) this.enqueueAfter(name, decision.requeueAt.getTime() - now.getTime() + 50);
    await this.writeStatus(session, decision.status);
  }

  private cachedHash(obj: KubernetesObject | undefined): string | undefined {
    return obj?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
  }

  /**
   * What this replica last applied to a child it watches no informer for (Service, Ingress, NetworkPolicy), so a
   * reconcile (every pod or status event of a session) does not send the API server an unchanged apply each time.
   * Forgotten at each resync, so a child changed or deleted behind the reconciler's back is repaired by the next one.
   */
  private readonly applied = new Map<string, string>();

  private appliedKey(obj: KubernetesObject): string {
    return `${obj.kind}/${obj.metadata?.name}`;
  }

  private appliedHash(obj: KubernetesObject): string | undefined {
    return this.applied.get(this.appliedKey(obj));
  }

  /** Server-side apply of a child unless the cached copy already has the desired spec. */
  private async apply(obj: KubernetesObject & { spec?: unknown }, cachedHash: string | undefined) {
    const hash = hashOf({ spec: obj.spec, labels: obj.metadata?.labels, annotations: obj.metadata?.annotations, owners: obj.metadata?.ownerReferences });
    if (cachedHash === hash) return;
    obj.metadata = { ...obj.metadata, annotations: { ...(obj.metadata?.annotations ?? {}), [SPEC_HASH_ANNOTATION]: hash } };
    await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    if (obj.kind !== 'Deployment') this.applied.set(this.appliedKey(obj), hash);
  }

  /**
   * Deletes a child the session no longer needs (an Ingress after routing went to none, a NetworkPolicy after
   * egress was allowed again, a Service once the gateway alone serves the session) once per change: the applied map
   * remembers that it is gone until the next resync.
   */
  private async removeChild(kind: 'Ingress' | 'NetworkPolicy' | 'Service', name: string) {
    const key = `${kind}/${name}`;
    // Only when this replica applied one, or the settings changed since: an unchanged session costs no call.
    const applied = this.applied.get(key);
    if (!(applied && applied !== 'absent') && !this.sweep.has(name)) return;
    const namespace = this.options.kube.namespace;
    const remove =
      kind === 'Ingress'
        ? this.networking.deleteNamespacedIngress({ name, namespace })
        : kind === 'Service'
          ? this.core.deleteNamespacedService({ name, namespace })
          : this.networking.deleteNamespacedNetworkPolicy({ name, namespace });
    await remove.catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    this.applied.set(key, 'absent');
  }

  /** The last refusal reported for a session's children (one event per distinct message). */
  private readonly applyFailures = new Map<string, string>();

  /** Sessions whose Ingress or NetworkPolicy may have become unneeded (the settings changed since their last reconcile). */
  private readonly sweep = new Set<string>();

  /** Re-applies every session (after the runtime settings changed): forgets what was applied and queues them all. */
  requeueAll() {
    this.applied.clear();
    for (const s of this.sessions?.list() ?? []) {
      this.sweep.add(s.metadata.name);
      this.enqueue(s.metadata.name);
    }
  }

  /** Creates the home claim when missing; an existing one owned by someone else is refused (its reason returned). */
  private async ensureClaim(claim: KubernetesObject, session: SessionManifest): Promise<string | null> {
    try {
      const existing = await this.core.readNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace: this.options.kube.namespace });
      const conflict = homeClaimConflict(session, existing);
      if (conflict) await this.event(session, 'Warning', 'HomeClaimConflict', conflict);
      return conflict;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.core.createNamespacedPersistentVolumeClaim({ namespace: this.options.kube.namespace, body: claim });
      } catch (createErr) {
        if (!isConflict(createErr)) throw createErr;
      }
    }
    return null;
  }

  private async removeWorkload(session: SessionManifest) {
    const { namespace } = this.options.kube;
    const name = session.metadata.name;
    for (const kind of ['Service', 'Ingress', 'NetworkPolicy']) this.applied.delete(`${kind}/${name}`);
    const ignore404 = (err: unknown) => {
      if (!isNotFound(err)) throw err;
    };
    await this.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' }).catch(ignore404);
    await this.core.deleteNamespacedService({ name, namespace }).catch(ignore404);
    await this.networking.deleteNamespacedIngress({ name, namespace }).catch(ignore404);
    await this.networking.deleteNamespacedNetworkPolicy({ name, namespace }).catch(ignore404);
  }

  private async finalize(session: SessionManifest) {
    if (!session.metadata.finalizers?.includes(SESSION_FINALIZER)) return;
    await this.removeWorkload(session);
    await this.event(session, 'Normal', 'Deleted', 'The session was deleted; its workload is removed (the home volume is kept)');
    await this.patchSession(session.metadata.name, {
      metadata: { finalizers: session.metadata.finalizers.filter((f) => f !== SESSION_FINALIZER), resourceVersion: session.metadata.resourceVersion },
    });
  }

  private async patchSession(name: string, body: object) {
    await sessionObjects(this.options.kube).patch(name, body);
  }

  private async writeStatus(session: SessionManifest, status: SessionStatus) {
    if (!statusChanged(session.status, status)) return;
    // Merge patch of owned fields; the resourceVersion precondition makes a stale decision fail with 409 (requeued).
    await sessionObjects(this.options.kube).patchStatus(session.metadata.name, {
      metadata: { resourceVersion: session.metadata.resourceVersion },
      status: { ...status, url: status.url ?? null, podName: status.podName ?? null },
    });
    const before = session.status?.phase;
    if (status.phase === 'Running' && (before === undefined || before === 'Pending') && session.metadata.creationTimestamp && !session.status?.podName) {
      // First start only (a woken session has had a pod before): creation to Ready.
      this.options.observe?.started(Math.max(0, (this.now().getTime() - new Date(session.metadata.creationTimestamp).getTime()) / 1000));
    }
    if (before !== status.phase) {
      this.logger.info({ session: session.metadata.name, from: before ?? 'New', to: status.phase, message: status.message }, 'session phase changed');
      const warning = status.phase === 'Failed';
      await this.event(session, warning ? 'Warning' : 'Normal', status.phase ?? 'Unknown', `${before ?? 'New'} -> ${status.phase}: ${status.message ?? ''}`);
    }
  }

  private async event(session: SessionManifest, type: 'Normal' | 'Warning', reason: string, message: string) {
    const now = this.now();
    try {
      await this.core.createNamespacedEvent({
        namespace: this.options.kube.namespace,
        body: {
          metadata: { generateName: `${session.metadata.name}.`, namespace: this.options.kube.namespace },
          involvedObject: {
            apiVersion: session.apiVersion,
            kind: 'Session',
            name: session.metadata.name,
            namespace: this.options.kube.namespace,
            uid: session.metadata.uid,
            resourceVersion: session.metadata.resourceVersion,
          },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: 'streamspace-session-reconciler' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      // Events are best effort: a failure to record one never fails the reconcile.
      this.logger.warn({ err: (err as Error).message, reason }, 'could not record a Kubernetes Event');
    }
  }
}
