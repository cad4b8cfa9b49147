import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { createAudit } from '../modules/audit/audit.module';
import type { AuditService } from '../modules/audit/audit.service';
import { createAuth } from '../modules/auth/auth.module';
import type { AuthService } from '../modules/auth/auth.service';
import type { TokenService } from '../modules/auth/token.service';
import { createCatalog, type CatalogServices } from '../modules/catalog/catalog.module';
import { createClusterAdmin } from '../modules/cluster/cluster.module';
import type { ClusterService } from '../modules/cluster/cluster.service';
import { createConfiguration } from '../modules/configuration/configuration.module';
import { featureFlags, liveConnectionsConfig, sessionPolicies } from '../modules/configuration/settings-effects';
import type { SettingsService } from '../modules/configuration/settings.service';
import type { ConnectionService } from '../modules/connections/connection.service';
import { createConnections } from '../modules/connections/connections.module';
import type { FavoriteService } from '../modules/favorites/favorite.service';
import { createFavorites } from '../modules/favorites/favorites.module';
import { createMonitoring } from '../modules/monitoring/monitoring.module';
import type { MonitoringService } from '../modules/monitoring/monitoring.service';
import type { TemplateRequestService } from '../modules/template-requests/template-request.service';
import { createTemplateRequests } from '../modules/template-requests/template-requests.module';
import { startGateway, type Gateway } from '../modules/gateway/gateway.module';
import type { QuotaService } from '../modules/quotas/quota.service';
import { createQuotas } from '../modules/quotas/quotas.module';
import type { SessionRuntime } from '../modules/sessions/session-runtime';
import type { SessionService } from '../modules/sessions/session.service';
import { createGroups } from '../modules/groups/groups.module';
import type { GroupsService } from '../modules/groups/groups.service';
import { createSessions } from '../modules/sessions/sessions.module';
import { createSharing } from '../modules/sharing/sharing.module';
import type { SharingService } from '../modules/sharing/sharing.service';
import type { BuildInfo } from '../modules/system/build-info';
import { createSystem } from '../modules/system/system.module';
import type { TemplateService } from '../modules/templates/template.service';
import { createTemplates } from '../modules/templates/templates.module';
import { TemplateRatingService } from '../modules/templates/template-rating.service';
import type { UsersService } from '../modules/users/users.service';
import { UserDeletionService } from '../modules/users/user-deletion.service';
import { openDatabase, type Database } from '../platform/database/database';
import { attachPostgresBridge, createAppPubSub, type AppPubSub, type PostgresBridge } from '../platform/graphql/pubsub';
import { AppMetrics } from '../platform/http/metrics';
import { alwaysLeader, JobRunner } from '../platform/jobs/job-runner';
import { LeaderElector } from '../platform/jobs/leader-election';
import { connectCluster, type ClusterConnection } from '../platform/kube/cluster';
import { StreamSpaceApi } from '../platform/kube/streamspace-api';
import type { CleanupStack } from '../platform/lifecycle/cleanup-stack';
import type { Logger } from '../platform/logging/logger';
import { ENTITIES } from './entities';

/** The Lease the replicas compete for; its holder runs the background jobs. */
export const LEADER_LEASE_NAME = 'streamspace-leader';

