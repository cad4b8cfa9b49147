import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AppPubSub, TopicStream } from '../../platform/graphql/pubsub';
import { AppError, ErrorCode } from '../../platform/graphql/errors';
import type { Logger } from '../../platform/logging/logger';
import { CONNECTION_COUNT_CHANGED } from '../connections/connection-counts';
import { SESSION_UPDATED, type SessionChange } from '../sessions/session-table';
import { listRoleSql } from '../sharing/session-access';
import { USER_ACCESS_CHANGED } from '../users/users.service';
import { newLabel, ticketUrl, type AppsLocation } from './gateway-address';
import { refused, type GatewayRefusal } from './gateway.errors';

/** PubSub topic (crosses replicas): access of a connection, a session or a user ended; open sockets are checked again. */
export const GATEWAY_ACCESS_ENDED = 'GATEWAY_ACCESS_ENDED';

export interface AccessScope {
  connectionId?: string;
  sessionId?: string;
  userId?: string;
}

/** What a valid cookie grants: one user's connection to one session. */
export interface Grant {
  grantId: string;
  cookieHash: string;
  label: string;
  sessionId: string;
  sessionName: string;
  namespace: string;
  userId: string;
  connectionId: string;
  /** A VIEWER on the session's access list: the gateway drops their input (RFB input events, unsafe HTTP methods). */
  viewOnly: boolean;
  /** desktop (RFB over websockify) or webapp: how input is recognised for viewers. */
  appType: string;
}

export type AccessDecision = { ok: true; grant: Grant } | { ok: false; refusal: GatewayRefusal };

/** Something the gateway keeps open for a grant (a proxied WebSocket, a streaming response) and can close. */
export interface OpenSocket {
  grant: Grant;
  close(reason: string): void;
}

export interface GatewayServiceDeps {
  dataSource: DataSource;
  pubSub: AppPubSub;
  logger: Logger;
  location: AppsLocation;
  ticketTtlMs: number;
  recheckIntervalMs: number;
  /** The clock for ticket lifetimes (tests pass a fixed one). */
  clock?: () => Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A single-use ticket's URL, and what `gateway_tickets` stores of it (never the ticket itself). */
export interface PreparedTicket {
  url: string;
  ticketHash: string;
  expiresAt: Date;
}

/** Host labels kept in memory at most (then the map starts again). */
const LABEL_CACHE_SIZE = 10_000;

/** HTTP decisions are cached this long at most; any access event clears the cache at once. */
const DECISION_CACHE_MS = 2000;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

interface AccessRow {
  grant_id: string;
  cookie_hash: string;
  label: string;
  session_id: string;
  session_name: string;
  namespace: string;
  user_id: string;
  connection_id: string;
  connection_open: boolean;
  disabled: boolean;
  role: string;
  owner_id: string | null;
  state: string;
  phase: string;
  share_role: string | null;
  app_type: string;
}

/** Every check, in the order of the issue: cookie -> live connection -> caller still allowed -> session running. */
const ACCESS_SQL = `SELECT t.id AS grant_id, t.cookie_hash, h.label, t.session_id, s.name AS session_name, s.namespace,
    t.user_id, t.connection_id, (c.disconnected_at IS NULL) AS connection_open, u.disabled, u.role,
    s.user_id AS owner_id, s.state, s.phase, ${listRoleSql('t.session_id', 't.user_id')} AS share_role, s.app_type
  FROM gateway_tickets t
  JOIN gateway_hosts h ON h.session_id = t.session_id
  JOIN sessions s ON s.id = t.session_id
  JOIN connections c ON c.id = t.connection_id
  JOIN users u ON u.id = t.user_id
  WHERE t.cookie_hash = ANY($1::text[])`;

export function decide(row: AccessRow | undefined, label: string): AccessDecision {
  if (!row || row.label !== label) return { ok: false, refusal: refused(401, 'no valid gateway cookie for this session') };
  if (!row.connection_open) return { ok: false, refusal: refused(401, 'the connection has ended') };
  // The owner, an admin or operator (never an auditor: it reads, it does not watch desktops), or the access list (a user or group entry; the strongest role: VIEWER or COLLABORATOR).
  const full = row.owner_id === row.user_id || row.role === 'admin' || row.role === 'operator';
  if (row.disabled || !(full || row.share_role)) return { ok: false, refusal: refused(403, 'the user may no longer use this session') };
  if (row.state !== 'running' || row.phase !== 'Running') return { ok: false, refusal: refused(404, 'the session is not running') };
  return {
    ok: true,
    grant: {
      grantId: row.grant_id,
      cookieHash: row.cookie_hash,
      label: row.label,
      sessionId: row.session_id,
      sessionName: row.session_name,
      namespace: row.namespace,
      userId: row.user_id,
      connectionId: row.connection_id,
      viewOnly: !full && row.share_role === 'VIEWER',
      appType: row.app_type,
    },
  };
}

/**
 * Gateway access: tickets in, cookies out, and every request checked against the database (HTTP decisions are
 * cached for at most 2 s and dropped at once on any access event). Open proxied sockets are registered here and
 * closed when their access ends: on every replica, driven by events (disconnect and reaping publish
 * CONNECTION_COUNT_CHANGED, role/disable changes USER_ACCESS_CHANGED, hibernate/terminate SESSION_UPDATED from
 * every replica's sessions table writer, endAccess() GATEWAY_ACCESS_ENDED), with a periodic recheck as a safety net
 * for events lost while a replica's LISTEN connection was down.
 */
export class GatewayService {
  clock: () => Date;
  private readonly log: Logger;
  private readonly open = new Set<OpenSocket>();
  private readonly decisions = new Map<string, { at: number; decision: AccessDecision }>();
  /** Host labels of sessions already looked up (see labelFor). */
  private readonly labels = new Map<string, string>();
  private readonly listeners: TopicStream<unknown>[] = [];
  private recheckTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: GatewayServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.log = deps.logger.child({ component: 'gateway' });
  }

