import { useMutation } from '@vue/apollo-composable'
import { onBeforeUnmount, onMounted, ref } from 'vue'
import type { Ref } from 'vue'
import { ConnectSessionDocument, SessionHeartbeatDocument } from '../../generated/graphql'

export type LinkStatus = 'idle' | 'connecting' | 'connected' | 'disconnected'

interface OpenConnection {
  id: string
  beaconToken: string
}

function codeOf(error: unknown): string | undefined {
  const graphQLErrors = (error as { graphQLErrors?: { extensions?: Record<string, unknown> }[] }).graphQLErrors
  return graphQLErrors?.[0]?.extensions?.['code'] as string | undefined
}

/** Ends a connection without an access token: works while the tab is closing (sendBeacon) and after. */
export function sendDisconnectBeacon(connection: OpenConnection): void {
  const url = `/api/connections/${encodeURIComponent(connection.id)}/disconnect`
  const body = new Blob([connection.beaconToken], { type: 'text/plain' })
  if (!navigator.sendBeacon?.(url, body)) {
    void fetch(url, { method: 'POST', body, keepalive: true }).catch(() => undefined)
  }
}

/** A heartbeat not answered this quickly (the socket is down) counts as a failed one. */
const HEARTBEAT_ANSWER_MS = 10_000

/** Failures worth another try by themselves: the network, a restarting server, an internal error. */
const TRANSIENT_CODES = new Set(['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'])
export function isTransient(error: unknown): boolean {
  const code = codeOf(error)
  return code === undefined || TRANSIENT_CODES.has(code)
}
/** Delay before the n-th automatic retry (1-based): 2 s, 4 s, 8 s, ... at most 30 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))
}

/**
 * One browser connection to a session: connectSession when the view opens the app, a heartbeat at the
 * interval the server asks for (30 s by default), and a beacon disconnect when the tab closes or the view goes away.
 * A heartbeat answered NOT_FOUND (the connection was reaped or the session hibernated) connects again.
 * A connect that fails for a transient reason (network, server restarting) is retried with backoff; one the
 * server refuses (forbidden, limit reached, start-up failed) waits for the user's "Reconnect".
 */
export function useSessionConnection(sessionId: () => string): {
  status: Ref<LinkStatus>
  detail: Ref<string | null>
  url: Ref<string | null>
  connect: () => Promise<void>
  disconnect: () => void
} {
  const connectMutation = useMutation(ConnectSessionDocument)
  const heartbeatMutation = useMutation(SessionHeartbeatDocument)
  const status = ref<LinkStatus>('idle')
  const detail = ref<string | null>(null)
  const url = ref<string | null>(null)
  let open: OpenConnection | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let connecting: Promise<void> | null = null
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let attempts = 0
  let disposed = false

  function cancelRetry(): void {
    clearTimeout(retryTimer)
    retryTimer = undefined
  }

  function stopHeartbeat(): void {
    clearInterval(timer)
    timer = undefined
  }

  async function beat(): Promise<void> {
    if (!open) return
    try {
      // Over the socket the page already holds for its subscriptions: no HTTP request and token check per beat.
      const sent = heartbeatMutation.mutate({ connectionId: open.id }, { context: { viaSocket: true } })
      let timeout: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(new Error('No answer to the heartbeat.')), HEARTBEAT_ANSWER_MS)
      })
      await Promise.race([sent, late]).finally(() => clearTimeout(timeout))
      if (status.value !== 'connected') {
        status.value = 'connected'
        detail.value = null
      }
    } catch (error) {
      if (codeOf(error) === 'NOT_FOUND') {
        open = null
        stopHeartbeat()
        await connect()
      } else {
        status.value = 'disconnected'
        detail.value = 'The server cannot be reached; retrying.'
      }
    }
  }

  function connect(): Promise<void> {
    cancelRetry()
    connecting ??= (async () => {
      status.value = 'connecting'
      detail.value = null
      try {
        const res = await connectMutation.mutate({ id: sessionId() })
        const result = res?.data?.connectSession
        if (!result) throw new Error('The server did not answer.')
        open = { id: result.connectionId, beaconToken: result.beaconToken }
        url.value = result.url
        status.value = 'connected'
        attempts = 0
        stopHeartbeat()
        timer = setInterval(() => void beat(), Math.max(1, result.heartbeatIntervalSeconds) * 1000)
      } catch (error) {
        status.value = 'disconnected'
        const message = error instanceof Error ? error.message : String(error)
        if (isTransient(error) && !disposed) {
          attempts += 1
          const delay = retryDelayMs(attempts)
          detail.value = `${message} Retrying in ${Math.round(delay / 1000)} s.`
          retryTimer = setTimeout(() => void connect(), delay)
        } else {
          detail.value = message
        }
      } finally {
        connecting = null
      }
    })()
    return connecting
  }

  function disconnect(): void {
    cancelRetry()
    attempts = 0
    stopHeartbeat()
    if (open) sendDisconnectBeacon(open)
    open = null
    status.value = 'idle'
  }

  // pagehide fires on tab close, reload and navigation away, including from the back/forward cache.
  const onPageHide = (): void => disconnect()
  onMounted(() => window.addEventListener('pagehide', onPageHide))
  onBeforeUnmount(() => {
    window.removeEventListener('pagehide', onPageHide)
    disposed = true
    disconnect()
  })

  return { status, detail, url, connect, disconnect }
}
