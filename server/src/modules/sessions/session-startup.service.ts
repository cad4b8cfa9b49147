import { CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { parseDurationMs } from '../../config/config';
import type { Caller } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { noCluster } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { AuditSource } from '../audit/audit.service';
import type { SessionProgressType } from './dto/session-progress.type';
import { LABEL_SESSION } from './session-manifests';
import { sessionProgressStream } from './session-progress';
import { notReadyReason } from './session-startup-step';
import { sessionTopic, type SessionChange } from './session-table';
import type { SessionEntity } from './session.entity';
import { autoStartDisabled, sessionFailed, startupTimedOut } from './session.errors';
import type { SessionSpec } from './session.crd';
import type { SessionChanges } from './session-state';

function isReady(row: SessionEntity): boolean {
  return row.state === 'running' && row.phase === 'Running' && !!row.url;
}

/**
 * A session's start-up, for whoever needs a running session (a connect today): wakes a hibernated session,
 * replaces a terminated one by a new session of its owner (both only when autoStart allows), waits until it is
 * Ready or says why not, and streams its start-up steps (`sessionProgress`). State changes go through
 * SessionService.changeState, like every other one.
 */
export class SessionStartup {
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      sessions: SessionChanges;
      kube: StreamSpaceApi | null;
      namespace: string;
      pubSub: AppPubSub;
      logger: Logger;
      defaultStartupTimeoutMs: number;
    },
  ) {
    this.log = deps.logger.child({ component: 'session-startup' });
  }

  private core(): CoreV1Api {
    if (!this.deps.kube) throw noCluster('sessions and templates');
    return this.deps.kube.kubeConfig.makeApiClient(CoreV1Api);
  }

  /**
   * Makes `row` run for `caller`: a hibernated session is woken (audited as session.wake, reason connect), a
   * terminated one is replaced by a new session of the same template and settings (its owner only; audited as
   * session.create); a running one is returned as it is. Answers the row of the session that now runs.
   */
  async ensureRunning(caller: Caller, row: SessionEntity, source: AuditSource): Promise<SessionEntity> {
    const spec = row.spec as Partial<SessionSpec>;
    if (row.state === 'terminated') {
      // A terminated Session cannot run again (its CRD forbids reviving it): a new one of the same template
      // and settings takes its place, for its owner, when autoStart allows.
      if (spec.autoStart === false || row.username !== caller.username) throw autoStartDisabled(row.name, row.state);
      return this.recreate(caller, row, source);
    }
    if (row.state === 'running') return row;
    if (spec.autoStart === false) throw autoStartDisabled(row.name, row.state);
    const saved = await this.deps.sessions.changeState(row, 'running', { action: 'session.wake', source, quotaUserId: caller.id, details: { reason: 'connect' } });
    this.log.info({ session: row.name, from: row.state }, 'session started for a connection');
    return saved;
  }

  /** A new session replacing a terminated one: same template and settings, same owner (audited as session.create). */
  private async recreate(caller: Caller, row: SessionEntity, source: AuditSource): Promise<SessionEntity> {
    const spec = row.spec as Partial<SessionSpec>;
    const created = await this.deps.sessions.create(
      caller,
      {
        template: row.template,
        // A replacement for this connection, not a wake of some other hibernated session of the template.
        newSession: true,
        ...(spec.resources ? { resources: spec.resources as never } : {}),
        ...(spec.persistentHome !== undefined ? { persistentHome: spec.persistentHome } : {}),
        ...(spec.idleTimeout ? { idleTimeout: spec.idleTimeout } : {}),
        ...(spec.maxSessionDuration ? { maxSessionDuration: spec.maxSessionDuration } : {}),
        ...(spec.startupTimeout ? { startupTimeout: spec.startupTimeout } : {}),
        ...(spec.minConnections !== undefined ? { minConnections: spec.minConnections } : {}),
        ...(spec.maxConnections !== undefined ? { maxConnections: spec.maxConnections } : {}),
      },
      source,
    );
    this.log.info({ terminated: row.name, created: created.name }, 'new session created for a connection to a terminated one');
    const fresh = await this.deps.sessions.findRow(created.id);
    if (!fresh) throw notFound('Session', created.id);
    return fresh;
  }

  /**
   * Resolves with the session row once it is Running with a URL. Watch-driven: the session table publishes
   * every change of the Session object (the reconciler sets Running only when a pod is Ready), so this waits
   * on those events and one timer for startupTimeout; no polling.
   */
  async waitUntilReady(row: SessionEntity): Promise<SessionEntity> {
    if (isReady(row)) return row;
    const spec = row.spec as Partial<SessionSpec>;
    const timeoutMs = spec.startupTimeout ? parseDurationMs(spec.startupTimeout) : this.deps.defaultStartupTimeoutMs;
    const events = this.deps.pubSub.subscribeTopic<SessionChange>(sessionTopic(row.id));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // The first next() starts listening (repeaters are lazy); the re-read below then cannot miss a change.
    const iterator = events[Symbol.asyncIterator]();
    let pending = iterator.next();
    try {
      const fresh = await this.deps.sessions.findRow(row.id);
      if (!fresh) throw notFound('Session', row.id);
      if (isReady(fresh)) return fresh;
      if (fresh.phase === 'Failed' && fresh.state === 'running') await this.failWithReason(fresh, timeoutMs);
      for (;;) {
        const next = await Promise.race([pending, timedOut]);
        if (next === 'timeout') break;
        if (next.done) break;
        pending = iterator.next();
        const change = next.value;
        if (change.session.id !== row.id) continue;
        if (change.type === 'DELETED') throw notFound('Session', row.id);
        const s = change.session;
        if (isReady(s)) return s;
        if (s.state !== 'running') throw sessionFailed(s.name, 'Stopped', `the session became ${s.state} while starting`);
        if (s.phase === 'Failed') await this.failWithReason(s, timeoutMs);
      }
      const pods = await this.podsAndEvents(row.name);
      const why = notReadyReason(pods.pods, pods.events);
      throw startupTimedOut(row.name, timeoutMs, why.reason, why.message);
    } finally {
      clearTimeout(timer);
      await events.return();
    }
  }

  private async failWithReason(s: SessionEntity, timeoutMs: number): Promise<never> {
    const conditions = (s.status as { conditions?: { type: string; reason: string; message: string }[] }).conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    const { pods, events } = await this.podsAndEvents(s.name);
    const why = notReadyReason(pods, events);
    if (ready?.reason === 'StartupTimeout') throw startupTimedOut(s.name, timeoutMs, why.reason, why.message);
    throw sessionFailed(s.name, ready?.reason ?? 'Failed', ready?.message ?? (s.status as { message?: string }).message ?? why.message);
  }

  /** The session's pods and the Kubernetes events of the first three (for why a start-up is stuck). */
  async podsAndEvents(sessionName: string): Promise<{ pods: V1Pod[]; events: CoreV1Event[] }> {
    const core = this.core();
    const pods = (await core.listNamespacedPod({ namespace: this.deps.namespace, labelSelector: `${LABEL_SESSION}=${sessionName}` })).items;
    const events: CoreV1Event[] = [];
    for (const p of pods.slice(0, 3)) {
      events.push(...(await core.listNamespacedEvent({ namespace: this.deps.namespace, fieldSelector: `involvedObject.name=${p.metadata!.name}` })).items);
    }
    return { pods, events };
  }

  /** The start-up steps of a session (the caller's access is checked by whoever asks). */
  progress(row: SessionEntity): AsyncIterableIterator<SessionProgressType> {
    if (!this.deps.kube) throw noCluster('sessions and templates');
    return sessionProgressStream({ kubeConfig: this.deps.kube.kubeConfig, namespace: this.deps.namespace, session: row, pubSub: this.deps.pubSub, logger: this.log });
  }
}
