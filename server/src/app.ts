import type http from 'node:http';
import type { Request } from 'express';
import { GraphQLError } from 'graphql';
import path from 'node:path';
import { buildAppSchema } from './composition/resolvers';
import { readinessChecks } from './composition/readiness';
import { createServices, type AppServices } from './composition/services';
import type { AppConfig } from './config/config';
import { Role } from './platform/graphql/authorization';
import type { Caller } from './platform/graphql/context';
import { USER_SIGNED_OUT, type SignedOutEvent } from './modules/auth/auth.module';
import { authRoutes } from './modules/auth/auth.routes';
import { callerFromRequest, tokenFromConnectionParams, WS_CLOSE_TOKEN_EXPIRED } from './modules/auth/identity';
import type { AuthService } from './modules/auth/auth.service';
import { oidcRoutes } from './modules/auth/oidc.routes';
import { catalogAssetRoutes } from './modules/catalog/catalog-assets.routes';
import { beaconRoutes } from './modules/connections/beacon.routes';
import { USER_ACCESS_CHANGED } from './modules/users/users.service';
import { GRAPHQL_PATH, startGraphQLServer, type GraphQLServer } from './platform/graphql/graphql-server';
import { createHttpServer, listen, mountRoutes } from './platform/http/http-server';
import { CleanupStack } from './platform/lifecycle/cleanup-stack';
import { createLogger, type Logger } from './platform/logging/logger';
import { tuneHeap } from './platform/runtime/heap';

export type { AppServices } from './composition/services';

export interface App {
  services: AppServices;
  httpServer: http.Server;
  /** http://host:port once listening. */
  url: string;
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  logger?: Logger;
  /** Where started parts register their release; a test passes its own to watch them or to fail a step. */
  cleanup?: CleanupStack;
}

/**
 * The composition root: builds the services (composition/services.ts), then the GraphQL API and the HTTP routes,
 * and listens. Everything started is on one cleanup stack: a start-up failure releases what already runs, in
 * reverse order, and `stop()` releases the same stack.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<App> {
  tuneHeap();
  const logger = options.logger ?? createLogger(config.logLevel);
  const cleanup = options.cleanup ?? new CleanupStack(logger);
  try {
    const services = await createServices(config, { logger, cleanup });
    const { users, auth } = services;
    const { app, server } = createHttpServer({ trustProxy: config.trustProxy });
    const graphql = await cleanup.start(
      'http and websocket drain', // stops listening, drains HTTP, then the sockets
      () =>
        buildAppSchema(services).then((schema) =>
          startGraphQLServer({
            httpServer: server,
            schema,
            config: config.graphql,
            shutdownTimeoutMs: config.shutdownTimeoutMs,
            logger,
            metrics: services.metrics,
            callerOf: (req) => callerFromRequest(auth, req),
            // The token rides in connectionParams; the socket closes (4401) when it expires, and the client
            // reconnects with a fresh one. A bad token refuses the connection (4403); no token is anonymous.
            authenticateSocket: async (params) => {
              const token = tokenFromConnectionParams(params);
              if (!token) return { caller: null };
              const authenticated = await auth.authenticate(token);
              return authenticated ? { caller: authenticated.caller, expiresAtMs: authenticated.expiresAtMs } : null;
            },
            tokenExpiredCloseCode: WS_CLOSE_TOKEN_EXPIRED,
          }),
        ),
      (started) => started.stop(),
      { limitMs: config.shutdownTimeoutMs + 1000 },
    );
    closeSocketsOnAccessChange(services, graphql, cleanup);
    closeSocketsOnSignOut(services, graphql, cleanup);

    const root = path.resolve(__dirname, __filename.endsWith('.ts') ? '../..' : '../../../..');
    mountRoutes(app, {
      logger,
      metrics: services.metrics,
      auth: config.auth,
      readiness: () => readinessChecks(services),
      isAdmin: (req) => isAdminForHealth(auth, req),
      metricsToken: config.metricsToken,
      ide: config.graphql.ide,
      routes: [
        authRoutes(auth, config.auth),
        oidcRoutes({ config: config.auth, auth, users, tokens: services.tokens, audit: services.audit, groups: services.groups, logger }),
        beaconRoutes(services.connections),
        catalogAssetRoutes(services.catalog.catalogTemplates, (req) => callerFromRequest(auth, req)),
      ],
      graphql: { path: GRAPHQL_PATH, handlers: graphql.handlers },
      clients: [
        { mount: '/admin', dir: path.join(root, 'client-admin', 'dist') },
        { mount: '/', dir: path.join(root, 'client-portal', 'dist') },
      ],
    });
    const url = await listen(server, config.port, config.host);

    const stop = async () => {
      logger.info('shutting down: draining HTTP and WebSocket connections');
      await cleanup.release();
      logger.info('shutdown complete');
    };
    let stopping: Promise<void> | undefined;
    return { services, httpServer: server, url, stop: () => (stopping ??= stop()) };
  } catch (err) {
    logger.error({ err, starting: cleanup.pending }, 'start-up failed; stopping what had started');
    await cleanup.release();
    throw err;
  }
}

/**
 * A user's role or disabled flag changed (on any replica): their sockets authenticate again, so a demoted admin or
 * a disabled user loses access on open sockets at once, not when the token expires.
 */