/** The services every module may use; a resolver's constructor declares the ones it takes from this object. */
export interface AppServices {
  config: AppConfig;
  logger: Logger;
  buildInfo: BuildInfo;
  database: Database;
  pubSub: AppPubSub;
  /** The pub/sub's LISTEN/NOTIFY bridge to the other replicas (null with STREAMSPACE_PUBSUB=memory). */
  pubSubBridge: PostgresBridge | null;
  metrics: AppMetrics;
  /**
   * The Kubernetes cluster (null with STREAMSPACE_CLUSTER=none). Make API clients from it:
   * `services.cluster.kubeConfig.makeApiClient(CoreV1Api)`; watch with platform/kube/informer.ts.
   */
  cluster: ClusterConnection | null;
  /** Background jobs, run by the leader replica only: `jobs.register(job)` (platform/jobs). */
  jobs: JobRunner;
  /** Leader election among replicas (null without a cluster or with leader election off: this replica leads). */
  elector: LeaderElector | null;
  /** The audit log: `audit.record(entry, manager)` in the transaction of every change. */
  audit: AuditService;
  /** Accounts, roles, quota overrides. */
  users: UsersService;
  /** Deleting a user with their sessions and (on request) home volumes. */
  userDeletion: UserDeletionService;
  /** Sign-in, refresh, sign-out and the bearer-token check. */
  auth: AuthService;
  /** Access-token signing keys (rotation). */
  tokens: TokenService;
  /** Runtime settings (defaults from the environment, overrides saved by admins), cached in memory. */
  settings: SettingsService;
  /** Per-user limits: `quotas.check(userId, request, manager)` before creating or waking a session. */
  quotas: QuotaService;
  /** Templates (Template objects in the cluster). */
  templates: TemplateService;
  /** Users' ratings and reviews of templates, and the templates' usage figures. */
  templateRatings: TemplateRatingService;
  /** Template catalog: repositories, sync, browse, install. */
  catalog: CatalogServices;
  /** Sessions (Session objects, copied into the sessions table): create, change state, start-up and readiness. */
  sessions: SessionService;
  /** CRDs, the sessions table and the session reconciler. */
  sessionRuntime: SessionRuntime;
  /** Connections, heartbeats, idle hibernation, autoscaling. */
  connections: ConnectionService;
  /** Pinned templates and recently used apps. */
  favorites: FavoriteService;
  /** Users' requests for catalog templates (portal catalog, setting features.catalogBrowsing). */
  templateRequests: TemplateRequestService;
  /** Admin cluster browser: any allow-listed kind, YAML apply/delete, logs, exec, watches. */
  clusterAdmin: ClusterService;
  /** Sessions' access lists: share with users or groups as viewer or collaborator. */
  sharing: SharingService;
  /** Groups of users; sessions can be shared with them. */
  groups: GroupsService;
  /** The session gateway on its own port: the only way into sessions (null when off or without a cluster). */
  gateway: Gateway | null;
  /** Sampled series, alert rules and alerts: `monitoring.sample()` is the leader's job, `checkDependencies()` every replica's. */
  monitoring: MonitoringService;
}

/**
 * Builds every service, in dependency order. Each part that must be stopped is pushed on `cleanup` the moment it
 * has started, so a failure at any step (the caller releases the stack) stops exactly what runs, newest first.
 * Background jobs start last, once every module has registered its own.
 */
