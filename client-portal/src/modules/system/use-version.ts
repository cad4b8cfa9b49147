import { useQuery } from '@vue/apollo-composable'
import { computed } from 'vue'
import type { ComputedRef, Ref } from 'vue'
import type { ApolloError } from '@apollo/client/core'
import { PortalVersionDocument } from '../../generated/graphql'
import type { PortalVersionQuery } from '../../generated/graphql'

export type ServerVersion = PortalVersionQuery['version']

export function useVersion(): {
  version: ComputedRef<ServerVersion | null>
  loading: Ref<boolean>
  error: Ref<ApolloError | null>
} {
  const { result, loading, error } = useQuery(PortalVersionDocument)
  const version = computed(() => result.value?.version ?? null)
  return { version, loading, error }
}
