import { randomBytes } from 'node:crypto';

/**
 * Where sessions live on the apps domain, pure functions (unit-tested in gateway-address.test.ts).
 *
 * host mode: https://<label>.<apps domain>/...        (one origin per session: the default)
 * path mode: https://<apps domain>/s/<label>/...      (one origin for all sessions, never the platform's)
 *
 * The label is 128 random bits in lower-case base32 (26 characters): a valid DNS label that says nothing about
 * the user, the template or the session's name.
 */

export type GatewayMode = 'host' | 'path';

export const LABEL_PATTERN = /^[a-z2-7]{26}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The reserved path (on the session's origin) where a ticket is traded for the cookie. */
export const REDEEM_PATH = '/.streamspace/redeem';
/**
 * A hybrid session's VNC desktop beside its web app: requests under this prefix go to the Service's `vnc` port,
 * without the prefix (`/.streamspace/vnc/websockify` reaches the desktop's `/websockify`).
 */
export const VNC_PREFIX = '/.streamspace/vnc';

/** The path for the VNC port when `path` is under VNC_PREFIX (null otherwise). */
export function vncPath(path: string): string | null {
  if (path === VNC_PREFIX) return '/';
  if (path.startsWith(`${VNC_PREFIX}?`)) return `/${path.slice(VNC_PREFIX.length)}`;
  if (path.startsWith(`${VNC_PREFIX}/`)) return path.slice(VNC_PREFIX.length);
  return null;
}
export const COOKIE_NAME = 'streamspace_gateway';

export function newLabel(): string {
  const bytes = randomBytes(17); // 136 bits read, 130 used
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export interface AppsLocation {
  mode: GatewayMode;
  /** host[:port] as browsers reach it, lower case. */
  domain: string;
  scheme: 'http' | 'https';
}

/** A request's target on the apps domain: the session label and the path to send upstream. */
export interface Routed {
  label: string;
  /** Path and query for the upstream (the /s/<label> prefix removed in path mode). */
  upstreamPath: string;
  /** Cookie path: / in host mode, /s/<label>/ in path mode. */
  cookiePath: string;
}

/**
 * Routes by the Host header and path only to a label (never to an address: the upstream comes from the Session
 * the label belongs to). null: not a session address of this gateway.
 */
export function route(loc: AppsLocation, hostHeader: string | undefined, url: string | undefined): Routed | null {
  if (!hostHeader || !url || !url.startsWith('/')) return null;
  const host = hostHeader.toLowerCase();
  if (loc.mode === 'host') {
    const suffix = `.${loc.domain}`;
    if (!host.endsWith(suffix)) return null;
    const label = host.slice(0, -suffix.length);
    if (!LABEL_PATTERN.test(label)) return null;
    return { label, upstreamPath: url, cookiePath: '/' };
  }
  if (host !== loc.domain) return null;
  const q = url.indexOf('?');
  const pathPart = q < 0 ? url : url.slice(0, q);
  const m = /^\/s\/([a-z2-7]{26})(\/.*)?$/.exec(pathPart);
  if (!m) return null;
  return { label: m[1], upstreamPath: (m[2] ?? '/') + (q < 0 ? '' : url.slice(q)), cookiePath: `/s/${m[1]}/` };
}

/** The session's origin plus base path, e.g. https://<label>.apps.example.com or https://apps.example.com/s/<label>. */
export function sessionBase(loc: AppsLocation, label: string): string {
  return loc.mode === 'host' ? `${loc.scheme}://${label}.${loc.domain}` : `${loc.scheme}://${loc.domain}/s/${label}`;
}

/** The URL connectSession hands out: the redeem path with the ticket, then the app's own path. */
export function ticketUrl(loc: AppsLocation, label: string, ticket: string, appPath: string): string {
  const next = safeNext(appPath);
  return `${sessionBase(loc, label)}${REDEEM_PATH}?ticket=${encodeURIComponent(ticket)}&next=${encodeURIComponent(next)}`;
}

/** A redirect target inside the session: a path starting with one slash, else "/" (no open redirect). */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n]/.test(next)) return '/';
  return next;
}

/** Cookie names the platform sets on its own origin; stripped from anything sent upstream as a second line of defence. */
const PLATFORM_COOKIES = /^(streamspace_|connect\.sid$|__Host-streamspace|__Secure-streamspace)/;

/** The Cookie header for the upstream: without the gateway's and the platform's cookies (undefined when none remain). */
export function upstreamCookies(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !PLATFORM_COOKIES.test(p.split('=')[0].trim()));
  return kept.length ? kept.join('; ') : undefined;
}

/** The gateway cookie's value from a Cookie header. */
export function gatewayCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE_NAME) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}
