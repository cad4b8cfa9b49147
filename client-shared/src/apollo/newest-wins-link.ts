import { ApolloLink, Observable } from '@apollo/client/core'
import type { FetchResult } from '@apollo/client/core'
import { getMainDefinition } from '@apollo/client/utilities'

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
