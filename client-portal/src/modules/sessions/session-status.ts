import type { SessionPhase, SessionState, SessionSummaryFragment } from '../../generated/graphql'

/** How a phase looks in lists and chips. */
export const PHASE_LOOK: Record<SessionPhase, { label: string; color: string; icon: string }> = {
  Pending: { label: 'Starting', color: 'info', icon: 'mdi-progress-clock' },
  Running: { label: 'Running', color: 'success', icon: 'mdi-play-circle' },
  Hibernated: { label: 'Hibernated', color: 'secondary', icon: 'mdi-sleep' },
  Failed: { label: 'Failed', color: 'error', icon: 'mdi-alert-circle' },
  Terminated: { label: 'Terminated', color: 'grey', icon: 'mdi-stop-circle' },
}

export const STATE_LABEL: Record<SessionState, string> = {
  running: 'wanted running',
  hibernated: 'wanted hibernated',
  terminated: 'wanted terminated',
}

/** A session the user still has (anything but terminated). */
export function isActive(session: Pick<SessionSummaryFragment, 'state' | 'phase'>): boolean {
  return session.state !== 'terminated' && session.phase !== 'Terminated'
}

/** "30m" -> 1 800 000 ms; null for anything else. */
export function durationMs(value: string | null | undefined): number | null {
  const match = /^(\d+)(s|m|h)$/.exec(value ?? '')
  if (!match) return null
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h']
  return Number(match[1]) * unit
}

/** "in 12 min", "in 2 h 5 min", "in less than a minute". */
export function inWords(ms: number): string {
  if (ms < 60_000) return 'in less than a minute'
  const minutes = Math.round(ms / 60_000)
  if (minutes < 60) return `in ${minutes} min`
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return rest ? `in ${hours} h ${rest} min` : `in ${hours} h`
}

export function connectionsText(count: number): string {
  return count === 1 ? '1 connection' : `${count} connections`
}

/** What the idle culler will do, in words, e.g. "Idle; hibernates in 12 min unless you connect". */
export function idleExplanation(
  session: Pick<SessionSummaryFragment, 'phase' | 'state' | 'activeConnections' | 'idleTimeout' | 'lastActivity' | 'lastDisconnect' | 'createdAt'> & {
    idle?: { activeConnections?: number; hibernatesAt?: string | null; reason?: string | null; idleTimeout?: string | null; idleTimeoutSource?: string | null } | null
  },
  now: number,
): string {
  if (session.phase === 'Hibernated') return 'Hibernated: wake it to continue where you left off.'
  if (session.phase === 'Failed' || session.phase === 'Terminated') return ''
  if (session.phase === 'Pending') return session.state === 'running' ? 'Starting up…' : ''
  const active = session.idle?.activeConnections ?? session.activeConnections
  if (active > 0) return `In use (${connectionsText(active)}); it will not hibernate while connected.`
  const idle = session.idle
  const timeout = durationMs(idle?.idleTimeout ?? session.idleTimeout)
  const hibernatesAt = idle
    ? idle.hibernatesAt
      ? Date.parse(idle.hibernatesAt)
      : null
    : timeout
      ? Date.parse(session.lastActivity ?? session.lastDisconnect ?? session.createdAt) + timeout
      : null
  if (hibernatesAt === null || Number.isNaN(hibernatesAt)) {
    return idle?.reason ? `Idle: ${idle.reason}.` : 'Idle; it keeps running until you hibernate or terminate it.'
  }
  const source = idle?.idleTimeout ? ` (idle timeout ${idle.idleTimeout}${idle.idleTimeoutSource ? `, from the ${idle.idleTimeoutSource === 'server' ? 'server default' : idle.idleTimeoutSource}` : ''})` : ''
  const left = hibernatesAt - now
  return left <= 0 ? `Idle; hibernates any moment now${source}.` : `Idle; hibernates ${inWords(left)} unless you connect${source}.`
}
