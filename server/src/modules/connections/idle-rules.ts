import { parseDurationMs } from '../../config/config';
import type { SessionSpec } from '../sessions/session.crd';
import type { SessionEntity } from '../sessions/session.entity';

/**
 * When a session hibernates and why (pure, no I/O). The hibernation timer and the API's `Session.idle` share
 * these rules, so what `Session.idle` says is exactly what the timer does.
 */

export interface IdleInput {
  state: string;
  phase: string;
  activeConnections: number;
  /** spec.minConnections (connections below which the session counts as idle); default 1. */
  minConnections?: number | null;
  sessionIdleTimeout?: string | null;
  templateIdleTimeout?: string | null;
  defaultIdleTimeoutMs: number;
  /** When the session last became Running (its Ready condition's transition time). */
  runningSince: Date | null;
  lastConnection: Date | null;
  lastDisconnect: Date | null;
  lastActivity: Date | null;
  now: Date;
}

export interface IdleDecision {
  activeConnections: number;
  lastActivity: Date | null;
  /** When the hibernation timer will hibernate it (null: not scheduled). */
  hibernatesAt: Date | null;
  idleTimeoutMs: number;
  idleTimeout: string;
  idleTimeoutSource: 'session' | 'template' | 'server';
  /** Since when the session counts as idle (null while it does not). */
  idleSince: Date | null;
  reason: string;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

type MaybeDate = Date | null | undefined;

/** The later of two dates, skipping missing and invalid ones. */
function later(best: Date | null, d: MaybeDate): Date | null {
  return d && !Number.isNaN(d.getTime()) && (!best || d.getTime() > best.getTime()) ? d : best;
}

/** The latest valid date of the three (null: none); no array: it runs twice per session of a page. */
function latest(a: MaybeDate, b: MaybeDate, c: MaybeDate): Date | null {
  return later(later(later(null, a), b), c);
}

/** `compute` with its answers kept (at most 1,024, then forgotten at once): for the handful of idle timeouts in use. */
function memoized<K, V>(compute: (key: K) => V): (key: K) => V {
  const values = new Map<K, V>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      value = compute(key);
      if (values.size >= 1024) values.clear();
      values.set(key, value);
    }
    return value;
  };
}

/** Idle timeouts by their text (the server's, the templates', the sessions'), and their texts by length. */
const timeoutMs = memoized(parseDurationMs);
const durationText = memoized(formatDuration);

/**
 * The idle clock. A session counts as idle while it has fewer than minConnections connections (default 1;
 * 0: never idle). It has been idle since the latest of: becoming Running, the last connect
 * and the last disconnect. All of these are database timestamps, so a restarted server (or a new leader)
 * computes the same deadline: nothing is forgotten and no clock restarts. With minConnections above 1 the
 * latest count change is a lower bound of when the count fell below it, so the session hibernates late,
 * never early.
 */
export function decideIdle(i: IdleInput): IdleDecision {
  const idleTimeoutSource = i.sessionIdleTimeout ? 'session' : i.templateIdleTimeout ? 'template' : 'server';
  const idleTimeoutMs = i.sessionIdleTimeout ? timeoutMs(i.sessionIdleTimeout) : i.templateIdleTimeout ? timeoutMs(i.templateIdleTimeout) : i.defaultIdleTimeoutMs;
  const idleTimeout = durationText(idleTimeoutMs);
  // One object per decision and no closures: a page of 100 sessions decides 100 times per request.
  let hibernatesAt: Date | null = null;
  let idleSince: Date | null = null;
  let reason: string;
  const threshold = i.minConnections ?? 1;
  if (i.state !== 'running') reason = `The session is ${i.state}; it does not run, so it cannot idle`;
  else if (i.phase !== 'Running') reason = `The session is ${i.phase}; the idle clock starts once it is Running`;
  else if (threshold === 0) reason = 'minConnections is 0: the session stays running even without connections';
  else if (i.activeConnections >= threshold) {
    const n = i.activeConnections;
    reason =
      `${n} active connection${n === 1 ? '' : 's'} keep${n === 1 ? 's' : ''} the session running` +
      (threshold > 1 ? ` (it counts as idle below minConnections ${threshold})` : '') +
      '; it hibernates once they end';
  } else {
    idleSince = latest(i.runningSince, i.lastConnection, i.lastDisconnect) ?? i.now;
    hibernatesAt = new Date(idleSince.getTime() + idleTimeoutMs);
    const who = i.activeConnections === 0 ? 'No active connections' : `Only ${i.activeConnections} of the ${threshold} connections (minConnections)`;
    reason = `${who} since ${idleSince.toISOString()}; hibernates after the idle timeout of ${idleTimeout} (from the ${idleTimeoutSource === 'server' ? 'server default' : idleTimeoutSource})`;
  }
  return {
    activeConnections: i.activeConnections,
    lastActivity: latest(i.lastActivity, i.lastConnection, i.lastDisconnect),
    hibernatesAt,
    idleTimeoutMs,
    idleTimeout,
    idleTimeoutSource,
    idleSince,
    reason,
  };
}

