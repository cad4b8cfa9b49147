import { useQuery } from '@vue/apollo-composable'
import { computed, onBeforeUnmount, onMounted, ref } from 'vue'
import type { ComputedRef, Ref } from 'vue'
import type { ApolloError } from '@apollo/client/core'
import { auth } from '@streamspace/client-shared/auth'
import { MySessionsChangedDocument, MySessionsDocument } from '../../generated/graphql'
import type { MySessionsQuery, SessionSummaryFragment } from '../../generated/graphql'
import { isActive } from './session-status'

type Edge = MySessionsQuery['sessions']['edges'][number]

/**
 * The caller's sessions, kept live by the `mySessionsChanged` subscription (no polling): changes land in
 * Apollo's normalized cache, new sessions are added to the list and deleted ones removed. Admins receive
 * everyone's changes on that subscription, so changes are filtered to the caller's own.
 */
export function useMySessions(): {
  sessions: ComputedRef<SessionSummaryFragment[]>
  all: ComputedRef<SessionSummaryFragment[]>
  loading: Ref<boolean>
  error: Ref<ApolloError | null>
  refetch: () => void
} {
  const username = computed(() => auth.state.user?.username ?? null)
  const { result, loading, error, subscribeToMore, refetch } = useQuery(MySessionsDocument, () => ({ user: username.value }))

  subscribeToMore(() => ({
    document: MySessionsChangedDocument,
    updateQuery: (previous, { subscriptionData }) => {
      const change = subscriptionData.data?.mySessionsChanged
      if (!change || change.session.user !== username.value) return previous
      const edges = previous.sessions.edges
      const without = edges.filter((edge) => edge.node.id !== change.session.id)
      if (change.type === 'DELETED') {
        return { ...previous, sessions: { ...previous.sessions, totalCount: Math.max(0, previous.sessions.totalCount - (without.length < edges.length ? 1 : 0)), edges: without } }
      }
      if (without.length < edges.length) {
        return { ...previous, sessions: { ...previous.sessions, edges: edges.map((edge) => (edge.node.id === change.session.id ? { ...edge, node: change.session } : edge)) } }
      }
      const added: Edge = { __typename: 'SessionEdge', node: change.session } as Edge
      return { ...previous, sessions: { ...previous.sessions, totalCount: previous.sessions.totalCount + 1, edges: [added, ...edges] } }
    },
    // The socket reconnects by itself; after a gap, refetch so nothing missed stays stale.
    onError: () => {
      setTimeout(() => void refetch(), 2_000)
    },
  }))

  const all = computed(() => result.value?.sessions.edges.map((edge) => edge.node) ?? [])
  const sessions = computed(() => all.value.filter(isActive))
  return { sessions, all, loading, error, refetch: () => void refetch() }
}

/** A clock for relative times, updated every `everyMs`. */
export function useNow(everyMs = 30_000): Ref<number> {
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    timer = setInterval(() => (now.value = Date.now()), everyMs)
  })
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
