import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { QuotaService } from '../quotas/quota.service';
import type { TemplateService } from '../templates/template.service';
import { SESSION_UPDATED } from './session-table';
import type { SessionReconcilerOptions } from './session-reconciler';
import { startSessionRuntime, type SessionRuntime } from './session-runtime';
import type { SessionPolicies } from './session-policies';
import { SessionService } from './session.service';

export interface Sessions {
  service: SessionService;
  /** CRDs, the sessions table and the reconciler. */
  runtime: SessionRuntime;
}

/** Sessions: the service (with start-up and readiness), and (with a cluster) the sessions table on every replica and the leader's reconciler. */
export async function createSessions(deps: {
  config: SessionsConfig;
  kube: StreamSpaceApi | null;
  /** The local cluster's real node, when it runs one. */
  realNode?: ClusterConnection['realNode'];
  dataSource: DataSource;
  pubSub: AppPubSub;
  jobs: JobRunner;
  audit: AuditService;
  quotas: QuotaService;
  templates: TemplateService;
  /** The admin's runtime settings for sessions; absent: the configuration alone. */
  policies?: SessionPolicies;
  logger: Logger;
  cleanup: CleanupStack;
  /** Reconcile and start-up durations (metrics). */
  observe?: SessionReconcilerOptions['observe'];
}): Promise<Sessions> {
  const { config, kube, dataSource, pubSub } = deps;
  // The sessions table watches and publishes on every replica: its events must not cross replicas too.
  pubSub.markLocalOnly(SESSION_UPDATED);
  const runtime = await deps.cleanup.start(
    'session runtime',
    () => startSessionRuntime({ config, kube, dataSource, pubSub, jobs: deps.jobs, realNode: deps.realNode, policies: deps.policies, logger: deps.logger, observe: deps.observe }),
    (started) => started.stop(),
  );
  const service = new SessionService({
    dataSource,
    kube,
    namespace: config.namespace,
    audit: deps.audit,
    quotas: deps.quotas,
    templates: deps.templates,
    sessionTable: runtime.sessionTable,
    pubSub,
    logger: deps.logger,
    defaultStartupTimeoutMs: config.defaultStartupTimeoutMs,
    policies: deps.policies,
  });
  return { service, runtime };
}
