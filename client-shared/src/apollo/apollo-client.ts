import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, split } from '@apollo/client/core'
import type { NormalizedCacheObject, TypePolicies } from '@apollo/client/core'
import { GraphQLWsLink } from '@apollo/client/link/subscriptions'
import { getMainDefinition } from '@apollo/client/utilities'
import { createClient } from 'graphql-ws'
import type { Auth } from '../auth/auth'
import { authLink } from './auth-link'
import { newestWinsLink } from './newest-wins-link'

/** Same-origin GraphQL endpoint; the dev server proxies it to the API. */
const GRAPHQL_PATH = '/graphql'
/** graphql-ws close code a client may use to restart its own socket (not fatal, so it reconnects). */
const CLOSE_RESTART = 4205

function webSocketUrl(path: string): string {
  const url = new URL(path, window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}

/**
 * Queries and mutations go over HTTP, subscriptions over graphql-ws on the same path. The socket sends the
 * current token in connectionParams; after every token change it restarts (close 4205), so the server
 * never holds a socket whose token has expired, and subscriptions resume on the new socket. Whenever the
 * socket comes back after an interruption, the active queries are fetched again, so a change whose event was
 * sent while no socket was open still reaches the screen.
 * Each client passes its own cache policies (how its objects are identified and merged).
 */
export function createApolloClient(auth: Auth, typePolicies: TypePolicies): ApolloClient<NormalizedCacheObject> {
  const httpLink = new HttpLink({ uri: GRAPHQL_PATH })
  let socket: WebSocket | null = null
  let resync = false
  const wsClient = createClient({
    url: webSocketUrl(GRAPHQL_PATH),
    lazy: true,
    keepAlive: 20_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    connectionParams: async () => {
      const token = await auth.token()
      return token ? { authorization: `Bearer ${token}` } : {}
    },
    on: {
      opened: (opened) => {
        socket = opened as WebSocket
      },
      connected: () => {
        // Events sent while the socket was down are lost: read the shown data again once it is back.
        if (!resync) return
        resync = false
        void client.refetchQueries({ include: 'active' }).catch(() => undefined)
      },
      closed: (event) => {
        socket = null
        // 1000 is graphql-ws closing an idle lazy socket on purpose; anything else interrupted live subscriptions.
        if ((event as CloseEvent | undefined)?.code !== 1000) resync = true
      },
    },
  })
  auth.onTokenChange(() => {
    if (socket?.readyState === WebSocket.OPEN) socket.close(CLOSE_RESTART, 'Client restart (new access token)')
  })
  const link = ApolloLink.from([
    newestWinsLink(),
    split(
      // Subscriptions, and operations sent with `context: { viaSocket: true }` (an admin's pod-shell keystrokes
      // must reach the server process holding the shell, which is the one at the other end of this socket).
      ({ query, getContext }) => {
        const definition = getMainDefinition(query)
        return (definition.kind === 'OperationDefinition' && definition.operation === 'subscription') || getContext()['viaSocket'] === true
      },
      new GraphQLWsLink(wsClient),
      authLink(auth).concat(httpLink),
    ),
  ])
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({ typePolicies }),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  })
  return client
}