export async function createServices(config: AppConfig, { logger, cleanup }: { logger: Logger; cleanup: CleanupStack }): Promise<AppServices> {
  const { buildInfo } = createSystem({ build: config.build });
  const metrics = new AppMetrics();
  const pubSub = createAppPubSub();
  const database = await cleanup.start(
    'database',
    () => openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrationsRun: config.migrationsRun, entities: ENTITIES, logger }),
    (db) => db.close(),
  );
  const { dataSource } = database;
  const cluster = await cleanup.start('cluster', () => connectCluster(config, logger), (c) => c?.stop(), { limitMs: 12_000 });
  await logCluster(cluster, logger);
  // The one client of StreamSpace's own resources (Sessions, Templates, Connections, TemplateRepositories).
  const kube = cluster ? new StreamSpaceApi(cluster.kubeConfig, config.sessions.namespace) : null;
  const pubSubBridge =
    config.connections.pubsub === 'postgres'
      ? await cleanup.start('pub/sub bridge', () => attachPostgresBridge(pubSub, { url: databaseUrlOf(database), logger }), (bridge) => bridge.stop())
      : null;

  const audit = createAudit({ dataSource });
  const { users, auth, tokens } = await createAuth({ config, dataSource, audit, pubSub, logger, cleanup });
  const settings = await createConfiguration({ config, dataSource, audit, pubSub, logger, cleanup, kube });
  const flags = featureFlags(settings);
  const quotas = createQuotas({ dataSource, settings });
  const { jobs, elector } = createJobs(config, cluster, logger, metrics);
  const templates = createTemplates({ kube, audit, jobs, resyncIntervalMs: config.sessions.resyncIntervalMs, logger, cleanup });
  const sessions = await createSessions({ config: config.sessions, kube, realNode: cluster?.realNode, dataSource, pubSub, jobs, audit, quotas, templates, policies: sessionPolicies(settings), logger, cleanup, observe: {
      reconciled: (seconds, outcome) => metrics.reconcileDuration.observe({ outcome }, seconds),
      started: (seconds) => metrics.sessionStartupDuration.observe(seconds),
    } });
  const catalog = createCatalog({
    config: config.catalog,
    dataDir: config.dataDir,
    dataSource,
    logger,
    pubSub,
    audit,
    kube,
    templates: cluster ? templates : null,
    jobs,
    browsingAllowed: flags.catalogBrowsingAllowed,
    onSynced: (outcome) => metrics.catalogSyncs.inc({ outcome }),
  });
  await catalog.repositories.seedDefault(config.catalog.defaultRepository);
  const connections = createConnections({ config: { ...config, connections: liveConnectionsConfig(config.connections, settings) }, dataSource, kube, sessionTable: sessions.runtime.sessionTable, sessions: sessions.service, templates, audit, pubSub, jobs, logger, cleanup });
  metrics.countHeartbeats(() => connections.heartbeats.stats.heartbeats);
  const sharing = createSharing({ dataSource, namespace: config.sessions.namespace, audit, sessions: sessions.service, connections, pubSub, logger, sharingAllowed: flags.sharingAllowed });
  const groups = createGroups({ dataSource, audit, sharing, logger });
  const gateway = cluster && config.gateway.mode !== 'off' ? await startSessionGateway(config, { cluster, dataSource, pubSub, connections, metrics, logger, cleanup }) : null;
  const favorites = createFavorites({ dataSource, audit, templates, hasCluster: cluster !== null, namespace: config.sessions.namespace });
  const monitoring = await createMonitoring({
    config: config.monitoring,
    dataSource,
    pubSub,
    audit,
    metrics,
    cluster,
    quotas,
    jobs,
    identity: elector?.identity ?? `${os.hostname()}-${process.pid}`,
    probeTimeoutMs: config.dbHealthTimeoutMs,
    logger,
    cleanup,
  });
  const templateRatings = new TemplateRatingService({ dataSource, audit, templates: cluster ? templates : null });
  const templateRequests = createTemplateRequests({ dataSource, audit, settings, catalog: catalog.catalogTemplates, templates });
  const userDeletion = new UserDeletionService({ dataSource, users, sessions: sessions.service, kubeConfig: cluster?.kubeConfig ?? null, namespace: config.sessions.namespace });
  const clusterAdmin = createClusterAdmin({ cluster, audit, platformNamespace: config.platformNamespace, sessionNamespace: config.sessions.namespace, logger, cleanup });

  await cleanup.start(
    'jobs',
    () => {
      jobs.start();
      elector?.start();
    },
    async () => {
      await jobs.stop();
      await elector?.stop();
    },
  );
  return {
    config,
    logger,
    buildInfo,
    database,
    pubSub,
    pubSubBridge,
    metrics,
    cluster,
    jobs,
    elector,
    audit,
    users,
    userDeletion,
    auth,
    tokens,
    settings,
    quotas,
    templates,
    templateRatings,
    catalog,
    sessions: sessions.service,
    sessionRuntime: sessions.runtime,
    connections,
    sharing,
    groups,
    favorites,
    templateRequests,
    clusterAdmin,
    gateway,
    monitoring,
  };
}