/** The Ready=True condition's transition time as the table row holds it, while Running (else undefined). */
function readySince(row: Pick<SessionEntity, 'status' | 'phase'>): string | undefined {
  if (row.phase !== 'Running') return undefined;
  const conditions = (row.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] }).conditions ?? [];
  return conditions.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
}

/** The inputs of decideIdle that a session's table row, its template and the server give (runningSince as text). */
type IdleFacts = Omit<IdleInput, 'runningSince' | 'now'> & { readySince: string | undefined };

function idleFacts(row: SessionEntity, templateIdleTimeout: string | null, defaultIdleTimeoutMs: number): IdleFacts {
  const spec = row.spec as Partial<SessionSpec>;
  return {
    state: row.state,
    phase: row.phase,
    activeConnections: row.activeConnections,
    minConnections: spec.minConnections,
    sessionIdleTimeout: spec.idleTimeout,
    templateIdleTimeout,
    defaultIdleTimeoutMs,
    readySince: readySince(row),
    lastConnection: row.lastConnectionAt,
    lastDisconnect: row.lastDisconnectAt,
    lastActivity: row.lastActivityAt,
  };
}

function decideFrom(facts: IdleFacts, now: Date): IdleDecision {
  return decideIdle({ ...facts, runningSince: facts.readySince ? new Date(facts.readySince) : null, now });
}

/** decideIdle for a session's table row, with its template's idle timeout and the server's default. */
export function decideIdleFor(row: SessionEntity, templateIdleTimeout: string | null, defaultIdleTimeoutMs: number, now: Date): IdleDecision {
  return decideFrom(idleFacts(row, templateIdleTimeout, defaultIdleTimeoutMs), now);
}

/** Whether two sets of facts are the same, every one of them (dates: the same instant). */
function sameFacts(a: IdleFacts, b: IdleFacts): boolean {
  for (const key in a) {
    const x = a[key as keyof IdleFacts];
    const y = b[key as keyof IdleFacts];
    if (x !== y && !(x instanceof Date && y instanceof Date && x.getTime() === y.getTime())) return false;
  }
  return true;
}

/**
 * decideIdleFor with the decisions kept by session id: a list of sessions (the portal's, the admin's) asks for the
 * same sessions' decisions request after request, and deciding (a duration, dates, the reason's text) was a tenth of
 * a 100-session page's time. A kept decision is answered only when every input it was made from is unchanged (the
 * row's state, phase, counters, timestamps, spec and Ready condition, the template's and the server's timeouts), so
 * the answer is always decideIdleFor's; a decision that fell back on the current time (no timestamp to count from)
 * is never kept. At most `max` sessions are kept, then all are forgotten at once. Decisions are shared: read only.
 */
export class IdleDecisions {
  private readonly byId = new Map<string, { facts: IdleFacts; decision: IdleDecision }>();

  constructor(private readonly max = 10_000) {}

  decide(row: SessionEntity, templateIdleTimeout: string | null, defaultIdleTimeoutMs: number): IdleDecision {
    const facts = idleFacts(row, templateIdleTimeout, defaultIdleTimeoutMs);
    const kept = this.byId.get(row.id);
    if (kept && sameFacts(kept.facts, facts)) return kept.decision;
    const now = new Date();
    const decision = decideFrom(facts, now);
    if (decision.idleSince === now) return decision;
    if (this.byId.size >= this.max) this.byId.clear();
    this.byId.set(row.id, { facts, decision });
    return decision;
  }

  /** Sessions kept now. */
  get size(): number {
    return this.byId.size;
  }
}
