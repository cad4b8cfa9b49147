import { expect } from 'chai'
import { describe, it } from 'mocha'
import { safeRedirect } from './redirect'

describe('safeRedirect', () => {
  it('keeps a path on this site, with its query', () => {
    expect(safeRedirect('/sessions/s1')).to.equal('/sessions/s1')
    expect(safeRedirect('/audit-log?page=2')).to.equal('/audit-log?page=2')
  })

  it('sends anything else home: other hosts, protocol-relative URLs, missing or repeated values', () => {
    for (const value of ['https://evil.example/', '//evil.example/path', 'sessions', '', undefined, null, ['/a', '/b']]) {
      expect(safeRedirect(value), String(value)).to.equal('/')
    }
  })
})
