import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import { NoSchemaIntrospectionCustomRule, specifiedRules } from 'graphql';
import { pinoHttp } from 'pino-http';
import type { AppConfig } from './config/config';
import { AuditService } from './modules/audit/audit.service';
import { catalogAssetRoutes } from './modules/catalog/catalog-assets.routes';
import { createCatalog, type CatalogServices } from './modules/catalog/catalog.module';
import { authRoutes } from './modules/auth/auth.routes';
import type { AuthService } from './modules/auth/auth.service';
import { oidcRoutes } from './modules/auth/oidc.routes';
import { corsForTrustedOrigins, securityHeaders } from './platform/auth/security.middleware';
import {
  callerFromRequest,
  createIdentity,
  tokenFromConnectionParams,
  WS_CLOSE_TOKEN_EXPIRED,
} from './modules/auth/identity';
import type { TokenService } from './modules/auth/token.service';
import { USER_ACCESS_CHANGED, type UsersService } from './modules/users/users.service';
import { QuotaService } from './modules/quotas/quota.service';
import { SettingsService } from './modules/configuration/settings.service';
import { readBuildInfo, type BuildInfo } from './modules/system/build-info';
import { startSessionRuntime, type SessionRuntime } from './modules/sessions/session-runtime';
import { beaconRoutes } from './modules/connections/beacon.routes';
import type { ConnectionService } from './modules/connections/connection.service';
import { startConnections, type ConnectionsRuntime } from './modules/connections/connections.module';
import { SessionService } from './modules/sessions/session.service';
import { TemplateService } from './modules/templates/template.service';
import { ClusterService } from './modules/cluster/cluster.service';
import { startGateway, type Gateway } from './modules/gateway/gateway.module';
import type { JobRunner } from './platform/jobs/job-runner';
import { openDatabase, pingDatabase, type Database } from './platform/database/database';
import type { GraphQLContext } from './platform/graphql/context';
import { ValidatedDocumentCache } from './platform/graphql/document-cache';
import { createErrorFormatter } from './platform/graphql/errors';
import { createLimitsChecker } from './platform/graphql/limits';
import { LoaderRegistry } from './platform/graphql/loaders';
import { createAppPubSub, type AppPubSub } from './platform/graphql/pubsub';
import { buildAppSchema } from './platform/graphql/schema';
import { startGraphQLWsServer } from './platform/graphql/ws-server';
import { healthRoutes, type ReadinessCheck } from './platform/http/health.routes';
import { connectCluster, type ClusterConnection } from './platform/kube/cluster';
import { ideRoutes } from './platform/http/ide.routes';
import { AppMetrics } from './platform/http/metrics';
import { createLogger, logScope, type Logger } from './platform/logging/logger';

/** The services every module may use; resolvers receive this object in their constructor. */
export interface AppServices {
  config: AppConfig;
  logger: Logger;
  buildInfo: BuildInfo;
  database: Database;
  pubSub: AppPubSub;
  metrics: AppMetrics;
  /**
   * The Kubernetes cluster (null with STREAMSPACE_CLUSTER=none). Make API clients from it:
   * `services.cluster.kubeConfig.makeApiClient(CoreV1Api)`; watch with platform/kube/informer.ts.
   */
  cluster: ClusterConnection | null;
  /** The audit log: `audit.record(entry, manager)` in the transaction of every change. */
  audit: AuditService;
  /** Accounts, roles, quota overrides. */
  users: UsersService;
  /** Sign-in, refresh, sign-out and the bearer-token check. */
  auth: AuthService;
  /** Access-token signing keys (rotation). */
  tokens: TokenService;
  /** Runtime settings (defaults from the environment, overrides saved by admins), cached in memory. */
  settings: SettingsService;
  /** Per-user limits: `quotas.check(userId, request, manager)` before creating or waking a session. */
  quotas: QuotaService;
  /** Background jobs run by the leader replica: `jobs.register(job)` (platform/jobs). */
  jobs: JobRunner;
  /** Templates (Template objects in the cluster). */
  templates: TemplateService;
  /** Template catalog: repositories, sync, browse, install (issue 7). */
  catalog: CatalogServices;
  /** Sessions (Session objects, mirrored in the sessions table). */
  sessions: SessionService;
  /** CRDs, table mirror, leader election and the session reconciler. */
  sessionRuntime: SessionRuntime;
  /** Connections, heartbeats, idle hibernation, autoscaling (issue 6). */
  connections: ConnectionService;
  /** Its pub/sub bridge and lifecycle. */
  connectionsRuntime: ConnectionsRuntime;
  /** Admin cluster browser: any allow-listed kind, YAML apply/delete, logs, exec, watches. */
  clusterAdmin: ClusterService;
  /** The session gateway on its own port (issue 13); null when off or without a cluster. */
  gateway: Gateway | null;
}

