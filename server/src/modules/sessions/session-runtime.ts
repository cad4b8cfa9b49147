import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { alwaysLeader, JobRunner } from '../../platform/jobs/job-runner';
import { LeaderElector } from '../../platform/jobs/leader-election';
import { isConflict } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { installCrds } from '../../platform/kube/crds';
import { SessionTable } from './session-table';
import { TemplateStatusController } from '../templates/template-status.controller';
import { SessionReconciler } from './session-reconciler';

export const LEADER_LEASE_NAME = 'streamspace-leader';

/**
 * The background parts of sessions: CRDs, the session table (every replica), leader election, and on the leader
 * the session reconciler and the template status controller.
 */
export interface SessionRuntime {
  jobs: JobRunner;
  elector: LeaderElector | null;
  sessionTable: SessionTable | null;
  reconciler: SessionReconciler | null;
  stop(): Promise<void>;
}

export async function startSessionRuntime(options: {
  config: SessionsConfig;
  /** The StreamSpace API of the sessions' namespace (null without a cluster). */
  kube: StreamSpaceApi | null;
  dataSource: DataSource;
  pubSub: AppPubSub;
  logger: Logger;
}): Promise<SessionRuntime> {
  const { config, kube, dataSource, pubSub } = options;
  const logger = options.logger.child({ component: 'sessions' });
  if (!kube) {
    // No cluster: jobs of other domains still run (this replica is the only one that can).
    const jobs = new JobRunner(alwaysLeader, logger);
    jobs.start();
    return { jobs, elector: null, sessionTable: null, reconciler: null, stop: () => jobs.stop() };
  }
  const kubeConfig = kube.kubeConfig;
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
    if (!isConflict(err)) logger.warn({ err: (err as Error).message, namespace: config.namespace }, 'could not create the StreamSpace namespace');
  }

  const sessionTable = new SessionTable({ kube, dataSource, pubSub, logger });
  // Not awaited: the informer retries until the API server answers; the app serves meanwhile.
  const tableStarted = sessionTable.start().catch((err: Error) => logger.error({ err }, 'session table failed to start'));

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
    kube,
    workload: { ingress: config.ingress, home: config.home },
    defaultStartupTimeoutMs: config.defaultStartupTimeoutMs,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  jobs.registerController(reconciler);
  jobs.registerController(new TemplateStatusController({ kube, resyncIntervalMs: config.resyncIntervalMs }));
  jobs.start();
  elector?.start();

  return {
    jobs,
    elector,
    sessionTable,
    reconciler,
    async stop() {
      await jobs.stop();
      await elector?.stop();
      // Stop the session table first: its first sync may never come when the API server is unreachable.
      await sessionTable.stop();
      await tableStarted.catch(() => undefined);
    },
  };
}
