import { CoreV1Api } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { Logger } from '../../platform/logging/logger';
import { installCrds } from './crd-install';
import { SessionMirror } from './session-mirror';
import { SessionReconciler } from './session-reconciler';

/** The background parts of sessions: CRDs, the table mirror (every replica) and the reconciler (a leader-only controller). */
export interface SessionRuntime {
  mirror: SessionMirror | null;
  reconciler: SessionReconciler | null;
  stop(): Promise<void>;
}

export async function startSessionRuntime(options: {
  config: SessionsConfig;
  cluster: ClusterConnection | null;
  dataSource: DataSource;
  pubSub: AppPubSub;
  /** The app's job runner (created and started by the composition root): the reconciler registers with it. */
  jobs: JobRunner;
  logger: Logger;
}): Promise<SessionRuntime> {
  const { config, cluster, dataSource, pubSub, jobs } = options;
  const logger = options.logger.child({ component: 'sessions' });
  if (!cluster) return { mirror: null, reconciler: null, stop: async () => {} };
  const kubeConfig = cluster.kubeConfig;
  if (config.installCrds) {
    try {
      await installCrds(kubeConfig);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not install the StreamSpace CRDs; sessions stay unavailable until they exist');
    }
  }
  try {
    await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: config.namespace } } });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code !== 409) logger.warn({ err: (err as Error).message, namespace: config.namespace }, 'could not create the StreamSpace namespace');
  }

  const mirror = new SessionMirror({ kubeConfig, namespace: config.namespace, dataSource, pubSub, logger });
  // Not awaited: the informer retries until the API server answers; the app serves meanwhile.
  const mirrorStarted = mirror.start().catch((err: Error) => logger.error({ err }, 'session mirror failed to start'));

  const reconciler = new SessionReconciler({
    kubeConfig,
    namespace: config.namespace,
    workload: { ingress: config.ingress, home: config.home },
    defaultStartupTimeoutMs: config.defaultStartupTimeoutMs,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  jobs.registerController(reconciler);

  return {
    mirror,
    reconciler,
    async stop() {
      // Stop the mirror first: its first sync may never come when the API server is unreachable.
      await mirror.stop();
      await mirrorStarted.catch(() => undefined);
    },
  };
}
