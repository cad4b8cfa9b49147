import { ApolloClient, HttpLink, InMemoryCache, split } from '@apollo/client/core'
import type { NormalizedCacheObject } from '@apollo/client/core'
import { GraphQLWsLink } from '@apollo/client/link/subscriptions'
import { getMainDefinition } from '@apollo/client/utilities'
import { createClient } from 'graphql-ws'

/** Same-origin GraphQL endpoint; the dev server proxies it to the API. */
const GRAPHQL_PATH = '/graphql'

function webSocketUrl(path: string): string {
  const url = new URL(path, window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}

/** Queries and mutations go over HTTP, subscriptions over graphql-ws on the same path. */
export function createApolloClient(): ApolloClient<NormalizedCacheObject> {
  const httpLink = new HttpLink({ uri: GRAPHQL_PATH })
  const wsLink = new GraphQLWsLink(createClient({ url: webSocketUrl(GRAPHQL_PATH) }))
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query)
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription'
    },
    wsLink,
    httpLink,
  )
  return new ApolloClient({ link, cache: new InMemoryCache() })
}
