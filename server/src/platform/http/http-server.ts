import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { AuthConfig } from '../../config/config';
import { corsForTrustedOrigins, securityHeaders } from '../auth/security.middleware';
import type { Logger } from '../logging/logger';
import { accessLog } from './access-log';
import { chained } from './chained';
import { healthRoutes, type ReadinessCheck } from './health.routes';
import { ide } from './ide.routes';
import type { AppMetrics } from './metrics';

/** A client build served by this server in production, when it was built. */
function serveClient(app: express.Express, mount: string, dir: string) {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) return;
  app.use(mount, express.static(dir, { index: false }));
  // History-mode routing: unknown paths under the mount get the app's index.html.
  app.get(`${mount === '/' ? '' : mount}/{*rest}`, (req, res, next) => (req.accepts('html') ? res.sendFile(index) : next()));
}

export interface HttpServer {
  app: express.Express;
  server: http.Server;
}

/** The Express app and its HTTP server (not listening yet: the routes come first, see `mountRoutes`). */
export function createHttpServer(options: { trustProxy?: string[] } = {}): HttpServer {
  const app = express();
  app.disable('x-powered-by');
  // Only the configured proxies may set X-Forwarded-For: trusting every private range would let any pod in the
  // cluster (a user's session among them) pick its own client IP, escaping the per-IP login limit and forging audit IPs.
  const trusted = options.trustProxy ?? ['loopback'];
  app.set('trust proxy', trusted.length ? trusted : false);
  return { app, server: http.createServer(app) };
}

export interface RoutesOptions {
  logger: Logger;
  metrics: AppMetrics;
  /** CORS is allowed for the trusted origins only. */
  auth: AuthConfig;
  readiness: () => ReadinessCheck[];
  /** Whether the caller is an admin (a valid bearer access token with the admin role): /readyz details, /metrics. */
  isAdmin: (req: Request) => Promise<boolean>;
  /** When set, /metrics answers only this bearer token (or an admin). */
  metricsToken: string | undefined;
  /** Serve the GraphQL IDE (GET /graphql from a browser). */
  ide: boolean;
  /** The modules' own HTTP routes (sign-in, beacons, assets), in order. */
  routes: RequestHandler[];
  /** Handlers of `path`, the GraphQL endpoint. */
  graphql: { path: string; handlers: RequestHandler[] };
  /** Client builds: mounted in order, so a more specific mount comes first. */
  clients: { mount: string; dir: string }[];
}

/** Request ids and access log, security headers, CORS, metrics, GraphQL (the IDE's page first), health, the IDE's assets, the modules' routes, the clients, then 404 and errors. */
export function mountRoutes(app: express.Express, options: RoutesOptions): void {
  const { logger, metrics } = options;
  // The middleware every request takes, as one layer (chained.ts): request id and access log first (everything after
  // may log with req.log), security headers, CORS, metrics.
  app.use(chained([accessLog(logger, ['/healthz', '/readyz', '/metrics']), securityHeaders(), corsForTrustedOrigins(options.auth), metrics.httpMiddleware()]));
  // GraphQL (the IDE's page first: GET /graphql from a browser) right after it, one layer too: an API request walks
  // no other router (none serves /graphql).
  const { page, assets } = ide(options.ide);
  app.use(options.graphql.path, chained([page, ...options.graphql.handlers]));
  app.use(healthRoutes(options.readiness, options.isAdmin));
  app.use(assets);
  for (const route of options.routes) app.use(route);
  app.get('/metrics', async (req, res) => {
    if (options.metricsToken && !bearerMatches(req, options.metricsToken) && !(await options.isAdmin(req).catch(() => false))) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res.status(401).json({ error: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <STREAMSPACE_METRICS_TOKEN>' });
      return;
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  for (const client of options.clients) serveClient(app, client.mount, client.dir);
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
}

/** Whether the request carries `Authorization: Bearer <token>` (compared in constant time). */
function bearerMatches(req: Request, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization')?.trim() ?? '');
  if (!match) return false;
  const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

/** Listens on host:port; resolves with the URL clients use (localhost for a wildcard host). */
export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actualPort}`;
}
