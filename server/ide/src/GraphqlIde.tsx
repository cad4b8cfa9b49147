import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { GraphiQL } from 'graphiql'
import { useMemo } from 'react'
import type { ReactElement } from 'react'
import { graphqlHttpUrl, graphqlWebSocketUrl } from './graphql-endpoint'

const DEFAULT_QUERY = `# Welcome to the StreamSpace GraphQL IDE.
#
# The Docs button on the left lists every type and field of the API.
# To call operations that need a signed-in user, add a header below, e.g.
#   { "Authorization": "Bearer <token>" }
# Subscriptions run over graphql-ws on the same /graphql path.

query ServerVersion {
  version {
    version
    commit
    buildDate
  }
}
`

export function GraphqlIde(): ReactElement {
  // Headers typed in the headers editor reach HTTP requests as request headers and
  // subscriptions as graphql-ws connectionParams.
  const fetcher = useMemo(
    () =>
      createGraphiQLFetcher({
        url: graphqlHttpUrl(window.location),
        subscriptionUrl: graphqlWebSocketUrl(window.location),
      }),
    [],
  )
  return (
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} isHeadersEditorEnabled>
      <GraphiQL.Logo>StreamSpace</GraphiQL.Logo>
    </GraphiQL>
  )
}
