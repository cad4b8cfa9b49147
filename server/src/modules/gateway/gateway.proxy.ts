import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../platform/logging/logger';
import { COOKIE_NAME, gatewayCookie, REDEEM_PATH, route, safeNext, sessionBase, upstreamCookies, vncPath, type Routed } from './gateway-address';
import { createUpstreamPool, forwardHttp, forwardUpgrade, upstreamRequestHeaders } from './gateway-forward';
import { REFUSAL_TEXT, refusalPage, type GatewayRefusal } from './gateway.errors';
import type { GatewayService, Grant } from './gateway.service';
import { createViewerRelay, VIEWER_METHODS } from './gateway-viewer';

/** Which port of a session: its app's (the primary port), or a hybrid session's VNC desktop (the Service's `vnc` port). */
export type UpstreamPort = 'app' | 'vnc';

/** Where a session's traffic goes: computed from the Session the grant names, never from the request. */
export type UpstreamResolver = ((grant: Grant, port?: UpstreamPort) => Promise<{ host: string; port: number }>) & {
  /** Drops what is cached for the grant's session (its pod went away). */
  forget?: (grant: Grant) => void;
};

export interface GatewayHandlerDeps {
  service: GatewayService;
  upstreamFor: UpstreamResolver;
  /** Called for traffic of a grant (throttled by the caller's tracker); counts as the connection's activity. */
  activity?: (grant: Grant) => void;
  /**
   * The apps domain is a secure context (https, or http on localhost): the cookie is then
   * `SameSite=None; Secure; Partitioned`, so it works inside the portal's frame on any site and only there.
   */
  cookieSecure: boolean;
  /** Origins besides the session's own allowed to open its WebSockets (the portal's). */
  allowedOrigins?: string[];
  /** The portal's address of a session (a refused page links there to sign in and wake it). */
  portalSessionUrl?: (sessionId: string) => string;
  logger: Logger;
}

export interface GatewayHandlers {
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): void;
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the idle keep-alive connections to upstreams. */
  close(): void;
}

function refuse(res: http.ServerResponse, refusal: GatewayRefusal, page?: string) {
  if (res.headersSent) return void res.destroy();
  if (page) {
    res.writeHead(refusal.status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    });
    return void res.end(page);
  }
  res.writeHead(refusal.status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(REFUSAL_TEXT[refusal.status]);
}

function refuseUpgradeWith(socket: Duplex, status: number, text: string) {
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

function refuseUpgrade(socket: Duplex, refusal: GatewayRefusal) {
  refuseUpgradeWith(socket, refusal.status, REFUSAL_TEXT[refusal.status]);
}

/**
 * The gateway cookie. In a secure context it is partitioned (CHIPS): sent inside frames under the top-level site
 * that redeemed it (the portal), or top-level on the session's own origin when opened in a tab, never elsewhere.
 * Without TLS (only for http on a real domain) browsers refuse SameSite=None, so Lax: the app then works when
 * opened top-level or from a same-site portal only.
 */
export function cookieFor(value: string, path: string, secureContext: boolean): string {
  const attributes = secureContext ? ['SameSite=None', 'Secure', 'Partitioned'] : ['SameSite=Lax'];
  return [`${COOKIE_NAME}=${value}`, `Path=${path}`, 'HttpOnly', ...attributes].join('; ');
}

/** The `ticket` query parameter of an upgrade's path, and the path without it (the app never sees tickets). */
export function ticketParam(path: string): { value: string; rest: string } | null {
  const q = path.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(path.slice(q + 1));
  const value = params.get('ticket');
  if (value === null) return null;
  params.delete('ticket');
  const query = params.toString();
  return { value, rest: path.slice(0, q) + (query ? `?${query}` : '') };
}

const BAD_GATEWAY = 'Bad gateway: the session does not answer.';

function badGateway(res: http.ServerResponse) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(BAD_GATEWAY);
}

/**
 * The gateway's HTTP and upgrade handlers: a request is routed by Host (and path in path mode) to a session
 * label, checked (cookie -> live connection -> caller allowed -> session running), stripped of the platform's
 * credentials and streamed to the session's own Service (gateway-forward.ts: bodies are piped, never buffered).
 */
