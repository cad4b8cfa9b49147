/** The API answers on the same origin as the IDE: HTTP and graphql-ws share the `/graphql` path. */
export const GRAPHQL_PATH = '/graphql'

export function graphqlHttpUrl(location: Location): string {
  return new URL(GRAPHQL_PATH, location.href).href
}

export function graphqlWebSocketUrl(location: Location): string {
  const url = new URL(GRAPHQL_PATH, location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}
