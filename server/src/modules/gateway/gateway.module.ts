import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { Logger } from '../../platform/logging/logger';
import type { AppsLocation } from './gateway-address';
import { GatewayActivity } from './gateway-activity';
import { createGatewayHandlers, type GatewayHandlers, type UpstreamResolver } from './gateway.proxy';
import { GatewayService, type PreparedTicket } from './gateway.service';
import { sessionPodUpstream } from './gateway-upstream';

export interface Gateway {
  service: GatewayService;
  handlers: GatewayHandlers;
  /** The gateway's own HTTP server (its port: STREAMSPACE_GATEWAY_PORT). */
  server: http.Server;
  location: AppsLocation;
  /** A single-use ticket URL for an open connection. */
  issueTicket(input: { sessionId: string; userId: string; connectionId: string; appPath?: string }): Promise<string>;
  /** A ticket to store with a connection as it is opened (connectSession's URL, see ConnectionService). */
  prepareTicket(sessionId: string, appPath?: string): Promise<PreparedTicket>;
  /** Access of a connection, session or user ends now, on every replica. */
  endAccess(scope: { connectionId?: string; sessionId?: string; userId?: string }): Promise<void>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  config: GatewayConfig;
  /** host to listen on */
  host: string;
  dataSource: DataSource;
  pubSub: AppPubSub;
  logger: Logger;
  kubeConfig: KubeConfig | null;
  /** The connections' batched heartbeat: traffic counts as activity. */
  heartbeat?: (connectionId: string, userId: string) => Promise<boolean>;
  /** Tests: a loopback server in place of the session pods (kwok pods run nothing). */
  upstreamFor?: UpstreamResolver;
  /** The platform's origins (the portal may open a session's WebSocket). */
  platformOrigins?: string[];
  /** The portal's base URL (a refused session address links to the session there). */
  portalUrl?: string;
  clock?: () => Date;
  /** Counts the gateway's requests and the bytes of its browser sockets (metrics). */
  countTraffic?: (server: http.Server) => void;
}

/** Browsers treat https and http://localhost / http://*.localhost as secure contexts (Secure cookies allowed). */
export function secureContext(location: AppsLocation): boolean {
  const host = location.domain.replace(/:\d+$/, '');
  return location.scheme === 'https' || host === 'localhost' || host.endsWith('.localhost');
}

/**
 * Starts the session gateway on its own port: the only way into sessions. Returns once listening.
 * The same binary serves it; Helm can also run it as its own Deployment with its own replicas.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  if (config.mode === 'off') throw new Error('gateway: STREAMSPACE_GATEWAY_MODE=off');
  const upstreamFor = options.upstreamFor ?? (options.kubeConfig ? sessionPodUpstream(options.kubeConfig) : null);
  if (!upstreamFor) throw new Error('gateway: no cluster to find session Services in');
  const server = http.createServer();
  options.countTraffic?.(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const location: AppsLocation = { mode: config.mode, domain: (config.appsDomain ?? `apps.localhost:${port}`).toLowerCase(), scheme: config.appsScheme };
  const service = new GatewayService({
    dataSource: options.dataSource,
    pubSub: options.pubSub,
    logger: options.logger,
    location,
    ticketTtlMs: config.ticketTtlMs,
    recheckIntervalMs: config.recheckIntervalMs,
    clock: options.clock,
  });
  service.start();
  const activity = options.heartbeat ? new GatewayActivity(options.heartbeat, config.activityIntervalMs) : null;
  const handlers = createGatewayHandlers({
    service,
    upstreamFor,
    activity: activity ? (g) => activity.touch(g) : undefined,
    cookieSecure: secureContext(location),
    allowedOrigins: options.platformOrigins,
    portalSessionUrl: options.portalUrl ? (id) => `${options.portalUrl!.replace(/\/+$/, '')}/sessions/${encodeURIComponent(id)}` : undefined,
    logger: options.logger,
  });
  server.on('request', handlers.handleRequest);
  server.on('upgrade', handlers.handleUpgrade);
  if (!secureContext(location)) {
    options.logger.warn({ appsDomain: location.domain }, 'gateway: the apps domain is served over plain http: browsers refuse the cookie inside the portal\'s frame (web apps then open only in their own tab); serve it over https');
  }
  options.logger.info({ port, mode: location.mode, appsDomain: location.domain }, `session gateway listening on ${port} for ${location.scheme}://${location.mode === 'host' ? '*.' : ''}${location.domain}`);
  return {
    service,
    handlers,
    server,
    location,
    async issueTicket(input) {
      return (await service.issueTicket(input)).url;
    },
    prepareTicket: (sessionId, appPath) => service.prepareTicket(sessionId, appPath),
    endAccess: (scope) => service.endAccess(scope),
    async stop() {
      await service.stop();
      handlers.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