export interface App {
  services: AppServices;
  httpServer: http.Server;
  /** http://host:port once listening. */
  url: string;
  stop(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function requestIdMiddleware(req: Request, res: Response, next: NextFunction) {
  const incoming = req.header('x-request-id');
  const reqId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (req as Request & { id: string }).id = reqId;
  res.setHeader('X-Request-Id', reqId);
  // Everything done for this request, however deep, logs with its id (see the logger's mixin).
  logScope.run({ reqId }, next);
}

/** Client builds served by this server in production (issue 8 fills them). */
function serveClient(app: express.Express, mount: string, dir: string) {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) return;
  app.use(mount, express.static(dir, { index: false }));
  // History-mode routing: unknown paths under the mount get the app's index.html.
  app.get(`${mount === '/' ? '' : mount}/{*rest}`, (req, res, next) => (req.accepts('html') ? res.sendFile(index) : next()));
}

export async function createApp(config: AppConfig, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const buildInfo = readBuildInfo(config.build);
  const metrics = new AppMetrics();
  const pubSub = createAppPubSub();
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    migrationsRun: config.migrationsRun,
    logger,
  });
  const audit = new AuditService(database.dataSource);
  const identity = createIdentity({ config, dataSource: database.dataSource, audit, logger });
  try {
    await identity.users.bootstrapAdmin(config.auth.adminUsername, config.auth.adminPassword);
  } catch (err) {
    await database.close();
    throw err;
  }
  let cluster: ClusterConnection | null;
  try {
    cluster = await connectCluster(config, logger);
  } catch (err) {
    await database.close();
    throw err;
  }
  if (cluster) {
    const version = await cluster.ping().then((v) => v.gitVersion, (err: Error) => {
      logger.warn({ err: err.message, cluster: cluster!.description }, 'Kubernetes API server is not reachable yet (see /readyz)');
      return undefined;
    });
    logger.info(
      { cluster: cluster.description, mode: cluster.mode, simulated: cluster.simulated, version },
      `Kubernetes: ${cluster.simulated ? 'SIMULATED ' : ''}${cluster.description}`,
    );
  } else {
    logger.info({ mode: 'none' }, 'Kubernetes: none (STREAMSPACE_CLUSTER=none); features that need a cluster are unavailable');
  }
  const settings = new SettingsService({ dataSource: database.dataSource, audit, pubSub, config, logger });
  try {
    await settings.start();
  } catch (err) {
    await database.close();
    await cluster?.stop();
    throw err;
  }
  const quotas = new QuotaService(database.dataSource, settings);
  let sessionRuntime: SessionRuntime;
  try {
    sessionRuntime = await startSessionRuntime({ config: config.sessions, cluster, dataSource: database.dataSource, pubSub, logger });
  } catch (err) {
    await database.close();
    await cluster?.stop();
    throw err;
  }
  const templates = new TemplateService({ kubeConfig: cluster?.kubeConfig ?? null, namespace: config.sessions.namespace, audit });
  const sessions = new SessionService({
    dataSource: database.dataSource,
    kubeConfig: cluster?.kubeConfig ?? null,
    namespace: config.sessions.namespace,
    audit,
    quotas,
    templates,
    mirror: sessionRuntime.mirror,
  });
  const catalog = createCatalog({
    config: config.catalog,
    dataDir: config.dataDir,
    dataSource: database.dataSource,
    logger,
    pubSub,
    audit,
    kubeConfig: cluster?.kubeConfig ?? null,
    namespace: config.sessions.namespace,
    templates: cluster ? templates : null,
    jobs: sessionRuntime.jobs,
  });
  await catalog.repositories.seedDefault(config.catalog.defaultRepository);
  let connectionsRuntime: ConnectionsRuntime;
  try {
    connectionsRuntime = await startConnections({
      config,
      dataSource: database.dataSource,
      kubeConfig: cluster?.kubeConfig ?? null,
      mirror: sessionRuntime.mirror,
      sessions,
      audit,
      quotas,
      pubSub,
      jobs: sessionRuntime.jobs,
      logger,
    });
  } catch (err) {
    await sessionRuntime.stop();
    await database.close();
    await cluster?.stop();
    throw err;
  }
  let gateway: Gateway | null = null;
  if (config.gateway.mode !== 'off' && cluster) {
    try {
      gateway = await startGateway({
        config: config.gateway,
        host: config.host,
        dataSource: database.dataSource,
        pubSub,
        logger,
        kubeConfig: cluster.kubeConfig,
        heartbeat: (connectionId, userId) => connectionsRuntime.service.heartbeats.beat(connectionId, userId),
        platformOrigins: [...(config.auth.publicUrl ? [new URL(config.auth.publicUrl).origin] : [`http://localhost:${config.port}`]), ...config.auth.trustedOrigins],
      });
    } catch (err) {
      await connectionsRuntime.stop();
      await sessionRuntime.stop();
      await database.close();
      await cluster.stop();
      throw err;
    }
    const g = gateway;
    connectionsRuntime.service.gatewayUrl = (input) => g.issueTicket(input);
    if (config.sessions.ingress.mode !== 'none') {
      logger.warn({ ingress: config.sessions.ingress.mode }, 'STREAMSPACE_SESSION_INGRESS routes straight to sessions, around the gateway: set it to none and route the apps domain to the gateway');
    }
  }
  const services: AppServices = { config, logger, buildInfo, database, pubSub, metrics, audit, cluster, users: identity.users, auth: identity.auth, tokens: identity.tokens, settings, quotas, jobs: sessionRuntime.jobs, templates, sessions, sessionRuntime, catalog, connections: connectionsRuntime.service, connectionsRuntime, clusterAdmin: new ClusterService({ kubeConfig: cluster?.kubeConfig ?? null, audit }), gateway };

  try {
    const schema = await buildAppSchema({ services, pubSub });
    const limits = { maxDepth: config.graphql.maxDepth, maxComplexity: config.graphql.maxComplexity };
    const formatError = createErrorFormatter(logger, () => logScope.getStore()?.reqId);

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', 'loopback, linklocal, uniquelocal');
    const httpServer = http.createServer(app);

    // graphql-ws on the same port and path as HTTP GraphQL (platform/graphql/ws-server.ts).
    const checkLimits = createLimitsChecker(schema, limits);
    const wsServer = startGraphQLWsServer({
      httpServer,
      path: '/graphql',
      schema,
      documents: new ValidatedDocumentCache(schema, [...specifiedRules, ...(config.graphql.introspection ? [] : [NoSchemaIntrospectionCustomRule])], {
        parseOptions: { maxTokens: 10_000 },
      }),
      checkLimits,
      logger,
      metrics,
      // The token rides in connectionParams; the socket closes (4401) when it expires, and the client
      // reconnects with a fresh one. A bad token refuses the connection (4403); no token is anonymous.
      authenticate: async (params) => {
        const token = tokenFromConnectionParams(params);
        if (!token) return { caller: null };
        const authenticated = await identity.auth.authenticate(token);
        return authenticated ? { caller: authenticated.caller, expiresAtMs: authenticated.expiresAtMs } : null;
      },
      tokenExpiredCloseCode: WS_CLOSE_TOKEN_EXPIRED,
    });
    // A user's role or disabled flag changed (on any replica): their sockets authenticate again, so a demoted
    // admin or a disabled user loses access on open sockets at once, not when the token expires.
    identity.users.onAccessChanged((userId) => pubSub.publish(USER_ACCESS_CHANGED, { userId }));
    const accessChanges = (pubSub.subscribe as unknown as (topic: string) => AsyncIterableIterator<{ userId: string }> & { return?: () => Promise<unknown> })(
      USER_ACCESS_CHANGED,
    );
    void (async () => {
      for await (const { userId } of accessChanges) {
        const closed = wsServer.closeSocketsOf(userId, WS_CLOSE_TOKEN_EXPIRED, 'Access changed; authenticate again');
        if (closed) logger.info({ userId, sockets: closed }, 'closed the sockets of a user whose access changed');
      }
    })().catch((err: Error) => logger.error({ err }, 'user access change listener failed'));

    const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
      requestDidStart: async () => ({
        didResolveOperation: async ({ document, request, operationName }) => {
          checkLimits(document, request.variables, operationName);
        },
      }),
    };

    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      introspection: config.graphql.introspection,
      includeStacktraceInErrorResponses: false,
      csrfPrevention: true,
      // main.ts owns SIGTERM/SIGINT and stops everything in order; Apollo's own handler would race it.
      stopOnTerminationSignals: false,
      parseOptions: { maxTokens: 10_000 },
      formatError,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownTimeoutMs }),
        {
          serverWillStart: async () => ({
            drainServer: async () => {
              await accessChanges.return?.();
              await wsServer.dispose();
            },
          }),
        },
        ApolloServerPluginLandingPageDisabled(),
        metrics.apolloPlugin(),
        limitsPlugin,
      ],
    });
    await apollo.start();

    const readiness = (): ReadinessCheck[] => [
      {
        name: 'database',
        check: async () => {
          await pingDatabase(database.dataSource, config.dbHealthTimeoutMs);
          return { target: database.description };
        },
      },
      ...(cluster ? [kubernetesReadiness(cluster)] : []),
    ];

    app.use(requestIdMiddleware);
    app.use(securityHeaders());
    app.use(corsForTrustedOrigins(config.auth));
    app.use(
      pinoHttp({
        logger,
        genReqId: (req) => (req as Request & { id: string }).id,
        autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      }),
    );
    app.use(metrics.httpMiddleware());
    app.use(healthRoutes(readiness));
    app.use(authRoutes(identity.auth, config.auth));
    app.use(oidcRoutes({ config: config.auth, auth: identity.auth, users: identity.users, tokens: identity.tokens, audit, logger }));
    app.get('/metrics', async (_req, res) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    });
    app.use(ideRoutes(config.graphql.ide));
    app.use(beaconRoutes(connectionsRuntime.service));
    app.use(catalogAssetRoutes(catalog.templates, (req) => callerFromRequest(identity.auth, req)));
    app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      expressMiddleware(apollo, {
        context: async ({ req }): Promise<GraphQLContext> => {
          const requestId = (req as Request & { id: string }).id;
          return {
            requestId,
            logger: (req as Request & { log: Logger }).log,
            caller: await callerFromRequest(identity.auth, req),
            loaders: new LoaderRegistry(),
            clientIp: req.ip,
            userAgent: req.header('user-agent'),
          };
        },
      }),
    );
    const root = path.resolve(__dirname, __filename.endsWith('.ts') ? '../..' : '../../../..');
    serveClient(app, '/admin', path.join(root, 'client-admin', 'dist'));
    serveClient(app, '/', path.join(root, 'client-portal', 'dist'));
    app.use((req, res) => {
      res.status(404).json({ error: 'not_found', message: `No route for ${req.method} ${req.path}` });
    });
    app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
      // Body-parser errors (malformed JSON, too large) are the client's; anything else is ours.
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status === 500) logger.error({ err, reqId: (req as Request & { id?: string }).id }, 'unhandled HTTP error');
      res.status(status).json({
        error: status === 500 ? 'internal' : (err.type ?? 'bad_request'),
        message: status === 500 ? `Internal server error (request id ${(req as Request & { id?: string }).id})` : err.message,
      });
    });

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const address = httpServer.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${host}:${port}`;

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('shutting down: draining HTTP and WebSocket connections');
        // Each step is logged and bounded: when a dependency is already gone (Ctrl-C reaches the embedded
        // PostgreSQL and the local cluster's processes too), a step that would wait for it gives up and the
        // next one still runs, so the process exits instead of hanging until the watchdog in main.ts.
        const step = async (name: string, limitMs: number, fn: () => Promise<unknown>) => {
          const started = Date.now();
          let timer: NodeJS.Timeout | undefined;
          try {
            const outcome = await Promise.race([
              fn().then(() => 'done' as const),
              new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limitMs))),
            ]);
            if (outcome === 'timeout') logger.warn({ step: name, limitMs }, 'shutdown step did not finish in time; going on');
          } catch (err) {
            logger.error({ err, step: name }, 'shutdown step failed');
          } finally {
            clearTimeout(timer);
          }
          logger.debug({ step: name, ms: Date.now() - started }, 'shutdown step done');
        };
        await step('http and websocket drain', config.shutdownTimeoutMs + 1000, () => apollo.stop()); // stops listening, drains HTTP, then ws
        await step('gateway', 2000, async () => gateway?.stop());
        await step('session runtime', 5000, () => sessionRuntime.stop());
        await step('connections runtime', 5000, () => connectionsRuntime.stop());
        await step('settings', 1000, () => settings.stop());
        await step('database', 5000, () => database.close());
        await step('cluster', 12_000, async () => cluster?.stop());
        logger.info('shutdown complete');
      })());

    return { services, httpServer, url, stop };
  } catch (err) {
    await gateway?.stop();
    await sessionRuntime.stop();
    await connectionsRuntime.stop();
    await database.close();
    await cluster?.stop();
    throw err;
  }
}

/** /readyz check "kubernetes": the API server answers /version; says whether the cluster is simulated. */
function kubernetesReadiness(cluster: ClusterConnection): ReadinessCheck {
  return {
    name: 'kubernetes',
    check: async () => {
      const version = await cluster.ping();
      return { target: cluster.description, mode: cluster.mode, simulated: cluster.simulated, version: version.gitVersion };
    },
  };
}
