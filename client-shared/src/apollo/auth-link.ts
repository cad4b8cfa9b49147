import { ApolloLink, Observable } from '@apollo/client/core'
import type { FetchResult } from '@apollo/client/core'
import type { Auth } from '../auth/auth'

/** What the link needs of a sign-in: the current token, and a refresh. */
export type TokenSource = Pick<Auth, 'token' | 'refresh'> & { readonly state: Pick<Auth['state'], 'accessToken'> }

function isUnauthenticated(result: FetchResult): boolean {
  return (result.errors ?? []).some((e) => e.extensions?.['code'] === 'UNAUTHENTICATED')
}

/** Adds the bearer token; on UNAUTHENTICATED refreshes once and retries (the token may have just expired). */
export function authLink(auth: TokenSource): ApolloLink {
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
