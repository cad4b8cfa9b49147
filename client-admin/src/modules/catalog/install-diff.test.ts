import { expect } from 'chai'
import { describe, it } from 'mocha'
import { specDiff } from './install-diff'

describe('catalog install diff', () => {
  it('names changed, added and removed fields by path', () => {
    expect(specDiff({ baseImage: 'a:1', webapp: { port: 80 }, tags: ['x'] }, { baseImage: 'a:2', webapp: { port: 80 }, tags: ['x', 'y'], icon: 'i' })).to.deep.equal([
      'baseImage: "a:1" -> "a:2"',
      'icon: (none) -> "i"',
      'tags: ["x"] -> ["x","y"]',
    ])
  })
  it('is empty when nothing changed', () => {
    expect(specDiff({ a: { b: 1 } }, { a: { b: 1 } })).to.deep.equal([])
  })
})
