/**
 * When the desktop viewer's socket ends without the user asking, the view connects again by itself: a platform
 * upgrade or a rescheduled gateway pod closes every socket it proxied (the other replica takes the new one), and
 * a network blip looks the same. It does not when the end is final: the desktop refused the credentials, the
 * user lost access, or the session is no longer running (the view then shows that state).
 */

/** How the viewer's socket ended: closed (cleanly or not), or refused by the desktop's authentication. */
export type ViewerEnd = { kind: 'closed'; clean: boolean } | { kind: 'refused' }

export type ReconnectPlan = { reconnect: true; delayMs: number } | { reconnect: false; why: 'refused' | 'no-access' | 'not-running' | 'gave-up' }

/** Consecutive automatic attempts (without one that connected) before the view waits for the user's "Reconnect". */
export const MAX_AUTO_RECONNECTS = 8

/** Delay before the n-th consecutive attempt (1-based): 0.5 s, 1 s, 2 s, 4 s, then 8 s. */
export function viewerReconnectDelayMs(attempt: number): number {
  return Math.min(8_000, 500 * 2 ** Math.max(0, attempt - 1))
}

export function viewerReconnectPlan(input: { end: ViewerEnd; phase: string | null | undefined; noAccess: boolean; attempt: number }): ReconnectPlan {
  if (input.end.kind === 'refused') return { reconnect: false, why: 'refused' }
  if (input.noAccess) return { reconnect: false, why: 'no-access' }
  if (input.phase !== 'Running') return { reconnect: false, why: 'not-running' }
  if (input.attempt > MAX_AUTO_RECONNECTS) return { reconnect: false, why: 'gave-up' }
  return { reconnect: true, delayMs: viewerReconnectDelayMs(input.attempt) }
}
