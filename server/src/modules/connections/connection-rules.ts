import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { parseDurationMs } from '../../config/config';
import { IMAGE_PULL_REASONS, isPodReady } from '../sessions/session-status';
import { StartupPhaseEnum } from './dto/connection.type';

/**
 * Pure rules of connection tracking (no I/O): when a session hibernates and why, how many replicas a
 * multi-user session wants, and what a starting pod is doing. The jobs and the API share them, so what
 * `Session.idle` says is exactly what the hibernation timer does.
 */

export interface IdleInput {
  state: string;
  phase: string;
  activeConnections: number;
  /** spec.minConnections (connections below which the session counts as idle); default 1. */
  minConnections?: number | null;
  sessionIdleTimeout?: string | null;
  templateIdleTimeout?: string | null;
  defaultIdleTimeoutMs: number;
  /** When the session last became Running (its Ready condition's transition time). */
  runningSince: Date | null;
  lastConnection: Date | null;
  lastDisconnect: Date | null;
  lastActivity: Date | null;
  now: Date;
}

export interface IdleDecision {
  activeConnections: number;
  lastActivity: Date | null;
  /** When the hibernation timer will hibernate it (null: not scheduled). */
  hibernatesAt: Date | null;
  idleTimeoutMs: number;
  idleTimeout: string;
  idleTimeoutSource: 'session' | 'template' | 'server';
  /** Since when the session counts as idle (null while it does not). */
  idleSince: Date | null;
  reason: string;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function latest(...dates: (Date | null | undefined)[]): Date | null {
  let best: Date | null = null;
  for (const d of dates) if (d && !Number.isNaN(d.getTime()) && (!best || d > best)) best = d;
  return best;
}

/**
 * The idle clock. A session counts as idle while it has fewer than minConnections connections (default 1;
 * 0: never idle). It has been idle since the latest of: becoming Running, the last connect
 * and the last disconnect. All of these are database timestamps, so a restarted server (or a new leader)
 * computes the same deadline: nothing is forgotten and no clock restarts. With minConnections above 1 the
 * latest count change is a lower bound of when the count fell below it, so the session hibernates late,
 * never early.
 */
export function decideIdle(i: IdleInput): IdleDecision {
  const [idleTimeoutMs, idleTimeoutSource] = i.sessionIdleTimeout
    ? [parseDurationMs(i.sessionIdleTimeout), 'session' as const]
    : i.templateIdleTimeout
      ? [parseDurationMs(i.templateIdleTimeout), 'template' as const]
      : [i.defaultIdleTimeoutMs, 'server' as const];
  const base = {
    activeConnections: i.activeConnections,
    lastActivity: latest(i.lastActivity, i.lastConnection, i.lastDisconnect),
    idleTimeoutMs,
    idleTimeout: formatDuration(idleTimeoutMs),
    idleTimeoutSource,
  };
  const none = (reason: string): IdleDecision => ({ ...base, hibernatesAt: null, idleSince: null, reason });
  if (i.state !== 'running') return none(`The session is ${i.state}; it does not run, so it cannot idle`);
  if (i.phase !== 'Running') return none(`The session is ${i.phase}; the idle clock starts once it is Running`);
  const threshold = i.minConnections ?? 1;
  if (threshold === 0) return none('minConnections is 0: the session stays running even without connections');
  if (i.activeConnections >= threshold) {
    const n = i.activeConnections;
    return none(
      `${n} active connection${n === 1 ? '' : 's'} keep${n === 1 ? 's' : ''} the session running` +
        (threshold > 1 ? ` (it counts as idle below minConnections ${threshold})` : '') +
        '; it hibernates once they end',
    );
  }
  const idleSince = latest(i.runningSince, i.lastConnection, i.lastDisconnect) ?? i.now;
  const hibernatesAt = new Date(idleSince.getTime() + idleTimeoutMs);
  const who = i.activeConnections === 0 ? 'No active connections' : `Only ${i.activeConnections} of the ${threshold} connections (minConnections)`;
  return {
    ...base,
    idleSince,
    hibernatesAt,
    reason: `${who} since ${idleSince.toISOString()}; hibernates after the idle timeout of ${formatDuration(idleTimeoutMs)} (from the ${idleTimeoutSource === 'server' ? 'server default' : idleTimeoutSource})`,
  };
}

export interface AutoscaleInput {
  activeConnections: number;
  minReplicas?: number;
  maxReplicas?: number;
  targetConnections?: number;
  currentReplicas: number;
  /** When the replicas last changed (null: never). */
  lastScaledAt: Date | null;
  cooldownMs: number;
  now: Date;
}

/** The wanted replicas of a running multi-user session: clamp(ceil(active / target), min, max), at least 1. */
export function desiredReplicas(i: Pick<AutoscaleInput, 'activeConnections' | 'minReplicas' | 'maxReplicas' | 'targetConnections'>): number {
  const target = Math.max(1, i.targetConnections ?? 1);
  const min = Math.max(1, i.minReplicas ?? 1);
  const max = Math.max(min, i.maxReplicas ?? Math.max(min, 1));
  return Math.min(max, Math.max(min, Math.ceil(i.activeConnections / target)));
}

/**
 * Whether to change the replicas now: scale up at once (users are waiting), scale down only once the
 * cool-down since the last change has passed, so a connection that comes and goes does not flap the pods.
 */
export function decideScale(i: AutoscaleInput): { replicas: number; change: boolean; waitUntil: Date | null; reason: string } {
  const want = desiredReplicas(i);
  if (want === i.currentReplicas) return { replicas: want, change: false, waitUntil: null, reason: 'at the desired replicas' };
  if (want > i.currentReplicas) return { replicas: want, change: true, waitUntil: null, reason: `scale up to ${want} for ${i.activeConnections} connections` };
  const allowedAt = i.lastScaledAt ? new Date(i.lastScaledAt.getTime() + i.cooldownMs) : i.now;
  if (i.now >= allowedAt) return { replicas: want, change: true, waitUntil: null, reason: `scale down to ${want} for ${i.activeConnections} connections` };
  return { replicas: i.currentReplicas, change: false, waitUntil: allowedAt, reason: `scale down to ${want} waits for the cool-down until ${allowedAt.toISOString()}` };
}

export interface StartupStep {
  phase: StartupPhaseEnum;
  message: string;
  podName: string | null;
  /** For a failure: Unschedulable, ImagePullFailed, CrashLoop. */
  failure?: string;
}

/** The newest event message about a pod, if any. */
function latestEvent(events: CoreV1Event[], pod: string, reasons?: string[]): CoreV1Event | undefined {
  const mine = events.filter((e) => e.involvedObject?.name === pod && (!reasons || reasons.includes(e.reason ?? '')));
  const when = (e: CoreV1Event) => new Date((e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? 0) as string | Date).getTime();
  return mine.sort((a, b) => when(a) - when(b)).at(-1);
}

/**
 * What a session's start-up is doing, from its pods and their events: the step reached and, when it is
 * stuck, why (unschedulable, image pull, crash loop). The most advanced pod counts.
 */
export function startupStep(pods: V1Pod[], events: CoreV1Event[]): StartupStep {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ready = live.find(isPodReady);
  if (ready) return { phase: StartupPhaseEnum.READY, message: `Pod ${ready.metadata!.name} is Ready`, podName: ready.metadata!.name! };
  if (!live.length) return { phase: StartupPhaseEnum.WAITING, message: 'Waiting for the session pod to be created', podName: null };
  const pod = live[0];
  const name = pod.metadata!.name!;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    const waiting = cs.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return { phase: StartupPhaseEnum.FAILED, failure: 'ImagePullFailed', podName: name, message: `Image ${cs.image ?? ''} cannot be pulled (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ''}` };
    }
    if (waiting?.reason === 'CrashLoopBackOff' || (cs.restartCount ?? 0) >= 3) {
      const last = cs.lastState?.terminated;
      return {
        phase: StartupPhaseEnum.FAILED,
        failure: 'CrashLoop',
        podName: name,
        message: `Container ${cs.name} keeps crashing (${cs.restartCount ?? 0} restarts${last ? `, last exit code ${last.exitCode}${last.reason ? ` ${last.reason}` : ''}` : ''})`,
      };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    const ev = latestEvent(events, name, ['FailedScheduling']);
    const why = scheduled.message || ev?.message || scheduled.reason || 'no node fits';
    return { phase: scheduled.reason === 'Unschedulable' ? StartupPhaseEnum.FAILED : StartupPhaseEnum.WAITING, failure: scheduled.reason === 'Unschedulable' ? 'Unschedulable' : undefined, podName: name, message: `Pod ${name} cannot be scheduled: ${why}` };
  }
  if (!pod.spec?.nodeName && scheduled?.status !== 'True') return { phase: StartupPhaseEnum.WAITING, message: `Pod ${name} is waiting for a node`, podName: name };
  const pulling = statuses.some((cs) => cs.state?.waiting?.reason === 'ContainerCreating' || cs.state?.waiting?.reason === 'PodInitializing');
  const pullEvent = latestEvent(events, name, ['Pulling', 'Pulled']);
  if (pullEvent?.reason === 'Pulling' || (pulling && !statuses.some((cs) => cs.state?.running))) {
    return { phase: StartupPhaseEnum.PULLING_IMAGE, message: pullEvent?.message ?? `Pulling ${pod.spec?.containers?.[0]?.image ?? 'the image'} on ${pod.spec?.nodeName ?? 'the node'}`, podName: name };
  }
  if (statuses.some((cs) => cs.state?.running) || pod.status?.phase === 'Running') {
    const ev = latestEvent(events, name, ['Started', 'Unhealthy']);
    return { phase: StartupPhaseEnum.STARTING, message: ev?.message ? `${ev.message}; waiting for the readiness probe` : `Pod ${name} is running; waiting for it to become Ready`, podName: name };
  }
  const ev = latestEvent(events, name, ['Scheduled']);
  return { phase: StartupPhaseEnum.SCHEDULED, message: ev?.message ?? `Pod ${name} was scheduled to ${pod.spec?.nodeName ?? 'a node'}`, podName: name };
}

/** Why a session is not Ready, for a timeout error: the failure of its start-up step, else "not ready". */
export function notReadyReason(pods: V1Pod[], events: CoreV1Event[]): { reason: string; message: string } {
  const step = startupStep(pods, events);
  if (step.failure) return { reason: step.failure, message: step.message };
  if (step.phase === StartupPhaseEnum.WAITING) return { reason: step.podName ? 'Unschedulable' : 'NoPod', message: step.message };
  return { reason: 'NotReady', message: step.message };
}
