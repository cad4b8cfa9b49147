export { createApolloClient } from './apollo-client'
export { authLink } from './auth-link'
export { newestWinsLink } from './newest-wins-link'
export type { TokenSource } from './auth-link'
