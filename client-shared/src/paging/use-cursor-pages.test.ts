import { expect } from 'chai'
import { describe, it } from 'mocha'
import { nextTick, ref } from 'vue'
import { useCursorPages, usePageItems } from './use-cursor-pages'

type Connection = { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } }

function connection(ids: string[], hasNextPage: boolean, endCursor: string | null = ids.at(-1) ?? null): Connection {
  return { edges: ids.map((id) => ({ node: { id } })), pageInfo: { hasNextPage, endCursor } }
}

describe('useCursorPages', () => {
  it('starts on page 1 with no cursor and the default page size', () => {
    const pages = useCursorPages(10)
    expect(pages.page.value).to.equal(1)
    expect(pages.itemsPerPage.value).to.equal(10)
    expect(pages.after.value).to.equal(null)
  })

  it('reaches the next page through the end cursor of the page before it', () => {
    const pages = useCursorPages(2)
    pages.record({ hasNextPage: true, endCursor: 'c2' })
    pages.onOptions({ page: 2, itemsPerPage: 2 })
    expect(pages.page.value).to.equal(2)
    expect(pages.after.value).to.equal('c2')
    pages.record({ hasNextPage: true, endCursor: 'c4' })
    pages.onOptions({ page: 3, itemsPerPage: 2 })
    expect(pages.after.value).to.equal('c4')
    // Back to a page seen before: its cursor is remembered.
    pages.onOptions({ page: 2, itemsPerPage: 2 })
    expect(pages.after.value).to.equal('c2')
  })

  it('lands on the last reachable page when a jump goes past the known cursors', () => {
    const pages = useCursorPages(5)
    pages.record({ hasNextPage: true, endCursor: 'c5' })
    pages.onOptions({ page: 7, itemsPerPage: 5 })
    expect(pages.page.value).to.equal(2)
    expect(pages.after.value).to.equal('c5')
  })

  it('records no cursor for a last page or a missing end cursor', () => {
    const pages = useCursorPages(5)
    pages.record({ hasNextPage: false, endCursor: 'c5' })
    pages.record({ hasNextPage: true, endCursor: null })
    pages.record(undefined)
    pages.onOptions({ page: 2, itemsPerPage: 5 })
    expect(pages.page.value).to.equal(1)
  })

  it('starts over on page 1 when the page size changes', () => {
    const pages = useCursorPages(5)
    pages.record({ hasNextPage: true, endCursor: 'c5' })
    pages.onOptions({ page: 2, itemsPerPage: 5 })
    pages.onOptions({ page: 2, itemsPerPage: 25 })
    expect(pages.page.value).to.equal(1)
    expect(pages.itemsPerPage.value).to.equal(25)
    expect(pages.after.value).to.equal(null)
    pages.onOptions({ page: 2, itemsPerPage: 25 })
    expect(pages.page.value, 'the old cursors are forgotten').to.equal(1)
  })

  it('takes the server total when there is one, else what is loaded plus one more page', () => {
    const pages = useCursorPages(10)
    expect(pages.lengthOf(42, 10, true)).to.equal(42)
    expect(pages.lengthOf(null, 10, true)).to.equal(20)
    pages.record({ hasNextPage: true, endCursor: 'c10' })
    pages.onOptions({ page: 2, itemsPerPage: 10 })
    expect(pages.lengthOf(undefined, 4, false)).to.equal(14)
  })
})

describe('usePageItems', () => {
  it('gives the nodes of the loaded page and records its pageInfo, so the next page can be reached', async () => {
    const pages = useCursorPages(2)
    const loaded = ref<Connection | null>(null)
    const items = usePageItems(pages, loaded)
    expect(items.value).to.deep.equal([])

    loaded.value = connection(['a', 'b'], true)
    await nextTick()
    expect(items.value.map((n) => n.id)).to.deep.equal(['a', 'b'])
    pages.onOptions({ page: 2, itemsPerPage: 2 })
    expect(pages.after.value).to.equal('b')

    loaded.value = connection(['c'], false)
    await nextTick()
    expect(items.value.map((n) => n.id)).to.deep.equal(['c'])
    pages.onOptions({ page: 3, itemsPerPage: 2 })
    expect(pages.page.value, 'there is no page after the last').to.equal(2)
  })
})
