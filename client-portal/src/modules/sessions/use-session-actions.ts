import { useMutation } from '@vue/apollo-composable'
import { ref } from 'vue'
import type { Ref } from 'vue'
import { HibernateSessionDocument, TerminateSessionDocument, WakeSessionDocument } from '../../generated/graphql'

export type SessionAction = 'hibernate' | 'wake' | 'terminate'

/** Hibernate, wake and terminate; the result lands in the cache (and the subscription confirms it). */
export function useSessionActions(): {
  run: (action: SessionAction, id: string) => Promise<boolean>
  busy: Ref<string | null>
  error: Ref<string | null>
} {
  const hibernate = useMutation(HibernateSessionDocument)
  const wake = useMutation(WakeSessionDocument)
  const terminate = useMutation(TerminateSessionDocument)
  const busy = ref<string | null>(null)
  const error = ref<string | null>(null)

  async function run(action: SessionAction, id: string): Promise<boolean> {
    busy.value = `${action}:${id}`
    error.value = null
    try {
      const mutation = action === 'hibernate' ? hibernate : action === 'wake' ? wake : terminate
      await mutation.mutate({ id })
      return true
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
      return false
    } finally {
      busy.value = null
    }
  }
  return { run, busy, error }
}
