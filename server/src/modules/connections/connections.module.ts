import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { SessionService } from '../sessions/session.service';
import type { SessionTable } from '../sessions/session-table';
import type { TemplateService } from '../templates/template.service';
import { ConnectionService } from './connection.service';
import { heartbeatReaperJob } from './jobs/heartbeat-reaper.job';
import { hibernationTimerJob } from './jobs/hibernation-timer.job';
import { sessionAutoscalerJob } from './jobs/session-autoscaler.job';

/**
 * Connection tracking: the service (with its own small pool for heartbeats) and the leader-only jobs
 * (heartbeat-reaper; with a cluster also hibernation-timer and session-autoscaler).
 */
export function createConnections(deps: {
  config: AppConfig;
  dataSource: DataSource;
  kube: StreamSpaceApi | null;
  sessionTable: SessionTable | null;
  sessions: SessionService;
  templates: TemplateService;
  audit: AuditService;
  pubSub: AppPubSub;
  jobs: JobRunner;
  logger: Logger;
  cleanup: CleanupStack;
}): ConnectionService {
  const { config, dataSource, kube, sessionTable, pubSub, jobs, logger, cleanup } = deps;
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('connections: the data source has no URL');
  const heartbeatPool = new Pool({ connectionString: url, max: 3, application_name: 'streamspace-heartbeats', connectionTimeoutMillis: 5000 });
  heartbeatPool.on('error', (err) => logger.warn({ err: err.message }, 'heartbeat pool: idle connection failed'));
  cleanup.push('heartbeat pool', () => heartbeatPool.end().catch(() => undefined));
  const namespace = config.sessions.namespace;
  const service = new ConnectionService({
    dataSource,
    heartbeatPool,
    kube,
    namespace,
    config: config.connections,
    audit: deps.audit,
    sessions: kube ? deps.sessions : null,
    templates: kube ? deps.templates : null,
    pubSub,
    logger,
  });
  cleanup.push('connections', () => service.stop());
  jobs.register(heartbeatReaperJob({ dataSource, connections: service, namespace, config: config.connections, kube: !!kube }));
  if (kube && sessionTable) {
    jobs.register(hibernationTimerJob({ dataSource, connections: service, sessions: deps.sessions, kube, templates: deps.templates, namespace, config: config.connections }));
    jobs.register(sessionAutoscalerJob({ dataSource, kube, sessionTable, templates: deps.templates, namespace, config: config.connections }));
  }
  return service;
}
