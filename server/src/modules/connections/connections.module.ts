import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config';
import { attachPostgresBridge, type AppPubSub, type PostgresBridge } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { SessionService } from '../sessions/session.service';
import { SESSION_UPDATED, type SessionTable } from '../sessions/session-table';
import { ConnectionService } from './connection.service';
import { heartbeatReaperJob } from './jobs/heartbeat-reaper.job';
import { hibernationTimerJob } from './jobs/hibernation-timer.job';
import { sessionAutoscalerJob } from './jobs/session-autoscaler.job';

export interface ConnectionsRuntime {
  service: ConnectionService;
  /** The LISTEN/NOTIFY bridge (null with STREAMSPACE_PUBSUB=memory). */
  bridge: PostgresBridge | null;
  stop(): Promise<void>;
}

/**
 * Wires connection tracking: the service (with its own small pool for heartbeats), the pub/sub bridge over
 * PostgreSQL, and the leader-only jobs (heartbeat-reaper; with a cluster also hibernation-timer and
 * session-autoscaler).
 */
export async function startConnections(options: {
  config: AppConfig;
  dataSource: DataSource;
  kube: StreamSpaceApi | null;
  sessionTable: SessionTable | null;
  sessions: SessionService;
  audit: AuditService;
  pubSub: AppPubSub;
  jobs: JobRunner;
  logger: Logger;
}): Promise<ConnectionsRuntime> {
  const { config, dataSource, kube, sessionTable, pubSub, jobs, logger } = options;
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('connections: the data source has no URL');
  // The session table watches and publishes on every replica: its events must not cross replicas too.
  pubSub.markLocalOnly(SESSION_UPDATED);
  const bridge = config.connections.pubsub === 'postgres' ? await attachPostgresBridge(pubSub, { url, logger }) : null;
  const heartbeatPool = new Pool({ connectionString: url, max: 3, application_name: 'streamspace-heartbeats', connectionTimeoutMillis: 5000 });
  heartbeatPool.on('error', (err) => logger.warn({ err: err.message }, 'heartbeat pool: idle connection failed'));
  const namespace = config.sessions.namespace;
  const service = new ConnectionService({
    dataSource,
    heartbeatPool,
    kube,
    namespace,
    config: config.connections,
    audit: options.audit,
    sessions: kube ? options.sessions : null,
    pubSub,
    logger,
  });
  jobs.register(heartbeatReaperJob({ dataSource, connections: service, namespace, config: config.connections, kube: !!kube }));
  if (kube && sessionTable) {
    jobs.register(hibernationTimerJob({ dataSource, connections: service, sessions: options.sessions, kube, namespace, config: config.connections }));
    jobs.register(sessionAutoscalerJob({ dataSource, kube, sessionTable, namespace, config: config.connections }));
  }
  return {
    service,
    bridge,
    async stop() {
      await service.stop();
      await bridge?.stop();
      await heartbeatPool.end().catch(() => undefined);
    },
  };
}
