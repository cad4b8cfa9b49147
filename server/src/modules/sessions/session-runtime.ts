import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { alwaysLeader, JobRunner } from '../../platform/jobs/job-runner';
import { LeaderElector } from '../../platform/jobs/leader-election';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { Logger } from '../../platform/logging/logger';
import { installCrds } from './crd-install';
import { SessionMirror } from './session-mirror';
import { SessionReconciler } from './session-reconciler';

export const LEADER_LEASE_NAME = 'streamspace-leader';

/** The background parts of sessions: CRDs, the table mirror (every replica), leader election and the reconciler (leader). */
export interface SessionRuntime {
  jobs: JobRunner;
  elector: LeaderElector | null;
  mirror: SessionMirror | null;
  reconciler: SessionReconciler | null;
  stop(): Promise<void>;
}

export async function startSessionRuntime(options: {
  config: SessionsConfig;
  cluster: ClusterConnection | null;
  dataSource: DataSource;
  pubSub: AppPubSub;
  logger: Logger;
}): Promise<SessionRuntime> {
  const { config, cluster, dataSource, pubSub } = options;
  const logger = options.logger.child({ component: 'sessions' });
  if (!cluster) {
    // No cluster: jobs of other domains still run (this replica is the only one that can).
    const jobs = new JobRunner(alwaysLeader, logger);
    jobs.start();
    return { jobs, elector: null, mirror: null, reconciler: null, stop: () => jobs.stop() };
  }
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

  const elector = config.leaderElection
    ? new LeaderElector({
        kubeConfig,
        namespace: config.namespace,
        name: LEADER_LEASE_NAME,
        identity: `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
        leaseDurationMs: config.leaseDurationMs,
        logger,
      })
    : null;
  const jobs = new JobRunner(elector ?? alwaysLeader, logger);
  const reconciler = new SessionReconciler({
    kubeConfig,
    namespace: config.namespace,
    workload: { ingress: config.ingress, home: config.home, ...(config.networkPolicy ? { networkPolicy: config.networkPolicy } : {}) },
    defaultStartupTimeoutMs: config.defaultStartupTimeoutMs,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  jobs.registerController(reconciler);
  jobs.start();
  elector?.start();

  return {
    jobs,
    elector,
    mirror,
    reconciler,
    async stop() {
      await jobs.stop();
      await elector?.stop();
      // Stop the mirror first: its first sync may never come when the API server is unreachable.
      await mirror.stop();
      await mirrorStarted.catch(() => undefined);
    },
  };
}
