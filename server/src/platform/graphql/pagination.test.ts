import 'reflect-metadata';
import assert from 'node:assert/strict';
import { decodeCursor, toConnection } from './pagination';

interface Row {
  id: string;
  at: string;
}

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: `id-${i}`, at: `2026-12-0${(i % 9) + 1}` }));
const keyOf = (r: Row) => [r.at, r.id];

describe('toConnection', () => {
  it('reads the cursors of the first and last edge, and knows whether a page follows', () => {
    const page = toConnection(rows(4), 3, 10, false, keyOf);
    assert.equal(page.edges.length, 3);
    assert.equal(page.totalCount, 10);
    assert.equal(page.pageInfo.hasNextPage, true);
    assert.equal(page.pageInfo.hasPreviousPage, false);
    assert.deepEqual(decodeCursor(page.pageInfo.startCursor!, 2), ['2026-12-01', 'id-0']);
    assert.deepEqual(decodeCursor(page.pageInfo.endCursor!, 2), ['2026-12-03', 'id-2']);
    assert.equal(page.pageInfo.endCursor, page.edges[2].cursor);
  });

  it('has no cursors on an empty page, and no next page when the extra row is missing', () => {
    const empty = toConnection<Row>([], 20, 0, true, keyOf);
    assert.equal(empty.pageInfo.startCursor, null);
    assert.equal(empty.pageInfo.endCursor, null);
    assert.equal(empty.pageInfo.hasPreviousPage, true);
    assert.equal(toConnection(rows(2), 2, 2, false, keyOf).pageInfo.hasNextPage, false);
  });

  it('gives a page no getters of its own (decision 0036: per-object getters kept whole pages alive through scavenges)', () => {
    // An object literal's getters are new closures defined on every object: V8 keeps such an object as a dictionary
    // with its getter pairs in the old generation, which hold the young page until the next full collection.
    const { pageInfo, edges } = toConnection(rows(3), 2, 3, false, keyOf);
    for (const object of [pageInfo, edges[0]]) {
      const own = Object.getOwnPropertyDescriptors(object);
      const accessors = Object.entries(own).filter(([, d]) => d.get || d.set);
      assert.deepEqual(accessors.map(([k]) => k), [], `${object.constructor.name} has own accessors`);
    }
    const proto = Object.getOwnPropertyDescriptors(Object.getPrototypeOf(pageInfo));
    assert.ok(proto.startCursor?.get && proto.endCursor?.get, 'the cursors are getters of the class');
  });
});
