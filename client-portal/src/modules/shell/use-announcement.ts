import { useSubscription } from '@vue/apollo-composable'
import { computed, ref } from 'vue'
import type { ComputedRef } from 'vue'
import { PortalAnnouncementChangedDocument } from '../../generated/graphql'

const DISMISSED_KEY = 'streamspace.dismissedAnnouncement'

function readDismissed(): string | null {
  try {
    return localStorage.getItem(DISMISSED_KEY)
  } catch {
    return null
  }
}

/**
 * The admins' announcement, live (Subscription.announcementChanged sends the text now, then each change, and
 * again after the socket reconnects), and whether this browser dismissed it. Dismissing remembers the text, so
 * a new or changed announcement shows again.
 */
export function useAnnouncement(): { text: ComputedRef<string | null>; visible: ComputedRef<boolean>; dismiss: () => void } {
  const { result } = useSubscription(PortalAnnouncementChangedDocument)
  const dismissed = ref(readDismissed())
  const text = computed(() => result.value?.announcementChanged ?? null)
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
