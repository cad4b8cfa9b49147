import type { DataSource } from 'typeorm';
import type { SessionsConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { QuotaService } from '../quotas/quota.service';
import type { TemplateService } from '../templates/template.service';
import { SESSION_UPDATED } from './session-mirror';
import { startSessionRuntime, type SessionRuntime } from './session-runtime';
import { SessionService } from './session.service';

export interface Sessions {
  service: SessionService;
  /** CRDs, the table mirror and the reconciler. */
  runtime: SessionRuntime;
}

/** Sessions: the service, and (with a cluster) the table mirror on every replica and the leader's reconciler. */
export async function createSessions(deps: {
  config: SessionsConfig;
  cluster: ClusterConnection | null;
  dataSource: DataSource;
  pubSub: AppPubSub;
  jobs: JobRunner;
  audit: AuditService;
  quotas: QuotaService;
  templates: TemplateService;
  logger: Logger;
  cleanup: CleanupStack;
}): Promise<Sessions> {
  const { config, cluster, dataSource, pubSub } = deps;
  // The session mirror watches and publishes on every replica: its events must not cross replicas too.
  pubSub.markLocalOnly(SESSION_UPDATED);
  const runtime = await deps.cleanup.start(
    'session runtime',
    () => startSessionRuntime({ config, cluster, dataSource, pubSub, jobs: deps.jobs, logger: deps.logger }),
    (started) => started.stop(),
  );
  const service = new SessionService({
    dataSource,
    kubeConfig: cluster?.kubeConfig ?? null,
    namespace: config.namespace,
    audit: deps.audit,
    quotas: deps.quotas,
    templates: deps.templates,
    mirror: runtime.mirror,
  });
  return { service, runtime };
}
