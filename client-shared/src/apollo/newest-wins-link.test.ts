import { ApolloLink, execute, gql, Observable } from '@apollo/client/core'
import type { DocumentNode, FetchResult } from '@apollo/client/core'
import { expect } from 'chai'
import { describe, it } from 'mocha'
import { newestWinsLink } from './newest-wins-link'

const SESSION_QUERY = gql`
  query MySession {
    session(id: "s1") {
      id
      phase
      updatedAt
    }
  }
`
const SESSION_EVENTS = gql`
  subscription MySessionEvents {
    sessionUpdated {
      id
      phase
      updatedAt
    }
  }
`
const HIBERNATE = gql`
  mutation Hibernate {
    hibernateSession(id: "s1") {
      id
      state
      phase
      updatedAt
    }
  }
`

function session(phase: string, updatedAt: string, extra: Record<string, unknown> = {}) {
  return { __typename: 'Session', id: 's1', phase, updatedAt, ...extra }
}

/**
 * The server end of the chain: answers each request with the next of `answers` (a function of how many requests
 * came before), and counts the requests per operation name.
 */
function server(answer: (operationName: string, nth: number) => FetchResult) {
  const requests = new Map<string, number>()
  const link = new ApolloLink((operation) => {
    const nth = requests.get(operation.operationName) ?? 0
    requests.set(operation.operationName, nth + 1)
    return Observable.of(answer(operation.operationName, nth))
  })
  return { link, requests }
}

/** Runs one operation through the chain and collects what reaches the cache. */
function run(link: ApolloLink, query: DocumentNode): Promise<FetchResult[]> {
  return new Promise((resolve, reject) => {
    const results: FetchResult[] = []
    execute(link, { query }).subscribe({ next: (r) => results.push(r), error: reject, complete: () => resolve(results) })
  })
}

describe('newestWinsLink', () => {
  it('passes answers through unchanged while no newer version of their sessions was seen', async () => {
    const backend = server(() => ({ data: { session: session('Pending', '2026-01-01T10:00:00.000Z') } }))
    const link = newestWinsLink().concat(backend.link)
    const [result] = await run(link, SESSION_QUERY)
    expect(result?.data).to.deep.equal({ session: session('Pending', '2026-01-01T10:00:00.000Z') })
    expect(backend.requests.get('MySession')).to.equal(1)
  })

  it('asks a query again when its answer holds a session older than an event already seen', async () => {
    const backend = server((name, nth) => {
      if (name === 'MySessionEvents') return { data: { sessionUpdated: session('Running', '2026-01-01T10:00:05.000Z') } }
      // The first answer was read before the event's change; the second one after it.
      return nth === 0
        ? { data: { session: session('Pending', '2026-01-01T10:00:00.000Z') } }
        : { data: { session: session('Running', '2026-01-01T10:00:05.000Z') } }
    })
    const link = newestWinsLink().concat(backend.link)
    await run(link, SESSION_EVENTS)
    const results = await run(link, SESSION_QUERY)
    expect(backend.requests.get('MySession')).to.equal(2)
    expect(results, 'only the fresh answer reaches the cache').to.have.length(1)
    expect(results[0]?.data).to.deep.equal({ session: session('Running', '2026-01-01T10:00:05.000Z') })
  })

  it('corrects a query answer that stays older after three more tries, with the newest fields seen', async () => {
    const backend = server((name) =>
      name === 'MySessionEvents'
        ? { data: { sessionUpdated: session('Running', '2026-01-01T10:00:05.000Z') } }
        : { data: { session: session('Pending', '2026-01-01T10:00:00.000Z') } },
    )
    const link = newestWinsLink().concat(backend.link)
    await run(link, SESSION_EVENTS)
    const [result] = await run(link, SESSION_QUERY)
    expect(backend.requests.get('MySession')).to.equal(4)
    expect(result?.data).to.deep.equal({ session: session('Running', '2026-01-01T10:00:05.000Z') })
  })

  it('replaces the older fields of a late mutation answer instead of asking again, and keeps the fields only it selects', async () => {
    const backend = server((name) =>
      name === 'MySessionEvents'
        ? { data: { sessionUpdated: session('Hibernated', '2026-01-01T10:00:09.000Z') } }
        : { data: { hibernateSession: session('Running', '2026-01-01T10:00:04.000Z', { state: 'hibernated' }) } },
    )
    const link = newestWinsLink().concat(backend.link)
    await run(link, SESSION_EVENTS)
    const [result] = await run(link, HIBERNATE)
    expect(backend.requests.get('Hibernate'), 'a mutation is never sent twice').to.equal(1)
    expect(result?.data).to.deep.equal({ hibernateSession: session('Hibernated', '2026-01-01T10:00:09.000Z', { state: 'hibernated' }) })
  })

  it('joins the fields of one version seen through two selections, and corrects a later older answer with all of them', async () => {
    const hibernateAnswers = [
      session('Stopping', '2026-01-01T10:00:09.000Z', { state: 'hibernated' }),
      // A retried request whose answer was read before the first one's change.
      session('Running', '2026-01-01T10:00:04.000Z', { state: 'running' }),
    ]
    const backend = server((name, nth) =>
      name === 'Hibernate'
        ? { data: { hibernateSession: hibernateAnswers[nth] } }
        : { data: { sessionUpdated: session('Hibernated', '2026-01-01T10:00:09.000Z') } },
    )
    const link = newestWinsLink().concat(backend.link)
    const [first] = await run(link, HIBERNATE)
    expect(first?.data, 'nothing newer seen yet').to.deep.equal({ hibernateSession: hibernateAnswers[0] })
    const [event] = await run(link, SESSION_EVENTS)
    expect(event?.data, 'the same version is not replaced').to.deep.equal({ sessionUpdated: session('Hibernated', '2026-01-01T10:00:09.000Z') })
    const [late] = await run(link, HIBERNATE)
    expect(late?.data).to.deep.equal({ hibernateSession: session('Hibernated', '2026-01-01T10:00:09.000Z', { state: 'hibernated' }) })
  })

  it('finds sessions anywhere in a result (lists, connections) and leaves other objects alone', async () => {
    const backend = server((name, nth) => {
      if (name === 'MySessionEvents') return { data: { sessionUpdated: session('Running', '2026-01-01T10:00:05.000Z') } }
      const edges = [
        { __typename: 'SessionEdge', node: session(nth === 0 ? 'Pending' : 'Running', nth === 0 ? '2026-01-01T10:00:00.000Z' : '2026-01-01T10:00:05.000Z') },
        { __typename: 'SessionEdge', node: { __typename: 'Template', id: 't1', updatedAt: '2000-01-01T00:00:00.000Z' } },
      ]
      return { data: { session: { __typename: 'SessionConnection', edges } } }
    })
    const link = newestWinsLink().concat(backend.link)
    await run(link, SESSION_EVENTS)
    const [result] = await run(link, SESSION_QUERY)
    expect(backend.requests.get('MySession')).to.equal(2)
    const edges = (result?.data?.['session'] as { edges: { node: Record<string, unknown> }[] }).edges
    expect(edges.map((e) => e.node['__typename'])).to.deep.equal(['Session', 'Template'])
    expect(edges[0]?.node['phase']).to.equal('Running')
  })
})