export function createGatewayHandlers(deps: GatewayHandlerDeps): GatewayHandlers {
  const { service } = deps;
  const log = deps.logger.child({ component: 'gateway' });
  // Keep-alive to the session pods: a request reuses an idle connection instead of a TCP handshake of its own.
  const agent = createUpstreamPool();
  const proto = service.location.scheme;

  /** What the app gets of the request's headers (gateway-forward.ts has the rules). */
  function headersFor(req: http.IncomingMessage, upgrade: boolean): string[] {
    return upstreamRequestHeaders(req.rawHeaders, upstreamCookies(req.headers.cookie), { for: req.socket.remoteAddress ?? '', host: req.headers.host ?? '', proto }, upgrade);
  }

  function upstreamFailed(grant: Grant, err: Error) {
    log.warn({ err: err.message, session: grant.sessionName }, 'gateway: upstream failed');
    deps.upstreamFor.forget?.(grant);
  }

  const relayViewer = createViewerRelay({
    logger: deps.logger,
    activity: deps.activity,
    forget: (grant) => deps.upstreamFor.forget?.(grant),
    register: (grant, close) => service.register({ grant, close }),
  });

  async function redeem(req: http.IncomingMessage, res: http.ServerResponse, routed: Routed) {
    if (req.method !== 'GET') return refuse(res, { status: 404, reason: 'redeem needs GET' });
    const query = new URL(routed.upstreamPath, 'http://x').searchParams;
    const result = await service.redeem(routed.label, query.get('ticket') ?? '');
    if (!result.ok) {
      log.info({ label: routed.label, status: result.refusal.status, reason: result.refusal.reason }, 'gateway: ticket refused');
      return refuse(res, result.refusal, refusalPageFor(req, await service.sessionOfLabel(routed.label), result.refusal.status));
    }
    const base = new URL(sessionBase(service.location, routed.label)).pathname.replace(/\/$/, '');
    const cookie = cookieFor(result.cookie, routed.cookiePath, deps.cookieSecure);
    res.writeHead(303, {
      location: `${base}${safeNext(query.get('next'))}`,
      'set-cookie': cookie,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
    log.info({ session: result.grant.sessionName, connection: result.grant.connectionId, user: result.grant.userId }, 'gateway: ticket redeemed');
  }

  /**
   * The access check; a 401 for a label that is no session becomes 404 (a guessed name learns nothing). A refusal
   * of a known session's address carries the session's id (for the page linking to it in the portal).
   */
  async function checked(routed: Routed, cookieHeader: string | undefined, fresh: boolean) {
    const decision = await service.check(routed.label, gatewayCookie(cookieHeader), { fresh });
    if (decision.ok) return decision;
    const sessionId = await service.sessionOfLabel(routed.label);
    if (!sessionId && decision.refusal.status === 401) {
      return { ok: false as const, refusal: { status: 404 as const, reason: 'unknown session address' }, sessionId: null };
    }
    return { ...decision, sessionId };
  }

  /** A browser's navigation (GET for HTML) to a known session gets the page linking to the portal. */
  function refusalPageFor(req: http.IncomingMessage, sessionId: string | null, status: GatewayRefusal['status']): string | undefined {
    if (!sessionId || !deps.portalSessionUrl || req.method !== 'GET' || !(req.headers.accept ?? '').includes('text/html')) return undefined;
    return refusalPage(status, deps.portalSessionUrl(sessionId));
  }

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse) {
    const routed = route(service.location, req.headers.host, req.url);
    if (!routed) return refuse(res, { status: 404, reason: 'not a session address' });
    if (routed.upstreamPath === REDEEM_PATH || routed.upstreamPath.startsWith(`${REDEEM_PATH}?`)) return redeem(req, res, routed);
    const decision = await checked(routed, req.headers.cookie, false);
    if (!decision.ok) return refuse(res, decision.refusal, refusalPageFor(req, decision.sessionId, decision.refusal.status));
    const { grant } = decision;
    // A viewer reads: anything that could change the app (POST, PUT, DELETE, ...) is refused.
    if (grant.viewOnly && !VIEWER_METHODS.has(req.method ?? '')) return refuse(res, { status: 403, reason: `view-only: ${req.method}` });
    const vnc = vncPath(routed.upstreamPath);
    if (vnc !== null && grant.appType !== 'hybrid') return refuse(res, { status: 404, reason: 'no VNC desktop beside this app' });
    if (vnc !== null) routed.upstreamPath = vnc;
    const target = await deps.upstreamFor(grant, vnc !== null ? 'vnc' : 'app');
    deps.activity?.(grant);
    // A long response (a stream, a long poll) is an open socket too: it is cut when access ends.
    const unregister = service.register({ grant, close: () => res.destroy() });
    res.once('close', unregister);
    forwardHttp(req, res, target, routed.upstreamPath, headersFor(req, false), agent, {
      failed(err) {
        upstreamFailed(grant, err);
        badGateway(res);
      },
    });
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const routed = route(service.location, req.headers.host, req.url);
    if (!routed) return refuseUpgrade(socket, { status: 404, reason: 'not a session address' });
    // Another site (or another session's app, which is same-site) must not open this session's sockets with
    // the user's cookie: only the session's own origin and the platform's may.
    const origin = req.headers.origin;
    const own = new URL(sessionBase(service.location, routed.label)).origin;
    if (origin && origin !== own && !(deps.allowedOrigins ?? []).includes(origin)) {
      log.info({ label: routed.label, origin }, "gateway: upgrade from a foreign origin refused (the portal's own origin is STREAMSPACE_PUBLIC_URL or one of STREAMSPACE_TRUSTED_ORIGINS)");
      return refuseUpgrade(socket, { status: 403, reason: `foreign origin ${origin}` });
    }
    // A viewer's socket (noVNC in the portal) carries its single-use ticket itself: a page on another site
    // cannot count on the session's cookie in its WebSocket handshake.
    const ticket = ticketParam(routed.upstreamPath);
    const decision = ticket
      ? await service.redeem(routed.label, ticket.value)
      : await checked(routed, req.headers.cookie, true);
    if (ticket) routed.upstreamPath = ticket.rest;
    if (!decision.ok) {
      log.info({ label: routed.label, status: decision.refusal.status, reason: decision.refusal.reason }, 'gateway: upgrade refused');
      return refuseUpgrade(socket, decision.refusal);
    }
    const { grant } = decision;
    // A hybrid session's desktop (the portal's switch from the web view to VNC) is its Service's vnc port.
    const vnc = vncPath(routed.upstreamPath);
    if (vnc !== null && grant.appType !== 'hybrid') return refuseUpgrade(socket, { status: 404, reason: 'no VNC desktop beside this app' });
    if (vnc !== null) routed.upstreamPath = vnc;
    const target = await deps.upstreamFor(grant, vnc !== null ? 'vnc' : 'app');
    deps.activity?.(grant);
    if (grant.viewOnly) {
      // The gateway terminates a viewer's WebSocket itself to drop their input (gateway-viewer.ts); on a desktop's
      // RFB stream (a desktop, or a hybrid's VNC) it keeps what the handshake needs and drops keys and pointer.
      return relayViewer(req, socket, head, target, grant, routed.upstreamPath, headersFor(req, false), { rfb: grant.appType === 'desktop' || vnc !== null });
    }
    let close: () => void = () => void socket.destroy();
    const unregister = service.register({ grant, close: () => close() });
    socket.once('close', unregister);
    forwardUpgrade(req, socket, head, target, routed.upstreamPath, headersFor(req, true), {
      failed(err) {
        upstreamFailed(grant, err);
        refuseUpgradeWith(socket, 502, BAD_GATEWAY);
      },
      opened(_upstream, closeBoth) {
        close = closeBoth;
        // What the user sends (keys, pointer) is activity: at most one heartbeat per interval (GatewayActivity).
        const activity = deps.activity;
        if (activity) socket.on('data', () => activity(grant));
      },
    });
  }

  return {
    close() {
      agent.destroy().catch(() => undefined);
    },
    handleRequest(req, res) {
      handleRequest(req, res).catch((err: Error) => {
        log.error({ err }, 'gateway: request failed');
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end('Bad gateway.');
        } else res.destroy();
      });
    },
    handleUpgrade(req, socket, head) {
      handleUpgrade(req, socket, head).catch((err: Error) => {
        log.error({ err }, 'gateway: upgrade failed');
        socket.destroy();
      });
    },
  };
}
