import type http from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../../platform/logging/logger';
import { RfbViewOnlyFilter } from './rfb-view-only';
import type { Grant } from './gateway.service';

/** Request headers that belong to one hop of a WebSocket handshake (the relay makes its own to the upstream). */
const HOP_HEADERS = new Set(['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length', 'transfer-encoding']);

/** HTTP methods a viewer may use: reading only. */
export const VIEWER_METHODS = new Set(['GET', 'HEAD']);

export interface ViewerRelayDeps {
  logger: Logger;
  /** Called for traffic of the grant (counts as activity). */
  activity?: (grant: Grant) => void;
  /** After the session failed to answer: the next upstream lookup starts afresh. */
  forget?: (grant: Grant) => void;
  /** Registers the relay with the gateway (closed when access ends); returns the unregister function. */
  register: (grant: Grant, close: () => void) => () => void;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * A viewer's WebSocket: the gateway ends the client's WebSocket itself and opens its own to the session, so it can
 * read what the viewer sends. A desktop's stream (RFB through websockify) passes the view-only filter (keys,
 * pointer and clipboard dropped; anything unparseable closes both sides); on a web app a viewer's messages are
 * dropped. Everything from the session reaches the viewer unchanged.
 */
export function createViewerRelay(deps: ViewerRelayDeps) {
  const log = deps.logger.child({ component: 'gateway' });
  const chosen = new WeakMap<http.IncomingMessage, string | false>();
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
    // The subprotocol is the one the session chose (noVNC asks for "binary").
    handleProtocols: (_protocols, req) => chosen.get(req) ?? false,
  });

  /** `path` and `upstreamHeaders` (flat name/value list) are what the app may see of the request (gateway-forward.ts). */
  return function relay(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: { host: string; port: number },
    grant: Grant,
    path: string,
    upstreamHeaders: string[],
    options: { rfb?: boolean } = {},
  ): void {
    const protocols = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const headers: Record<string, string> = {};
    for (let i = 0; i < upstreamHeaders.length; i += 2) {
      const name = upstreamHeaders[i].toLowerCase();
      if (!HOP_HEADERS.has(name)) headers[name] = upstreamHeaders[i + 1];
    }
    const upstream = new WebSocket(`ws://${target.host}:${target.port}${path}`, protocols, { headers, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    let client: WebSocket | null = null;
    let unregister: () => void = () => undefined;
    const closeBoth = (code = 1000, reason = '') => {
      unregister();
      if (client && client.readyState === WebSocket.OPEN) client.close(code, reason);
      else client?.terminate();
      if (upstream.readyState === WebSocket.OPEN) upstream.close();
      else upstream.terminate();
      if (!client) socket.destroy();
    };
    unregister = deps.register(grant, () => {
      client?.terminate();
      upstream.terminate();
      socket.destroy();
    });
    socket.once('close', () => {
      if (!client) upstream.terminate();
    });
    upstream.once('error', (err) => {
      log.warn({ err: err.message, session: grant.sessionName }, 'gateway: viewer upstream failed');
      deps.forget?.(grant);
      closeBoth(1011);
    });
    upstream.once('unexpected-response', (_r, res) => {
      log.warn({ status: res.statusCode, session: grant.sessionName }, 'gateway: viewer upstream refused the WebSocket');
      closeBoth(1011);
    });
    upstream.once('open', () => {
      if (socket.destroyed) return void upstream.terminate();
      chosen.set(req, upstream.protocol || false);
      server.handleUpgrade(req, socket, head, (ws) => {
        client = ws;
        const filter = (options.rfb ?? grant.appType === 'desktop') ? new RfbViewOnlyFilter() : null;
        upstream.on('message', (data, isBinary) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
        });
        ws.on('message', (data, isBinary) => {
          deps.activity?.(grant);
          if (!filter) return; // a web app's viewer: nothing they send reaches the app
          if (!isBinary) return closeBoth(1003, 'view-only: binary RFB only');
          const result = filter.push(toBuffer(data));
          if (!result.ok) {
            log.info({ session: grant.sessionName, user: grant.userId, reason: result.reason }, 'gateway: closed a viewer stream the filter cannot parse');
            return closeBoth(1008, 'view-only');
          }
          if (result.forward.length && upstream.readyState === WebSocket.OPEN) upstream.send(result.forward, { binary: true });
        });
        ws.on('close', () => closeBoth());
        ws.on('error', () => closeBoth());
        upstream.on('close', () => closeBoth());
      });
    });
  };
}