/**
 * The origins whose pages may open a session's WebSocket (the portal's viewer): the public URL's and the trusted
 * ones; without a public URL, this server's own port on the loopback names (a local run).
 */
function platformOrigins(config: AppConfig): string[] {
  const own = config.auth.publicUrl
    ? [new URL(config.auth.publicUrl).origin]
    : ['localhost', '127.0.0.1', '[::1]'].map((host) => `http://${host}:${config.port}`);
  return [...own, ...config.auth.trustedOrigins];
}

/** The session gateway; connectSession then answers its single-use ticket URLs instead of the session's own URL. */
async function startSessionGateway(
  config: AppConfig,
  deps: { cluster: ClusterConnection; dataSource: AppServices['database']['dataSource']; pubSub: AppPubSub; connections: ConnectionService; metrics: AppMetrics; logger: Logger; cleanup: CleanupStack },
): Promise<Gateway> {
  const { connections, logger } = deps;
  const gateway = await deps.cleanup.start(
    'gateway',
    () =>
      startGateway({
        config: config.gateway,
        host: config.host,
        dataSource: deps.dataSource,
        pubSub: deps.pubSub,
        logger,
        kubeConfig: deps.cluster.kubeConfig,
        heartbeat: (connectionId, userId) => connections.heartbeats.beat(connectionId, userId),
        platformOrigins: platformOrigins(config),
        portalUrl: config.auth.publicUrl ?? `http://localhost:${config.port}`,
        countTraffic: (server) => deps.metrics.countTraffic(server),
      }),
    (g) => g.stop(),
    { limitMs: 2000 },
  );
  connections.gatewayTicket = (sessionId, appPath) => gateway.prepareTicket(sessionId, appPath);
  if (config.sessions.ingress.mode !== 'none') {
    logger.warn({ ingress: config.sessions.ingress.mode }, 'STREAMSPACE_SESSION_INGRESS routes straight to sessions, around the gateway: set it to none and route the apps domain to the gateway');
  }
  return gateway;
}

/** The job runner; with a cluster and leader election on, only the replica holding the Lease runs the jobs. */
function createJobs(config: AppConfig, cluster: ClusterConnection | null, logger: Logger, metrics: AppMetrics): { jobs: JobRunner; elector: LeaderElector | null } {
  const log = logger.child({ component: 'jobs' });
  const elector =
    cluster && config.sessions.leaderElection
      ? new LeaderElector({
          kubeConfig: cluster.kubeConfig,
          namespace: config.sessions.namespace,
          name: LEADER_LEASE_NAME,
          identity: `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseDurationMs: config.sessions.leaseDurationMs,
          logger: log,
        })
      : null;
  return { jobs: new JobRunner(elector ?? alwaysLeader, log, (job, outcome) => metrics.jobRuns.inc({ job, outcome })), elector };
}

async function logCluster(cluster: ClusterConnection | null, logger: Logger): Promise<void> {
  if (!cluster) {
    logger.info({ mode: 'none' }, 'Kubernetes: none (STREAMSPACE_CLUSTER=none); features that need a cluster are unavailable');
    return;
  }
  const version = await cluster.ping().then(
    (v) => v.gitVersion,
    (err: Error) => {
      logger.warn({ err: err.message, cluster: cluster.description }, 'Kubernetes API server is not reachable yet (see /readyz)');
      return undefined;
    },
  );
  logger.info(
    { cluster: cluster.description, mode: cluster.mode, simulated: cluster.simulated, version },
    `Kubernetes: ${cluster.simulated ? 'SIMULATED ' : ''}${cluster.description}`,
  );
}

function databaseUrlOf(database: Database): string {
  const url = (database.dataSource.options as { url?: string }).url;
  if (!url) throw new Error('pub/sub: the data source has no URL');
  return url;
}
