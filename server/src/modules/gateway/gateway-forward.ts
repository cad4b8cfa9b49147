import http from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

/**
 * The gateway's forwarding core: node:http serves the client, undici's keep-alive pools reach the session pods
 * (decision 0027), bodies are streamed both ways (never buffered), and after a WebSocket upgrade the two TCP sockets
 * are piped to each other with no work per chunk. The header rules are pure functions (gateway-forward.test.ts);
 * decision record docs/decisions/0012-gateway-node-http-core.md says why this replaced http-proxy-3.
 */

export interface UpstreamAddress {
  host: string;
  port: number;
}

/** What the app is told about the original request (all set afresh: the client's own values are dropped). */
export interface ForwardedInfo {
  /** The client's address as the gateway saw it. */
  for: string;
  /** The Host the client asked for (the session's address on the apps domain). */
  host: string;
  /** The apps domain's scheme (the gateway may sit behind a TLS-terminating ingress). */
  proto: 'http' | 'https';
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1; Keep-Alive, Proxy-Connection and Proxy-Authenticate of older practice too):
 * they describe one connection and are never forwarded. Transfer-Encoding is framing: node decodes the body it
 * reads, and undici frames again what it sends (a body of unknown length goes chunked).
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];

/**
 * Never sent to a session's app: hop-by-hop headers, the platform's credentials (Authorization: a user's API token
 * would reach the app), forwarding headers a client could forge (set again by the gateway), Cookie (sent again
 * without the platform's and the gateway's cookies) and Expect (node's server has answered 100-continue already).
 */
const DROPPED_REQUEST_HEADERS = new Set([
  ...HOP_BY_HOP,
  'authorization',
  'cookie',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-forwarded-prefix',
  'x-real-ip',
]);

const DROPPED_RESPONSE_HEADERS = new Set(HOP_BY_HOP);

/** The header names a Connection header lists (they are hop-by-hop too); null when it lists nothing unusual. */
function connectionOptions(value: string | undefined): Set<string> | null {
  if (!value) return null;
  let names: Set<string> | null = null;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (!name || name === 'keep-alive' || name === 'close' || name === 'upgrade') continue;
    (names ??= new Set()).add(name);
  }
  return names;
}

function rawValue(raw: string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === lowerName.length && raw[i].toLowerCase() === lowerName) return raw[i + 1];
  return undefined;
}

/**
 * The request headers for the session's app, as a flat [name, value, ...] list in the client's order and case:
 * without hop-by-hop headers (and those the client's Connection names), the platform's credentials and forgeable
 * forwarding headers; with `cookie` (already filtered by the caller, undefined for none), `X-Forwarded-*` from
 * `forwarded` and, for an upgrade, `Connection: Upgrade` and the client's `Upgrade`.
 */
