import { expect } from 'chai'
import { describe, it } from 'mocha'
import { isSshUrl } from './repository-url'

describe('catalog: which repository URLs need pinned host keys', () => {
  it('recognises ssh:// and scp-like URLs, not https or file', () => {
    expect(isSshUrl('ssh://git@github.com/org/templates.git')).to.equal(true)
    expect(isSshUrl('git@github.com:org/templates.git')).to.equal(true)
    expect(isSshUrl('https://github.com/org/templates.git')).to.equal(false)
    expect(isSshUrl('https://user@github.com/org/templates.git')).to.equal(false)
    expect(isSshUrl('file:///srv/templates')).to.equal(false)
    expect(isSshUrl('')).to.equal(false)
  })
})
