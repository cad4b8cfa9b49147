import { CoreV1Api } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { ClusterConnection } from '../../platform/kube/cluster';
import { isConflict } from '../../platform/kube/kube-errors';
import { createDemoTemplates } from '../../platform/kube/local-cluster';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { installCrds } from '../../platform/kube/crds';
import { SessionTable } from './session-table';
import { SessionReconciler, type SessionReconcilerOptions } from './session-reconciler';
import type { SessionPolicies } from './session-policies';
import type { SessionWorkloadConfig } from './session.crd';

/**
 * The background parts of sessions: CRDs, the session table (every replica) and, on the leader, the session
 * reconciler (registered with the app's job runner).
 */
export interface SessionRuntime {
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
  /** The app's job runner (created and started by the composition root): the reconciler registers with it. */
  jobs: JobRunner;
  /** The local cluster's real node, when it runs one: sessions go there, with its demo Templates. */
  realNode?: ClusterConnection['realNode'];
  /** The admin's runtime settings for sessions (routing, storage, egress); absent: the configuration alone. */
  policies?: SessionPolicies;
  logger: Logger;
  observe?: SessionReconcilerOptions['observe'];
}): Promise<SessionRuntime> {
  const { config, kube, dataSource, pubSub, jobs, realNode } = options;
  const logger = options.logger.child({ component: 'sessions' });
  if (!kube) return { sessionTable: null, reconciler: null, stop: async () => {} };
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
  if (realNode) {
    await createDemoTemplates(kubeConfig, realNode.demoTemplates(config.namespace)).then(
      (created) => created.length && logger.info({ templates: created }, 'created the demo templates of the local real node'),
      (err: Error) => logger.warn({ err: err.message }, 'could not create the demo templates of the local real node'),
    );
  }

  const sessionTable = new SessionTable({ kube, dataSource, pubSub, logger });
  // Not awaited: the informer retries until the API server answers; the app serves meanwhile.
  const tableStarted = sessionTable.start().catch((err: Error) => logger.error({ err }, 'session table failed to start'));

  // A local cluster's real node is where sessions go unless configured otherwise (it runs them for real).
  const base: SessionWorkloadConfig = {
    ingress: config.ingress,
    home: config.home,
    nodeSelector: config.nodeSelector ?? realNode?.nodeSelector,
    ...(config.networkPolicy ? { networkPolicy: config.networkPolicy } : {}),
    ...(config.throughGateway ? { throughGateway: true } : {}),
  };
  const workload = (): SessionWorkloadConfig => {
    const now = options.policies ? options.policies.workload(base) : base;
    return { ...now, home: { ...now.home, storageClass: now.home.storageClass || realNode?.storageClass } };
  };
  const reconciler = new SessionReconciler({
    kube,
    workload,
    defaultStartupTimeoutMs: config.defaultStartupTimeoutMs,
    resyncIntervalMs: config.resyncIntervalMs,
    observe: options.observe,
  });
  jobs.registerController(reconciler);
  // A settings change reaches running sessions at once (a new Ingress class, egress rules), not at the next resync.
  options.policies?.onChange(() => reconciler.requeueAll());

  return {
    sessionTable,
    reconciler,
    async stop() {
      // Stop the session table first: its first sync may never come when the API server is unreachable.
      await sessionTable.stop();
      await tableStarted.catch(() => undefined);
    },
  };
}
