import { expect } from 'chai'
import { mayChange, mayOpen, sectionRoles } from './access'

describe('admin console: which role opens and changes which section', () => {
  it('lets auditors open every section admins read, and change none', () => {
    for (const section of ['cluster', 'sessions', 'templates', 'catalog', 'users', 'groups', 'configuration', 'audit-log']) {
      expect(mayOpen('auditor', section), section).to.equal(true)
      expect(mayChange('auditor', section), section).to.equal(false)
    }
  })

  it('lets operators open and change sessions, templates and catalog only', () => {
    const open = ['cluster', 'sessions', 'templates', 'catalog', 'users', 'groups', 'configuration', 'audit-log', 'metrics'].filter((s) => mayOpen('operator', s))
    expect(open).to.deep.equal(['sessions', 'templates', 'catalog'])
    expect(open.every((s) => mayChange('operator', s))).to.equal(true)
  })

  it('keeps a section it does not know (a new one) for admins only, and users out of everything', () => {
    expect(sectionRoles('some-new-section')).to.deep.equal(['admin'])
    expect(mayChange('admin', 'some-new-section')).to.equal(true)
    expect(mayOpen('user', 'sessions')).to.equal(false)
    expect(mayOpen(null, 'sessions')).to.equal(false)
  })
})
