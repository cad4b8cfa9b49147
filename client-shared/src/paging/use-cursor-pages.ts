import { computed, ref, watch } from 'vue'
import type { Ref } from 'vue'

/**
 * Page numbers for v-data-table-server over a Relay connection (forward cursors only): remembers the `after`
 * cursor that starts each page seen so far. A jump to a page whose cursor is unknown lands on the last page
 * that can be reached.
 */
export function useCursorPages(defaultPageSize = 20) {
  const page = ref(1)
  const itemsPerPage = ref(defaultPageSize)
  const cursors = ref(new Map<number, string | null>([[1, null]]))

  function reset(): void {
    cursors.value = new Map([[1, null]])
    page.value = 1
  }

  /** Handles v-data-table-server's update:options. */
  function onOptions(options: { page: number; itemsPerPage: number }): void {
    if (options.itemsPerPage !== itemsPerPage.value) {
      itemsPerPage.value = options.itemsPerPage
      reset()
      return
    }
    let target = options.page
    while (target > 1 && !cursors.value.has(target)) target -= 1
    page.value = target
  }

  /** Call with each loaded page's pageInfo, so the next page can be reached. */
  function record(pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined): void {
    if (pageInfo?.hasNextPage && pageInfo.endCursor) cursors.value.set(page.value + 1, pageInfo.endCursor)
  }

  const after = computed(() => cursors.value.get(page.value) ?? null)
  /** A total for the table's footer when the server does not know it: what is loaded plus one more page. */
  function lengthOf(totalCount: number | null | undefined, loaded: number, hasNextPage: boolean): number {
    if (typeof totalCount === 'number') return totalCount
    return (page.value - 1) * itemsPerPage.value + loaded + (hasNextPage ? itemsPerPage.value : 0)
  }
  return { page, itemsPerPage, after, reset, onOptions, record, lengthOf }
}

export type CursorPages = ReturnType<typeof useCursorPages>

/** The rows of the loaded page of a Relay connection; each loaded page's pageInfo is recorded in `pages`. */
export function usePageItems<T>(
  pages: CursorPages,
  connection: Ref<{ edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } | null | undefined>,
) {
  watch(connection, (c) => pages.record(c?.pageInfo))
  return computed(() => connection.value?.edges.map((e) => e.node) ?? [])
}
