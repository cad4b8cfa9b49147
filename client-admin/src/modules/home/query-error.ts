/** The parts of an Apollo error a page reads (ApolloError from @apollo/client/core has them). */
export interface QueryErrorLike {
  message: string
  graphQLErrors?: readonly { message: string; extensions?: Record<string, unknown> }[]
  networkError?: unknown
}

/**
 * One sentence saying why a figure is missing, for the card that shows it. The server's messages for coded
 * errors (no cluster configured, forbidden, ...) are written for people and are shown as they are; an unreachable
 * API or an unexpected error says so without Apollo's "GraphQL response contains errors" framing.
 */
export function unavailableReason(error: QueryErrorLike | null | undefined): string | null {
  if (!error) return null
  const messages = [...new Set((error.graphQLErrors ?? []).map((e) => e.message.trim()).filter(Boolean))]
  if (messages.length) return messages.join(' ')
  if (error.networkError) return 'The API could not be reached.'
  return error.message.replace(/^GraphQL response contains errors:\s*/i, '').trim() || 'The server did not answer this part.'
}
