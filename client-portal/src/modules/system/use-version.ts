import { useQuery } from '@vue/apollo-composable'
import { computed } from 'vue'
import type { ComputedRef, Ref } from 'vue'
import type { ApolloError } from '@apollo/client/core'
import VersionQuery from './version.query.graphql'

/** Shape of `Query.version`; replaced by generated types once codegen lands. */
export interface ServerVersion {
  version: string
  commit: string
  buildDate: string
}

interface VersionQueryResult {
  version: ServerVersion
}

export function useVersion(): {
  version: ComputedRef<ServerVersion | null>
  loading: Ref<boolean>
  error: Ref<ApolloError | null>
} {
  const { result, loading, error } = useQuery<VersionQueryResult>(VersionQuery)
  const version = computed(() => result.value?.version ?? null)
  return { version, loading, error }
}
