import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { createInformer } from '../../platform/kube/informer';
import type { Logger } from '../../platform/logging/logger';
import { StartupPhaseEnum, type SessionProgressType } from './dto/session-progress.type';
import { LABEL_SESSION } from './session-manifests';
import { startupStep } from './session-startup-step';
import { sessionTopic, type SessionChange } from './session-table';
import type { SessionEntity } from './session.entity';

/**
 * The start-up of one session as a stream of steps (WAITING, SCHEDULED, PULLING_IMAGE, STARTING, READY or
 * FAILED), for `sessionProgress`. Watch-driven: an informer on the session's pods; on each pod change the
 * pod's Kubernetes events are read for their messages (Scheduled, Pulling, Started, FailedScheduling...).
 * Session changes (from the session table) report template problems and the end of a start-up. A step is sent
 * when it or its message changes; the stream ends after READY (or FAILED) or when the client leaves.
 */
export function sessionProgressStream(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  session: SessionEntity;
  pubSub: AppPubSub;
  logger: Logger;
}): AsyncIterableIterator<SessionProgressType> {
  const { kubeConfig, namespace, session, pubSub, logger } = options;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const pods = createInformer<V1Pod>({ kubeConfig, path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: `${LABEL_SESSION}=${session.name}` });
  const queue: SessionProgressType[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let last = '';
  let evaluating = Promise.resolve();
  let sessionFailure: { message: string } | undefined = session.phase === 'Failed' ? { message: (session.status as { message?: string }).message ?? 'The session failed' } : undefined;

  const push = (step: Omit<SessionProgressType, 'sessionId' | 'at'>) => {
    const key = `${step.phase}|${step.message}`;
    if (key === last || done) return;
    last = key;
    queue.push({ ...step, sessionId: session.id, at: new Date() });
    if (step.phase === StartupPhaseEnum.READY || step.phase === StartupPhaseEnum.FAILED) done = true;
    wake?.();
  };

  const evaluate = () => {
    // The pods as of this event (a snapshot): a later state must not hide a step seen now.
    const list = pods.list(namespace);
    evaluating = evaluating.then(async () => {
      if (done) return;
      let events: CoreV1Event[] = [];
      for (const p of list.slice(0, 2)) {
        try {
          events = events.concat((await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${p.metadata!.name}` })).items);
        } catch (err) {
          logger.debug({ err: (err as Error).message }, 'session progress: could not read pod events');
        }
      }
      const step = startupStep(list, events);
      if (sessionFailure && step.phase !== StartupPhaseEnum.READY) push({ phase: StartupPhaseEnum.FAILED, message: sessionFailure.message, podName: step.podName });
      else push({ phase: step.phase, message: step.message, podName: step.podName });
    });
  };

  pods.on('add', evaluate);
  pods.on('update', evaluate);
  pods.on('delete', evaluate);
  pods.on('synced', evaluate);
  pods.on('error', (err, info) => logger.debug({ err: err.message, retryInMs: info.retryInMs }, 'session progress: pod watch failed; retrying'));

  const changes = pubSub.subscribeTopic<SessionChange>(sessionTopic(session.id));
  void (async () => {
    for await (const change of changes) {
      if (change.session.id !== session.id) continue;
      if (change.type === 'DELETED') {
        push({ phase: StartupPhaseEnum.FAILED, message: 'The session was deleted', podName: null });
        continue;
      }
      const s = change.session;
      sessionFailure = s.phase === 'Failed' ? { message: (s.status as { message?: string }).message ?? 'The session failed' } : undefined;
      if (s.phase === 'Running' && s.state === 'running') {
        // After the pod changes already seen are told: a pod scheduled and ready at once still shows SCHEDULED
        // before READY (its events' read may still be under way when the session's change arrives).
        const ready = { phase: StartupPhaseEnum.READY, message: `The session is running at ${s.url ?? 'its URL'}`, podName: s.podName };
        evaluating = evaluating.then(() => push(ready));
      }
      else evaluate();
    }
  })().catch(() => undefined);

  void pods.start().catch(() => undefined);

  const close = async () => {
    done = true;
    wake?.();
    await changes.return?.();
    await pods.stop();
  };

  const iterator: AsyncIterableIterator<SessionProgressType> = {
    async next() {
      for (;;) {
        if (queue.length) return { value: queue.shift()!, done: false };
        if (done) {
          await close();
          return { value: undefined, done: true };
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
