import { useQuery } from '@vue/apollo-composable'
import { computed, ref } from 'vue'
import type { ComputedRef } from 'vue'
import { PortalAnnouncementDocument } from '../../generated/graphql'

/** How often the portal asks again, so a changed announcement reaches open tabs without a reload. */
const POLL_MS = 60_000
const DISMISSED_KEY = 'streamspace.dismissedAnnouncement'

function readDismissed(): string | null {
  try {
    return localStorage.getItem(DISMISSED_KEY)
  } catch {
    return null
  }
}

/**
 * The admins' announcement (Query.announcement) and whether this browser dismissed it. Dismissing
 * remembers the text, so a new or changed announcement shows again.
 */
export function useAnnouncement(): { text: ComputedRef<string | null>; visible: ComputedRef<boolean>; dismiss: () => void } {
  const { result } = useQuery(PortalAnnouncementDocument, null, { fetchPolicy: 'cache-and-network', pollInterval: POLL_MS })
  const dismissed = ref(readDismissed())
  const text = computed(() => result.value?.announcement ?? null)
  const visible = computed(() => Boolean(text.value) && text.value !== dismissed.value)
  function dismiss(): void {
    if (!text.value) return
    dismissed.value = text.value
    try {
      localStorage.setItem(DISMISSED_KEY, text.value)
    } catch {
      // Private mode: dismissed for this page only.
    }
  }
  return { text, visible, dismiss }
}
