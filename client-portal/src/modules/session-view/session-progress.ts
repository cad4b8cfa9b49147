import type { SessionDetailFragment } from '../../generated/graphql'

export interface ProgressStep {
  label: string
  state: 'done' | 'active' | 'waiting' | 'failed'
}

/** Start-up steps derived from the session's phase, pod and Ready condition. */
export function startupSteps(session: Pick<SessionDetailFragment, 'phase' | 'podName' | 'conditions' | 'state'>): ProgressStep[] {
  const ready = session.conditions.find((c) => c.type === 'Ready')
  const failed = session.phase === 'Failed'
  const running = session.phase === 'Running'
  const hasPod = Boolean(session.podName) || running
  const waking = session.state === 'running' && session.phase === 'Hibernated'
  return [
    { label: 'Session requested', state: 'done' },
    { label: waking ? 'Waking up' : 'Creating the app container', state: hasPod ? 'done' : failed ? 'failed' : 'active' },
    {
      label: 'Starting the app',
      state: running ? 'done' : failed ? (hasPod ? 'failed' : 'waiting') : hasPod ? 'active' : 'waiting',
    },
    { label: ready?.status === 'True' ? 'Ready' : 'Connecting', state: running ? 'active' : 'waiting' },
  ]
}

/** The socket URL of a desktop's VNC websocket, next to the session's HTTP URL. */
export function vncSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl, window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  url.pathname += 'websockify'
  return url.href
}