function closeSocketsOnAccessChange({ pubSub, logger }: AppServices, graphql: GraphQLServer, cleanup: CleanupStack): void {
  const accessChanges = pubSub.subscribeTopic<{ userId: string }>(USER_ACCESS_CHANGED);
  cleanup.push('user access listener', () => accessChanges.return());
  void (async () => {
    for await (const { userId } of accessChanges) {
      const closed = graphql.closeSocketsOf(userId, WS_CLOSE_TOKEN_EXPIRED, 'Access changed; authenticate again');
      if (closed) logger.info({ userId, sockets: closed }, 'closed the sockets of a user whose access changed');
    }
  })().catch((err: Error) => logger.error({ err }, 'user access change listener failed'));
}

/**
 * Sign-ins of a user ended (sign-out, password change; on any replica): the sockets opened with their access tokens
 * close (4401). Those tokens no longer authenticate, so such a socket cannot come back; others reconnect at once.
 */
function closeSocketsOnSignOut({ pubSub, logger }: AppServices, graphql: GraphQLServer, cleanup: CleanupStack): void {
  const signOuts = pubSub.subscribeTopic<SignedOutEvent>(USER_SIGNED_OUT);
  cleanup.push('sign-out listener', () => signOuts.return());
  void (async () => {
    for await (const { userId, familyId, exceptFamilyId } of signOuts) {
      const ended = (caller: Caller) => (familyId ? caller.sid === familyId : !exceptFamilyId || caller.sid !== exceptFamilyId);
      const closed = graphql.closeSocketsOf(userId, WS_CLOSE_TOKEN_EXPIRED, 'Signed out; authenticate again', ended);
      if (closed) logger.info({ userId, sockets: closed }, 'closed the sockets of a sign-in that ended');
    }
  })().catch((err: Error) => logger.error({ err }, 'sign-out listener failed'));
}

/**
 * Whether /readyz details and /metrics go to this request: an admin's valid access token. While the database is
 * down (when /readyz details matter most) the token's own verified claims decide, since the user row cannot be read.
 */
async function isAdminForHealth(auth: AuthService, req: Request): Promise<boolean> {
  try {
    return (await callerFromRequest(auth, req))?.role === Role.ADMIN;
  } catch (err) {
    if (err instanceof GraphQLError) return false; // a bad, expired or revoked token
    return (await auth.claimsOf(req.get('authorization')).catch(() => null))?.role === Role.ADMIN;
  }
}
