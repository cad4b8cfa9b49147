import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable, split } from '@apollo/client/core'
import type { FetchResult, NormalizedCacheObject, TypePolicies } from '@apollo/client/core'
import { GraphQLWsLink } from '@apollo/client/link/subscriptions'
import { getMainDefinition } from '@apollo/client/utilities'
import { createClient } from 'graphql-ws'
import type { Auth } from './auth'

/** Same-origin GraphQL endpoint; the dev server proxies it to the API. */
const GRAPHQL_PATH = '/graphql'
/** graphql-ws close code a client may use to restart its own socket (not fatal, so it reconnects). */
const CLOSE_RESTART = 4205

function webSocketUrl(path: string): string {
  const url = new URL(path, window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}

function isUnauthenticated(result: FetchResult): boolean {
  return (result.errors ?? []).some((e) => e.extensions?.['code'] === 'UNAUTHENTICATED')
}

/** Adds the bearer token; on UNAUTHENTICATED refreshes once and retries (the token may have just expired). */
function authLink(auth: Auth): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const run = (token: string | null) => {
      operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      }))
      return forward(operation)
    }
    return new Observable<FetchResult>((observer) => {
      let inner: { unsubscribe(): void } | undefined
      let retried = false
      const start = (token: string | null) => {
        let retrying = false
        inner = run(token).subscribe({
          next: (result) => {
            if (!retried && isUnauthenticated(result)) {
              retried = true
              retrying = true
              const giveUp = () => {
                observer.next(result)
                observer.complete()
              }
              void auth.refresh().then((ok) => (ok ? start(auth.state.accessToken) : giveUp()), giveUp)
              return
            }
            observer.next(result)
          },
          error: (error: unknown) => observer.error(error),
          complete: () => {
            if (!retrying) observer.complete()
          },
        })
      }
      void auth.token().then(start, (error: unknown) => observer.error(error))
      return () => inner?.unsubscribe()
    })
  })
}

type SessionObject = Record<string, unknown> & { id: string; updatedAt: string }

/** Every Session object (`__typename`, `id`, `updatedAt`) anywhere in a result. */
function sessionsIn(value: unknown, out: SessionObject[] = []): SessionObject[] {
  if (Array.isArray(value)) {
    for (const item of value) sessionsIn(item, out)
  } else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>
    if (record['__typename'] === 'Session' && typeof record['id'] === 'string' && typeof record['updatedAt'] === 'string') {
      out.push(record as SessionObject)
    }
    for (const child of Object.values(record)) if (child && typeof child === 'object') sessionsIn(child, out)
  }
  return out
}

/** How often a query whose answer was overtaken by a live event is asked again before its answer is corrected. */
const STALE_RETRIES = 3

/**
 * Newest wins. An answer over HTTP and an event over the socket can cross: a query (or a mutation) reads a session,
 * the session changes, the event arrives, and only then the (older) answer does, which would overwrite the newer
 * state in the normalized cache and leave, say, a Running session shown as Pending, or a hibernated one as Running,
 * until its next change. This link remembers the newest version (`updatedAt`) of every session seen in any result,
 * live or not, with its fields. A query whose answer holds an older copy is asked again; any other result (a
 * mutation's answer, a late event) has the fields of an older copy replaced by the newest ones before the cache
 * sees it.
 */
export function newestWinsLink(): ApolloLink {
  const newest = new Map<string, { updatedAt: number; fields: Record<string, unknown> }>()
  const versionOf = (s: SessionObject): number => Date.parse(s.updatedAt)
  const isOvertaken = (s: SessionObject): boolean => versionOf(s) < (newest.get(s.id)?.updatedAt ?? -Infinity)
  const remember = (s: SessionObject): void => {
    const known = newest.get(s.id)
    const version = versionOf(s)
    if (known && version < known.updatedAt) return
    // The same version seen through another selection adds its fields.
    newest.set(s.id, { updatedAt: version, fields: { ...(known && known.updatedAt === version ? known.fields : {}), ...s } })
  }
  const correct = (s: SessionObject): void => {
    const known = newest.get(s.id)
    if (!known) return
    for (const key of Object.keys(s)) if (key in known.fields) s[key] = known.fields[key]
  }
  return new ApolloLink((operation, forward) => {
    const definition = getMainDefinition(operation.query)
    const isQuery = definition.kind === 'OperationDefinition' && definition.operation === 'query'
    return new Observable<FetchResult>((observer) => {
      let inner: { unsubscribe(): void } | undefined
      let attempts = 0
      const start = (): void => {
        let retrying = false
        inner = forward(operation).subscribe({
          next: (result) => {
            const sessions = sessionsIn(result.data)
            const overtaken = sessions.filter(isOvertaken)
            if (isQuery && overtaken.length && attempts < STALE_RETRIES) {
              attempts += 1
              retrying = true
              inner?.unsubscribe()
              start()
              return
            }
            overtaken.forEach(correct)
            sessions.forEach(remember)
            observer.next(result)
          },
          error: (error: unknown) => observer.error(error),
          complete: () => {
            if (!retrying) observer.complete()
          },
        })
      }
      start()
      return () => inner?.unsubscribe()
    })
  })
}

/** The portal's cache keys: templates are identified by name; sessions by id (the default). */
const PORTAL_TYPE_POLICIES: TypePolicies = {
  Template: { keyFields: ['name'] },
  Favorite: { keyFields: ['templateName'] },
  RecentApp: { keyFields: ['templateName'] },
  Query: {
    fields: {
      myFavorites: { merge: false },
      recentApps: { merge: false },
    },
  },
}

/**
 * Queries and mutations go over HTTP, subscriptions over graphql-ws on the same path. The socket sends the
 * current token in connectionParams; after every token change it restarts (close 4205), so the server
 * never holds a socket whose token has expired, and subscriptions resume on the new socket. Whenever the
 * socket comes back after an interruption, the active queries are fetched again, so a change whose event was
 * sent while no socket was open still reaches the screen.
 * The admin console builds its client here too, with its own cache policies.
 */
export function createApolloClient(auth: Auth, typePolicies: TypePolicies = PORTAL_TYPE_POLICIES): ApolloClient<NormalizedCacheObject> {
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