export function upstreamRequestHeaders(raw: string[], cookie: string | undefined, forwarded: ForwardedInfo, upgrade: boolean): string[] {
  const named = connectionOptions(rawValue(raw, 'connection'));
  const out: string[] = [];
  let upgradeTo: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (DROPPED_REQUEST_HEADERS.has(lower) || named?.has(lower)) {
      if (lower === 'upgrade') upgradeTo = raw[i + 1];
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  if (cookie) out.push('cookie', cookie);
  if (upgrade) out.push('connection', 'Upgrade', 'upgrade', upgradeTo ?? 'websocket');
  const colon = forwarded.host.lastIndexOf(':');
  const port = colon > 0 && !forwarded.host.endsWith(']') ? forwarded.host.slice(colon + 1) : forwarded.proto === 'https' ? '443' : '80';
  out.push('x-forwarded-for', forwarded.for, 'x-forwarded-host', forwarded.host, 'x-forwarded-port', port, 'x-forwarded-proto', forwarded.proto);
  return out;
}

/** A Set-Cookie value without its Domain attribute: a session's app cannot set cookies for sibling sessions. */
export function hostOnlyCookie(value: string): string {
  return value.includes('=') && /;\s*domain\s*=/i.test(value) ? value.replace(/;\s*domain\s*=[^;]*/gi, '') : value;
}

/**
 * The response headers for the client, flat [name, value, ...]: without hop-by-hop headers (and those the app's
 * Connection names; `keepUpgrade` keeps Connection and Upgrade for a 101), every Set-Cookie host-only.
 */
export function clientResponseHeaders(raw: string[], keepUpgrade = false): string[] {
  const named = connectionOptions(rawValue(raw, 'connection'));
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) out.push(raw[i], raw[i + 1]);
    else if (DROPPED_RESPONSE_HEADERS.has(lower) || named?.has(lower)) continue;
    else if (lower === 'set-cookie') out.push(raw[i], hostOnlyCookie(raw[i + 1]));
    else out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Does the request carry a body to stream (a length above zero, or chunked)? */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export interface ForwardHooks {
  /** The app could not be reached (or failed before answering): the caller answers 502 when nothing was sent yet. */
  failed(err: Error, headersSent: boolean): void;
}

/**
 * The keep-alive pools to the session pods (undici: one pool per pod address, up to 256 connections each). No
 * timeouts of its own: a long poll or a quiet stream lasts as long as the app and the client keep it, and access
 * ending closes it (the caller registers the response).
 */
export function createUpstreamPool(): Dispatcher {
  return new Agent({ connections: 256, keepAliveTimeout: 4000, headersTimeout: 0, bodyTimeout: 0 });
}

function origin(target: UpstreamAddress): string {
  return `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

/**
 * Streams one HTTP request to the app and its answer back, on undici's client (its parser and pools cost about
 * two thirds of node:http's client per request). The answer is written as it arrives, reading paused while the
 * client cannot take more. A client that goes away cancels the upstream request; an app that breaks off its
 * answer breaks off the client's.
 */
export function forwardHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: UpstreamAddress,
  path: string,
  headers: string[],
  pool: Dispatcher,
  hooks: ForwardHooks,
): void {
  let controller: Dispatcher.DispatchController | undefined;
  let settled = false;
  let clientGone = false;
  res.once('close', () => {
    if (res.writableFinished || settled) return;
    clientGone = true;
    controller?.abort(new Error('gateway: the client went away'));
  });
  res.on('drain', () => controller?.resume());
  pool.dispatch(
    { origin: origin(target), path, method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers, body: hasBody(req) ? req : null },
    {
      onRequestStart(c) {
        controller = c;
        if (clientGone) c.abort(new Error('gateway: the client went away'));
      },
      onResponseStart(c, status, _parsed, message) {
        if (status < 200) return; // an informational answer (103): the final one follows
        if (res.destroyed) return c.abort(new Error('gateway: the client went away'));
        const raw = (c.rawHeaders ?? []) as (Buffer | string)[];
        const flat = raw.map((v) => (typeof v === 'string' ? v : v.toString('latin1')));
        res.writeHead(status, message, clientResponseHeaders(flat));
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) c.pause();
      },
      onResponseEnd() {
        settled = true;
        res.end();
      },
      onResponseError(_c, err) {
        if (settled) return;
        settled = true;
        if (clientGone) return;
        hooks.failed(err, res.headersSent);
      },
    },
  );
}

function tuneSocket(socket: Duplex) {
  const s = socket as Partial<Socket>;
  s.setNoDelay?.(true);
  s.setTimeout?.(0);
  s.setKeepAlive?.(true, 30_000);
}

function statusHead(code: number, message: string | undefined, headers: string[]): string {
  let head = `HTTP/1.1 ${code} ${message || http.STATUS_CODES[code] || ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** The upgrade request to the app, serialised (names and values checked as node's own client would). */
export function upgradeRequestHead(path: string, headers: string[]): string {
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw new Error('gateway: invalid upstream path');
  let head = `GET ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    http.validateHeaderName(headers[i]);
    http.validateHeaderValue(headers[i], headers[i + 1]);
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}

export interface ResponseHead {
  status: number;
  message: string;
  /** Flat [name, value, ...] as received. */
  rawHeaders: string[];
  /** Bytes of the head, CRLFCRLF included. */
  length: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** The app's response head at the start of buf; null while incomplete; throws on a malformed or oversized head. */
export function parseResponseHead(buf: Buffer): ResponseHead | null {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw new Error('gateway: the app sent an oversized response head');
    return null;
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error('gateway: the app sent no HTTP response');
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) throw new Error('gateway: the app sent a malformed header line');
    rawHeaders.push(lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim());
  }
  return { status: Number(m[1]), message: m[2] ?? '', rawHeaders, length: end + 4 };
}

/**
 * Read buffers of the app's side of a relayed socket: the kernel fills one buffer per socket and the gateway writes
 * from it, no allocation and no copy per chunk (node's default allocates a fresh 64 KB buffer for every read). It
 * starts small (an idle socket holds little) and grows while reads fill it (a framebuffer stream: fewer, larger
 * reads), back to small after a short read.
 */
const READ_MIN = 16 * 1024;
const READ_MAX = 1024 * 1024;
/** Reads of the app's bytes on their way to the client at once, each in a buffer of its own. */
const RELAY_IN_FLIGHT = 8;

export interface UpgradeHooks extends ForwardHooks {
  /** Both sides are piped; `close()` destroys both (access ended). */
  opened(upstream: Socket, close: () => void): void;
}

/**
 * Forwards a WebSocket (or any) upgrade on a connection of its own to the app: the app's 101 goes back to the
 * client and from then on bytes are relayed both ways with nothing else per chunk (the app's side read into reused
 * buffers, several on their way to the client at once, reading paused while the client has not taken them; the
 * client's side piped). An app that refuses the
 * upgrade has its answer relayed, then the client's socket is closed.
 */
export function forwardUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: UpstreamAddress, path: string, headers: string[], hooks: UpgradeHooks): void {
  let request: string;
  try {
    request = upgradeRequestHead(path, headers);
  } catch (err) {
    return hooks.failed(err as Error, false);
  }
  let state: 'head' | 'open' | 'refused' | 'done' = 'head';
  let pending: Buffer | null = null;
  // Reads land in buffers of the same size, reused once the client has taken what they held; up to
  // RELAY_IN_FLIGHT of them are on their way to the client at once (a slow client pauses the app's side).
  let size = READ_MIN;
  const free: Buffer[] = [];
  let reading: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  let paused = false;
  let lastRead = 0;
  const take = (): Buffer => {
    // Grow while reads fill the buffer, shrink after a short one (an idle stream keeps one small buffer).
    if (lastRead === size && size < READ_MAX) size = Math.min(READ_MAX, size * 4);
    else if (lastRead < READ_MIN / 2 && size > READ_MIN && inFlight === 0) size = READ_MIN;
    let b = free.pop();
    while (b && b.length !== size) b = free.pop();
    return (reading = b ?? Buffer.allocUnsafe(size));
  };
  /** Sends bytes of the app's to the client; false: enough is on its way already (reading pauses until some is taken). */
  const relay = (bytes: Buffer): boolean => {
    const held = reading;
    inFlight++;
    socket.write(bytes, () => {
      inFlight--;
      if (held.length === size && free.length < RELAY_IN_FLIGHT) free.push(held);
      if (paused) {
        paused = false;
        up.resume();
      }
    });
    if (inFlight < RELAY_IN_FLIGHT) return true;
    paused = true;
    return false;
  };
  const fail = (err: Error) => {
    if (state === 'done') return;
    const before = state;
    state = 'done';
    up.destroy();
    if (before === 'head') hooks.failed(err, false);
    else socket.destroy();
  };
  const onHead = (bytes: Buffer): boolean => {
    pending = pending ? Buffer.concat([pending, bytes]) : Buffer.from(bytes);
    const answer = parseResponseHead(pending);
    if (!answer) return true;
    const rest = pending.subarray(answer.length);
    pending = null;
    up.setTimeout(0);
    if (socket.destroyed || !socket.writable) {
      state = 'done';
      up.destroy();
      return false;
    }
    if (answer.status === 101) {
      state = 'open';
      tuneSocket(socket);
      tuneSocket(up);
      socket.on('error', () => up.destroy());
      // The client is gone: what it sent last (a close frame) still reaches the app, then the app's side closes.
      socket.once('close', () => {
        up.end();
        setTimeout(() => up.destroy(), 2000).unref();
      });
      socket.write(statusHead(101, answer.message, clientResponseHeaders(answer.rawHeaders, true)));
      if (head.length) up.write(head);
      socket.pipe(up);
      hooks.opened(up, () => {
        up.destroy();
        socket.destroy();
      });
      return rest.length ? relay(rest) : true;
    }
    // The app did not switch protocols (a 404, a 401 of its own): its answer as it came, then close.
    state = 'refused';
    // The body goes on as the app framed it: its Transfer-Encoding stays (Content-Length is kept anyway).
    const headers = clientResponseHeaders(answer.rawHeaders);
    const te = rawValue(answer.rawHeaders, 'transfer-encoding');
    if (te) headers.push('transfer-encoding', te);
    headers.push('connection', 'close');
    socket.write(statusHead(answer.status, answer.message, headers));
    return rest.length ? relay(rest) : true;
  };
  const up = net.connect({
    host: target.host,
    port: target.port,
    onread: {
      buffer: take,
      callback: (n, buf) => {
        lastRead = n;
        const bytes = Buffer.from(buf.buffer, buf.byteOffset, n);
        if (state === 'head') {
          try {
            return onHead(bytes);
          } catch (err) {
            fail(err as Error);
            return false;
          }
        }
        if (state === 'done' || socket.destroyed) return false;
        return relay(bytes);
      },
    },
  });
  // A session that never answers the handshake: the client gets 502 instead of waiting for TCP to give up.
  up.setTimeout(10_000, () => fail(new Error('gateway: the app did not answer the upgrade')));
  up.on('error', fail);
  up.on('end', () => {
    if (state === 'head') fail(new Error('gateway: the app closed before answering'));
    else if (state !== 'done') socket.end();
  });
  up.once('close', () => {
    if (state === 'open' || state === 'refused') socket.end();
  });
  socket.once('close', () => {
    if (state === 'head') {
      state = 'done';
      up.destroy();
    }
  });
  up.write(request);
}
