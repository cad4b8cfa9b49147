import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { StartupPhaseEnum } from './dto/session-progress.type';
import { IMAGE_PULL_REASONS, isPodReady } from './session-status';

/**
 * What a starting session's pod is doing (pure, no I/O): the step reached and, when it is stuck, why. The
 * progress stream (`sessionProgress`) and the start-up timeout error both read it.
 */

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
