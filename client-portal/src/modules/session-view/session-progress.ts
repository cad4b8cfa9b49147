import type { SessionDetailFragment, StartupPhase } from '../../generated/graphql'

export interface ProgressStep {
  label: string
  state: 'done' | 'active' | 'waiting' | 'failed'
}

/** The start-up steps in the order the server reports them (sessionProgress). */
const STEPS: { phase: StartupPhase; label: string }[] = [
  { phase: 'WAITING', label: 'Waiting for a place to run' },
  { phase: 'SCHEDULED', label: 'Scheduled on a node' },
  { phase: 'PULLING_IMAGE', label: 'Downloading the app' },
  { phase: 'STARTING', label: 'Starting the app' },
  { phase: 'READY', label: 'Ready' },
]

/**
 * Steps for the progress card: from the latest sessionProgress event when there is one, else estimated
 * from the session (phase and pod name) until the first event arrives.
 */
export function startupSteps(session: Pick<SessionDetailFragment, 'phase' | 'podName'>, latest: StartupPhase | null): ProgressStep[] {
  const failed = latest === 'FAILED' || session.phase === 'Failed'
  let reached = latest && latest !== 'FAILED' ? STEPS.findIndex((s) => s.phase === latest) : -1
  if (reached < 0) reached = session.phase === 'Running' ? STEPS.length - 1 : session.podName ? 1 : 0
  return STEPS.map((step, i) => ({
    label: step.label,
    state: i < reached ? 'done' : i === reached ? (failed ? 'failed' : step.phase === 'READY' ? 'done' : 'active') : 'waiting',
  }))
}

/** The gateway's path (on the session's origin) where connectSession's single-use ticket is traded. */
const REDEEM_PATH = '/.streamspace/redeem'
/** The gateway's path to a hybrid session's VNC desktop (the web app has the rest of the origin). */
const HYBRID_VNC_PATH = '/.streamspace/vnc/'

/** Whether a session URL is a gateway ticket URL (a hybrid session's desktop is reachable only through the gateway). */
export function isGatewayUrl(httpUrl: string): boolean {
  return new URL(httpUrl, window.location.href).pathname.endsWith(REDEEM_PATH)
}

/**
 * The socket URL of a desktop's VNC websocket, next to the session's HTTP URL. For a gateway ticket URL
 * (<session origin>/.streamspace/redeem?ticket=…&next=<app path>) the socket carries the ticket itself:
 * <session origin><app path>websockify?ticket=… (a cookie of the session's origin may not reach a socket
 * opened by the portal's page).
 */
export function vncSocketUrl(httpUrl: string, options: { hybrid?: boolean } = {}): string {
  const url = new URL(httpUrl, window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  if (url.pathname.endsWith(REDEEM_PATH)) {
    const ticket = url.searchParams.get('ticket') ?? ''
    const next = url.searchParams.get('next') ?? '/'
    // A hybrid session's desktop is under the gateway's VNC path (its Service's vnc port), not the web app's.
    const appPath = options.hybrid ? HYBRID_VNC_PATH : next.startsWith('/') && !next.startsWith('//') ? next : '/'
    url.pathname = url.pathname.slice(0, -REDEEM_PATH.length) + appPath
    url.search = ''
    url.searchParams.set('ticket', ticket)
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  url.pathname += 'websockify'
  return url.href
}
