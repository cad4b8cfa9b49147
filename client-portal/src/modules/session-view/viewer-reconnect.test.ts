import { expect } from 'chai'
import { describe, it } from 'mocha'
import { MAX_AUTO_RECONNECTS, viewerReconnectDelayMs, viewerReconnectPlan } from './viewer-reconnect'

describe('the desktop viewer reconnects by itself', () => {
  const closed = { kind: 'closed', clean: false } as const

  it('after a socket that dropped (a gateway pod went away) while the session runs', () => {
    expect(viewerReconnectPlan({ end: closed, phase: 'Running', noAccess: false, attempt: 1 })).to.deep.equal({ reconnect: true, delayMs: 500 })
    // A gateway that closes the socket cleanly (shutting down, a role change) is reconnected too.
    expect(viewerReconnectPlan({ end: { kind: 'closed', clean: true }, phase: 'Running', noAccess: false, attempt: 1 }).reconnect).to.equal(true)
  })

  it('backs off between consecutive attempts, up to 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 8].map(viewerReconnectDelayMs)).to.deep.equal([500, 1000, 2000, 4000, 8000, 8000, 8000])
    expect(viewerReconnectPlan({ end: closed, phase: 'Running', noAccess: false, attempt: 3 })).to.deep.equal({ reconnect: true, delayMs: 2000 })
  })

  it('gives up after MAX_AUTO_RECONNECTS attempts that never connected (the Reconnect button stays)', () => {
    expect(viewerReconnectPlan({ end: closed, phase: 'Running', noAccess: false, attempt: MAX_AUTO_RECONNECTS }).reconnect).to.equal(true)
    expect(viewerReconnectPlan({ end: closed, phase: 'Running', noAccess: false, attempt: MAX_AUTO_RECONNECTS + 1 })).to.deep.equal({ reconnect: false, why: 'gave-up' })
  })

  it('never when the end is final: refused credentials, access removed, session not running', () => {
    expect(viewerReconnectPlan({ end: { kind: 'refused' }, phase: 'Running', noAccess: false, attempt: 1 })).to.deep.equal({ reconnect: false, why: 'refused' })
    expect(viewerReconnectPlan({ end: closed, phase: 'Running', noAccess: true, attempt: 1 })).to.deep.equal({ reconnect: false, why: 'no-access' })
    for (const phase of ['Hibernated', 'Terminated', 'Failed', 'Pending', null]) {
      expect(viewerReconnectPlan({ end: closed, phase, noAccess: false, attempt: 1 }), String(phase)).to.deep.equal({ reconnect: false, why: 'not-running' })
    }
  })
})
