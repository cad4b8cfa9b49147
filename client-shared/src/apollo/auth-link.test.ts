import { ApolloLink, execute, gql, Observable } from '@apollo/client/core'
import type { FetchResult } from '@apollo/client/core'
import { expect } from 'chai'
import { describe, it } from 'mocha'
import { authLink } from './auth-link'

const ME = gql`
  query Me {
    me {
      id
    }
  }
`
const UNAUTHENTICATED: FetchResult = { errors: [{ message: 'Sign in first', extensions: { code: 'UNAUTHENTICATED' } }] as never }
const OK: FetchResult = { data: { me: { __typename: 'User', id: 'u1' } } }

/** A sign-in whose token is `tokens[0]` until a refresh moves on to the next one (or fails when there is none). */
function fakeAuth(tokens: (string | null)[]) {
  let current = 0
  const auth = {
    refreshes: 0,
    state: { get accessToken() { return tokens[current] ?? null } },
    token: async () => tokens[current] ?? null,
    refresh: async () => {
      auth.refreshes += 1
      if (current + 1 >= tokens.length) return false
      current += 1
      return true
    },
  }
  return auth
}

/** The server: answers with `answer(authorization header)` and remembers the headers it saw. */
function server(answer: (authorization: string | undefined) => FetchResult) {
  const seen: (string | undefined)[] = []
  const link = new ApolloLink((operation) => {
    const authorization = (operation.getContext()['headers'] as Record<string, string> | undefined)?.['authorization']
    seen.push(authorization)
    return Observable.of(answer(authorization))
  })
  return { link, seen }
}

function run(link: ApolloLink): Promise<FetchResult[]> {
  return new Promise((resolve, reject) => {
    const results: FetchResult[] = []
    execute(link, { query: ME }).subscribe({ next: (r) => results.push(r), error: reject, complete: () => resolve(results) })
  })
}

describe('authLink', () => {
  it('sends the current access token as a bearer token', async () => {
    const backend = server(() => OK)
    const results = await run(authLink(fakeAuth(['t1'])).concat(backend.link))
    expect(backend.seen).to.deep.equal(['Bearer t1'])
    expect(results).to.deep.equal([OK])
  })

  it('sends no authorization header when signed out', async () => {
    const backend = server(() => UNAUTHENTICATED)
    const auth = fakeAuth([null])
    const results = await run(authLink(auth).concat(backend.link))
    expect(backend.seen).to.deep.equal([undefined])
    expect(results, 'the refusal reaches the app').to.deep.equal([UNAUTHENTICATED])
  })

  it('refreshes once on UNAUTHENTICATED and retries with the new token', async () => {
    const backend = server((authorization) => (authorization === 'Bearer t2' ? OK : UNAUTHENTICATED))
    const auth = fakeAuth(['t1', 't2'])
    const results = await run(authLink(auth).concat(backend.link))
    expect(backend.seen).to.deep.equal(['Bearer t1', 'Bearer t2'])
    expect(auth.refreshes).to.equal(1)
    expect(results, 'only the retried answer reaches the app').to.deep.equal([OK])
  })

  it('gives up after one retry, and when the refresh fails, with the refusal', async () => {
    const always = server(() => UNAUTHENTICATED)
    const twice = fakeAuth(['t1', 't2', 't3'])
    expect(await run(authLink(twice).concat(always.link))).to.deep.equal([UNAUTHENTICATED])
    expect(always.seen).to.deep.equal(['Bearer t1', 'Bearer t2'])
    expect(twice.refreshes).to.equal(1)

    const refused = server(() => UNAUTHENTICATED)
    const noRefresh = fakeAuth(['t1'])
    expect(await run(authLink(noRefresh).concat(refused.link))).to.deep.equal([UNAUTHENTICATED])
    expect(refused.seen).to.deep.equal(['Bearer t1'])
  })
})