  get location(): AppsLocation {
    return this.deps.location;
  }

  /** Listens for access events and starts the periodic recheck. */
  start(): void {
    const on = <T>(topic: string, handle: (event: T) => Promise<unknown> | void) => {
      const it = this.deps.pubSub.subscribeTopic<T>(topic);
      this.listeners.push(it);
      void (async () => {
        for await (const event of it) {
          try {
            await handle(event);
          } catch (err) {
            this.log.warn({ err: (err as Error).message, topic }, 'gateway: access event handling failed');
          }
        }
      })();
    };
    on<SessionChange>(SESSION_UPDATED, ({ type, session }) => {
      this.decisions.clear();
      if (type === 'DELETED' || session.state !== 'running' || session.phase !== 'Running') {
        this.closeWhere((g) => g.sessionId === session.id, `session ${type === 'DELETED' ? 'deleted' : session.state}`);
      }
    });
    on<{ sessionId: string }>(CONNECTION_COUNT_CHANGED, ({ sessionId }) => this.recheck((g) => g.sessionId === sessionId));
    on<{ userId: string }>(USER_ACCESS_CHANGED, ({ userId }) => this.recheck((g) => g.userId === userId));
    on<AccessScope>(GATEWAY_ACCESS_ENDED, (scope) => this.recheck((g) => matches(g, scope)));
    this.recheckTimer = setInterval(() => void this.recheck(() => true).catch((err: Error) => this.log.warn({ err: err.message }, 'gateway: periodic recheck failed')), this.deps.recheckIntervalMs);
    this.recheckTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.recheckTimer);
    for (const it of this.listeners) await it.return();
    this.closeWhere(() => true, 'gateway stopping');
  }

  // ---- tickets ---------------------------------------------------------------------------------

  /**
   * The session's host id, created on first use. When two first connects race, the loser's INSERT waits for the
   * winner and does nothing, but its SELECT still reads the statement's snapshot from before the winner
   * committed and finds no row: the next statement (a new snapshot) sees it.
   */
  async labelFor(sessionId: string): Promise<string> {
    const known = this.labels.get(sessionId);
    if (known) return known;
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows = (await this.deps.dataSource.query(
        `WITH ins AS (INSERT INTO gateway_hosts (session_id, label) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING RETURNING label)
         SELECT label FROM ins UNION ALL SELECT label FROM gateway_hosts WHERE session_id = $1`,
        [sessionId, newLabel()],
      )) as { label: string }[];
      if (rows.length) {
        // A session's label never changes while it exists (its row goes with the session, whose id is not reused).
        if (this.labels.size >= LABEL_CACHE_SIZE) this.labels.clear();
        this.labels.set(sessionId, rows[0].label);
        return rows[0].label;
      }
    }
    throw new Error(`gateway: no host label could be stored for session ${sessionId}`);
  }

  /**
   * A single-use ticket for one open connection of `userId` to `sessionId`, as the URL to open: the session's
   * origin trades it for the cookie. Throws when the connection is not that user's open connection to that session.
   */
  async issueTicket(input: { sessionId: string; userId: string; connectionId: string; appPath?: string }): Promise<{ url: string; expiresAt: Date }> {
    const { sessionId, userId, connectionId } = input;
    if (![sessionId, userId, connectionId].every((v) => UUID.test(v))) throw new Error('gateway: invalid ids for a ticket');
    const prepared = await this.prepareTicket(sessionId, input.appPath);
    // Only for that user's open connection to that session, checked by the insert itself.
    const stored = (await this.deps.dataSource.query(
      `INSERT INTO gateway_tickets (ticket_hash, session_id, user_id, connection_id, expires_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM connections WHERE id = $4 AND session_id = $2 AND user_id = $3 AND disconnected_at IS NULL)
       RETURNING connection_id`,
      [prepared.ticketHash, sessionId, userId, connectionId, prepared.expiresAt],
    )) as unknown[];
    // Typed: the connection can end between connectSession's insert and now (the session hibernated or stopped,
    // the reaper ran), a race the client resolves by connecting again, not a bug.
    if (!stored.length) throw new AppError(ErrorCode.CONFLICT, 'This connection is not open for this user and session (it may have ended meanwhile); connect again', { connectionId });
    return { url: prepared.url, expiresAt: prepared.expiresAt };
  }

  /**
   * A ticket for `sessionId` not stored yet: its URL, and the hash and expiry to store (`gateway_tickets`) with the
   * connection it is for, in the same statement as that connection (connectSession) or by `issueTicket`. Until the
   * row exists the URL opens nothing.
   */
  async prepareTicket(sessionId: string, appPath?: string): Promise<PreparedTicket> {
    if (!UUID.test(sessionId)) throw new Error('gateway: invalid session id for a ticket');
    const label = await this.labelFor(sessionId);
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock().getTime() + this.deps.ticketTtlMs);
    return { url: ticketUrl(this.deps.location, label, ticket, appPath ?? '/'), ticketHash: sha256(ticket), expiresAt };
  }

  /**
   * Trades a ticket (once, before it expires, only at its own session's address) for a cookie value; then the
   * usual access check. The ticket is spent even when that check fails.
   */
  async redeem(label: string, ticket: string): Promise<{ ok: true; cookie: string; grant: Grant } | { ok: false; refusal: GatewayRefusal }> {
    if (!ticket || ticket.length > 200) return { ok: false, refusal: refused(401, 'no ticket') };
    const cookie = randomBytes(32).toString('base64url');
    const cookieHash = sha256(cookie);
    const spent = (await this.deps.dataSource.query(
      `UPDATE gateway_tickets t SET redeemed_at = $3, cookie_hash = $4
       FROM gateway_hosts h
       WHERE t.ticket_hash = $1 AND h.session_id = t.session_id AND h.label = $2
         AND t.redeemed_at IS NULL AND t.expires_at > $3
       RETURNING t.id`,
      [sha256(ticket), label, this.clock(), cookieHash],
    )) as [unknown[], number];
    if (!spent[0]?.length) return { ok: false, refusal: refused(401, 'the ticket is unknown, used, expired or for another session') };
    const decision = await this.check(label, cookie, { fresh: true });
    return decision.ok ? { ok: true, cookie, grant: decision.grant } : decision;
  }

  // ---- access ----------------------------------------------------------------------------------

  /** The access check of one request (fresh: skip the decision cache, as upgrades do). */
  async check(label: string, cookie: string | undefined, options: { fresh?: boolean } = {}): Promise<AccessDecision> {
    if (!cookie || cookie.length > 200) return { ok: false, refusal: refused(401, 'no gateway cookie') };
    // Keyed by the cookie itself (this process's memory only): a cache hit costs no hashing.
    const key = `${label}:${cookie}`;
    const now = Date.now();
    if (!options.fresh) {
      const cached = this.decisions.get(key);
      if (cached && now - cached.at < DECISION_CACHE_MS) return cached.decision;
    }
    const rows = (await this.deps.dataSource.query(ACCESS_SQL, [[sha256(cookie)]])) as AccessRow[];
    const decision = decide(rows[0], label);
    if (this.decisions.size > 10_000) this.decisions.clear();
    this.decisions.set(key, { at: now, decision });
    return decision;
  }

  /** The session a label belongs to, or null (unknown labels answer 404 before any cookie is looked at). */
  async sessionOfLabel(label: string): Promise<string | null> {
    const rows = (await this.deps.dataSource.query('SELECT session_id FROM gateway_hosts WHERE label = $1', [label])) as { session_id: string }[];
    return rows[0]?.session_id ?? null;
  }

  /** Ends gateway access now, on every replica: open sockets in scope are checked again and closed when refused. */
  async endAccess(scope: AccessScope): Promise<void> {
    await this.deps.pubSub.publish(GATEWAY_ACCESS_ENDED as never, scope as never);
  }

  // ---- open sockets ----------------------------------------------------------------------------

  register(socket: OpenSocket): () => void {
    if (this.stopped) {
      socket.close('gateway stopping');
      return () => undefined;
    }
    this.open.add(socket);
    return () => this.open.delete(socket);
  }

  get openSockets(): number {
    return this.open.size;
  }

  private closeWhere(pred: (g: Grant) => boolean, reason: string): number {
    let n = 0;
    for (const s of [...this.open]) {
      if (!pred(s.grant)) continue;
      this.open.delete(s);
      s.close(reason);
      n++;
    }
    if (n) this.log.info({ sockets: n, reason }, 'gateway: closed proxied sockets whose access ended');
    return n;
  }

  /** Checks the grants of open sockets matching `pred` again (one query) and closes the refused ones. */
  async recheck(pred: (g: Grant) => boolean): Promise<number> {
    this.decisions.clear();
    const targets = [...this.open].filter((s) => pred(s.grant));
    if (!targets.length) return 0;
    const hashes = [...new Set(targets.map((s) => s.grant.cookieHash))];
    const rows = (await this.deps.dataSource.query(ACCESS_SQL, [hashes])) as AccessRow[];
    const byHash = new Map(rows.map((r) => [r.cookie_hash, r]));
    const refusedHashes = new Map<string, string>();
    for (const h of hashes) {
      const target = targets.find((t) => t.grant.cookieHash === h)!;
      const d = decide(byHash.get(h), target.grant.label);
      if (!d.ok) refusedHashes.set(h, d.refusal.reason);
      // A role change (collaborator <-> viewer) closes the socket: it was set up for the old role; the client
      // reconnects with a fresh ticket and gets the new one.
      else if (d.grant.viewOnly !== target.grant.viewOnly) refusedHashes.set(h, 'the role on the access list changed');
    }
    let closed = 0;
    for (const [hash, reason] of refusedHashes) closed += this.closeWhere((g) => g.cookieHash === hash, reason);
    return closed;
  }
}

function matches(g: Grant, scope: AccessScope): boolean {
  if (scope.connectionId && g.connectionId !== scope.connectionId) return false;
  if (scope.sessionId && g.sessionId !== scope.sessionId) return false;
  if (scope.userId && g.userId !== scope.userId) return false;
  return true;
}
