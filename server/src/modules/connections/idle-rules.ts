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

function latest(...dates: (Date | null | undefined)[]): Date | null {
  let best: Date | null = null;
  for (const d of dates) if (d && !Number.isNaN(d.getTime()) && (!best || d > best)) best = d;
  return best;
}

/**
 * The idle clock. A session counts as idle while it has fewer than minConnections connections (default 1;
 * 0: never idle). It has been idle since the latest of: becoming Running, the last connect
 * and the last disconnect. All of these are database timestamps, so a restarted server (or a new leader)
 * computes the same deadline: nothing is forgotten and no clock restarts. With minConnections above 1 the
 * latest count change is a lower bound of when the count fell below it, so the session hibernates late,
 * never early.
 */
export function decideIdle(i: IdleInput): IdleDecision {
  const [idleTimeoutMs, idleTimeoutSource] = i.sessionIdleTimeout
    ? [parseDurationMs(i.sessionIdleTimeout), 'session' as const]
    : i.templateIdleTimeout
      ? [parseDurationMs(i.templateIdleTimeout), 'template' as const]
      : [i.defaultIdleTimeoutMs, 'server' as const];
  const base = {
    activeConnections: i.activeConnections,
    lastActivity: latest(i.lastActivity, i.lastConnection, i.lastDisconnect),
    idleTimeoutMs,
    idleTimeout: formatDuration(idleTimeoutMs),
    idleTimeoutSource,
  };
  const none = (reason: string): IdleDecision => ({ ...base, hibernatesAt: null, idleSince: null, reason });
  if (i.state !== 'running') return none(`The session is ${i.state}; it does not run, so it cannot idle`);
  if (i.phase !== 'Running') return none(`The session is ${i.phase}; the idle clock starts once it is Running`);
  const threshold = i.minConnections ?? 1;
  if (threshold === 0) return none('minConnections is 0: the session stays running even without connections');
  if (i.activeConnections >= threshold) {
    const n = i.activeConnections;
    return none(
      `${n} active connection${n === 1 ? '' : 's'} keep${n === 1 ? 's' : ''} the session running` +
        (threshold > 1 ? ` (it counts as idle below minConnections ${threshold})` : '') +
        '; it hibernates once they end',
    );
  }
  const idleSince = latest(i.runningSince, i.lastConnection, i.lastDisconnect) ?? i.now;
  const hibernatesAt = new Date(idleSince.getTime() + idleTimeoutMs);
  const who = i.activeConnections === 0 ? 'No active connections' : `Only ${i.activeConnections} of the ${threshold} connections (minConnections)`;
  return {
    ...base,
    idleSince,
    hibernatesAt,
    reason: `${who} since ${idleSince.toISOString()}; hibernates after the idle timeout of ${formatDuration(idleTimeoutMs)} (from the ${idleTimeoutSource === 'server' ? 'server default' : idleTimeoutSource})`,
  };
}

/** When the session last became Running (its Ready=True condition's transition), from its table row. */
export function runningSince(row: Pick<SessionEntity, 'status' | 'phase'>): Date | null {
  if (row.phase !== 'Running') return null;
  const conditions = (row.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] }).conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready' && c.status === 'True');
  return ready?.lastTransitionTime ? new Date(ready.lastTransitionTime) : null;
}

/** decideIdle for a session's table row, with its template's idle timeout and the server's default. */
export function decideIdleFor(row: SessionEntity, templateIdleTimeout: string | null, defaultIdleTimeoutMs: number, now: Date): IdleDecision {
  const spec = row.spec as Partial<SessionSpec>;
  return decideIdle({
    state: row.state,
    phase: row.phase,
    activeConnections: row.activeConnections,
    minConnections: spec.minConnections,
    sessionIdleTimeout: spec.idleTimeout,
    templateIdleTimeout,
    defaultIdleTimeoutMs,
    runningSince: runningSince(row),
    lastConnection: row.lastConnectionAt,
    lastDisconnect: row.lastDisconnectAt,
    lastActivity: row.lastActivityAt,
    now,
  });
}
