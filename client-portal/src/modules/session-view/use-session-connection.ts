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

/**
 * One browser connection to a session: connectSession when the view opens the app, a heartbeat at the
 * interval the server asks for (30 s), and a beacon disconnect when the tab closes or the view goes away.
 * A heartbeat answered NOT_FOUND (the connection was reaped or the session hibernated) connects again.
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

  function stopHeartbeat(): void {
    clearInterval(timer)
    timer = undefined
  }

  async function beat(): Promise<void> {
    if (!open) return
    try {
      await heartbeatMutation.mutate({ connectionId: open.id })
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
        stopHeartbeat()
        timer = setInterval(() => void beat(), Math.max(5, result.heartbeatIntervalSeconds) * 1000)
      } catch (error) {
        status.value = 'disconnected'
        detail.value = error instanceof Error ? error.message : String(error)
      } finally {
        connecting = null
      }
    })()
    return connecting
  }

  function disconnect(): void {
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
    disconnect()
  })

  return { status, detail, url, connect, disconnect }
}
