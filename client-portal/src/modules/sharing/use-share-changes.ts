import { useSubscription } from '@vue/apollo-composable'
import { MySharesChangedDocument } from '../../generated/graphql'
import type { MySharesChangedSubscription } from '../../generated/graphql'

type Change = MySharesChangedSubscription['mySharesChanged']

/**
 * Changes to the caller's own entries on sessions' access lists (shared with them, role changed, removed), as they
 * happen on any replica. `sessionId` narrows them to one session (the session view); without it, every change.
 */
export function useShareChanges(handle: (change: Change) => void, sessionId?: () => string): void {
  const { onResult } = useSubscription(MySharesChangedDocument)
  onResult((res) => {
    const change = res.data?.mySharesChanged
    if (change && (!sessionId || change.share.sessionId === sessionId())) handle(change)
  })
}
