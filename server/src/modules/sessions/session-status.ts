import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { SessionCondition, SessionManifest, SessionPhase, SessionStatus } from './session.crd';

/**
 * The reconciler's decision about a Session's observed state, as a pure function of what the caches hold
 * and the time. Rules:
 * - Running only when a pod of the session is Ready (a created Deployment is not enough);
 * - Hibernated once the Deployment has 0 replicas and no pod of the session is left;
 * - Failed, with a Ready=False condition and a message, for a missing or invalid template, an image that cannot
 *   be pulled, or a pod not Ready within startupTimeout (sticky until the spec changes);
 * - Terminated for state terminated once the workload is gone.
 */

export const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);

export interface Observed {
  session: SessionManifest;
  /** The template problem, if any: not found or invalid. */
  templateProblem?: { reason: 'TemplateNotFound' | 'TemplateInvalid' | 'TemplateNotApproved' | 'HomeClaimConflict'; message: string };
  deployment?: V1Deployment;
  pods: V1Pod[];
  url?: string;
  now: Date;
  startupTimeoutMs: number;
}

export interface Decision {
  status: SessionStatus;
  /** When to look again even if nothing changes (startup deadline). */
  requeueAt?: Date;
}

export function isPodReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase === 'Running' && !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

function imagePullProblem(pods: V1Pod[]): string | undefined {
  for (const pod of pods) {
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
        return `Image ${cs.image ?? ''} cannot be pulled (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ''}`;
      }
    }
  }
  return undefined;
}

/** The kubelet's CrashLoopBackOff, with how the container last ended, as start-up progress (the session keeps Starting until its startup timeout). */
function crashLoop(pods: V1Pod[]): string | undefined {
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      if (cs.state?.waiting?.reason !== 'CrashLoopBackOff') continue;
      const last = cs.lastState?.terminated;
      const how = last ? `: it last exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : '';
      return `Container ${cs.name} of pod ${pod.metadata?.name ?? ''} keeps crashing (CrashLoopBackOff, ${cs.restartCount} restarts)${how}`;
    }
  }
  return undefined;
}

function readyCondition(prev: SessionCondition[] | undefined, status: SessionCondition['status'], reason: string, message: string, now: Date, generation?: number): SessionCondition {
  const old = prev?.find((c) => c.type === 'Ready');
  // The transition time moves when status or reason changes, so "Starting since" is measurable from it.
  const same = old && old.status === status && old.reason === reason;
  return {
    type: 'Ready',
    status,
    reason,
    message,
    lastTransitionTime: same ? old.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

export function decideStatus(o: Observed): Decision {
  const { session, now } = o;
  const prev = session.status ?? {};
  const generation = session.metadata.generation;
  const state = session.spec.state ?? 'running';
  const livePods = o.pods.filter((p) => !p.metadata?.deletionTimestamp);
  const carry: SessionStatus = {
    activeConnections: prev.activeConnections ?? 0,
    ...(prev.totalConnections !== undefined ? { totalConnections: prev.totalConnections } : {}),
    ...(prev.lastConnection ? { lastConnection: prev.lastConnection } : {}),
    ...(prev.lastDisconnect ? { lastDisconnect: prev.lastDisconnect } : {}),
    ...(prev.lastActivity ? { lastActivity: prev.lastActivity } : {}),
    ...(prev.resourceUsage ? { resourceUsage: prev.resourceUsage } : {}),
  };
  const out = (phase: SessionPhase, reason: string, message: string, extra: Partial<SessionStatus> = {}, ready: SessionCondition['status'] = 'False'): SessionStatus => ({
    ...carry,
    phase,
    message,
    observedGeneration: generation,
    conditions: [readyCondition(prev.conditions, ready, reason, message, now, generation)],
    ...extra,
  });

  if (state === 'terminated') {
    const gone = !o.deployment && o.pods.length === 0;
    return { status: out(gone ? 'Terminated' : (prev.phase ?? 'Pending'), gone ? 'Terminated' : 'Terminating', gone ? 'The session was terminated; its workload is removed' : 'Removing the workload') };
  }
  if (o.templateProblem) {
    return { status: out('Failed', o.templateProblem.reason, o.templateProblem.message) };
  }
  if (state === 'hibernated') {
    const scaledDown = (o.deployment?.spec?.replicas ?? 0) === 0 && o.pods.length === 0;
    if (scaledDown) return { status: out('Hibernated', 'Hibernated', 'The session is hibernated (scaled to zero); its home volume is kept') };
    return { status: out(prev.phase === 'Failed' || !prev.phase ? 'Pending' : prev.phase, 'Hibernating', 'Scaling the session down') };
  }

  // running
  const ready = livePods.find(isPodReady);
  if (ready) {
    return { status: out('Running', 'PodReady', 'The session is running', { url: o.url, podName: ready.metadata?.name }, 'True') };
  }
  const pull = imagePullProblem(livePods);
  if (pull) return { status: out('Failed', 'ImagePullFailed', pull) };

  const prevReady = prev.conditions?.find((c) => c.type === 'Ready');
  if (prev.phase === 'Failed' && prevReady?.reason === 'StartupTimeout' && prev.observedGeneration === generation) {
    return { status: out('Failed', 'StartupTimeout', prevReady.message) };
  }
  const startingSince = prevReady?.reason === 'Starting' && prevReady.observedGeneration === generation ? new Date(prevReady.lastTransitionTime) : now;
  const deadline = new Date(startingSince.getTime() + o.startupTimeoutMs);
  if (now >= deadline) {
    const secs = Math.round(o.startupTimeoutMs / 1000);
    return { status: out('Failed', 'StartupTimeout', `The session's pod was not Ready within the startup timeout (${secs}s)`) };
  }
  const podName = livePods[0]?.metadata?.name;
  const waitingFor = podName ? (crashLoop(livePods) ?? `Waiting for pod ${podName} to become Ready`) : 'Waiting for the session pod to be created';
  const status = out('Pending', 'Starting', waitingFor, podName ? { podName } : {});
  // Keep the original start time across reconciles (readyCondition keeps it while the reason stays Starting).
  if (prevReady?.reason === 'Starting' && prevReady.observedGeneration !== generation) status.conditions![0].lastTransitionTime = now.toISOString();
  return { status, requeueAt: deadline };
}

/** Status fields the reconciler owns compared for "did anything change" (connection counters are left alone). */
export function statusChanged(a: SessionStatus | undefined, b: SessionStatus): boolean {
  const pick = (s: SessionStatus | undefined) =>
    JSON.stringify([s?.phase, s?.message, s?.url, s?.podName, s?.observedGeneration, s?.conditions?.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime])]);
  return pick(a) !== pick(b);
}

/**
 * Whether an update of a Session needs a reconcile: anything changed but the status fields the reconciler does not
 * own (the connection counters and activity, which the platform copies into the status on every connect and
 * disconnect, and the resource usage). Those copies are no work for the reconciler: reconciling on each of them
 * cost a full reconcile (template, children's hashes, pods, status) per connect.
 */
export function reconcileNeeded(obj: SessionManifest, old: SessionManifest | undefined): boolean {
  if (!old) return true;
  const m = obj.metadata;
  const o = old.metadata;
  if (m.generation !== o.generation || String(m.deletionTimestamp ?? '') !== String(o.deletionTimestamp ?? '')) return true;
  if (JSON.stringify([m.labels, m.annotations, m.finalizers]) !== JSON.stringify([o.labels, o.annotations, o.finalizers])) return true;
  if (JSON.stringify(obj.spec) !== JSON.stringify(old.spec)) return true;
  return statusChanged(old.status, obj.status ?? {});
}
