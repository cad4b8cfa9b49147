import { expect } from 'chai'
import { after, before, describe, it } from 'mocha'
import { isGatewayUrl, startupSteps, vncSocketUrl } from './session-progress'
import type { ProgressStep } from './session-progress'

const states = (steps: ProgressStep[]) => steps.map((s) => s.state)

describe('session progress', () => {
  describe('startupSteps', () => {
    it('names the five start-up steps in the order the server reports them', () => {
      expect(startupSteps({ phase: 'Pending', podName: null }, null).map((s) => s.label)).to.deep.equal([
        'Waiting for a place to run',
        'Scheduled on a node',
        'Downloading the app',
        'Starting the app',
        'Ready',
      ])
    })

    it('follows the latest progress event: earlier steps done, its own active, later ones waiting', () => {
      expect(states(startupSteps({ phase: 'Pending', podName: 'p' }, 'PULLING_IMAGE'))).to.deep.equal(['done', 'done', 'active', 'waiting', 'waiting'])
      expect(states(startupSteps({ phase: 'Pending', podName: 'p' }, 'STARTING'))).to.deep.equal(['done', 'done', 'done', 'active', 'waiting'])
    })

    it('shows every step done once the event says READY', () => {
      expect(states(startupSteps({ phase: 'Pending', podName: 'p' }, 'READY'))).to.deep.equal(['done', 'done', 'done', 'done', 'done'])
    })

    it('estimates from the session until the first event: waiting without a pod, scheduled with one, done when Running', () => {
      expect(states(startupSteps({ phase: 'Pending', podName: null }, null))).to.deep.equal(['active', 'waiting', 'waiting', 'waiting', 'waiting'])
      expect(states(startupSteps({ phase: 'Pending', podName: 'firefox-abc' }, null))).to.deep.equal(['done', 'active', 'waiting', 'waiting', 'waiting'])
      expect(states(startupSteps({ phase: 'Running', podName: 'firefox-abc' }, null))).to.deep.equal(['done', 'done', 'done', 'done', 'done'])
    })

    it('marks the step reached as failed when the event or the session says so', () => {
      expect(states(startupSteps({ phase: 'Pending', podName: 'p' }, 'FAILED'))).to.deep.equal(['done', 'failed', 'waiting', 'waiting', 'waiting'])
      expect(states(startupSteps({ phase: 'Failed', podName: null }, 'PULLING_IMAGE'))).to.deep.equal(['done', 'done', 'failed', 'waiting', 'waiting'])
      expect(states(startupSteps({ phase: 'Failed', podName: null }, null))).to.deep.equal(['failed', 'waiting', 'waiting', 'waiting', 'waiting'])
    })
  })

  describe('vncSocketUrl', () => {
    const globals = globalThis as { window?: unknown }
    before(() => {
      // The only browser API it reads: the page's address, to resolve relative session URLs against.
      globals.window = { location: { href: 'https://streamspace.example.com/sessions/s1' } }
    })
    after(() => {
      delete globals.window
    })

    it('turns the session URL into its websockify socket over the same security', () => {
      expect(vncSocketUrl('https://streamspace.example.com/s/alice-firefox')).to.equal('wss://streamspace.example.com/s/alice-firefox/websockify')
      expect(vncSocketUrl('http://localhost:8080/s/alice-firefox/')).to.equal('ws://localhost:8080/s/alice-firefox/websockify')
    })

    it("turns a gateway ticket URL into the app's socket carrying the ticket (host and path mode)", () => {
      expect(vncSocketUrl('https://abcdefghijklmnopqrstuvwxyz.apps.example.com/.streamspace/redeem?ticket=T-1_x&next=%2F')).to.equal(
        'wss://abcdefghijklmnopqrstuvwxyz.apps.example.com/websockify?ticket=T-1_x',
      )
      expect(vncSocketUrl('http://apps.localhost:8081/s/abcdefghijklmnopqrstuvwxyz/.streamspace/redeem?ticket=T&next=%2Fdesk%2F')).to.equal(
        'ws://apps.localhost:8081/s/abcdefghijklmnopqrstuvwxyz/desk/websockify?ticket=T',
      )
      // A next that would leave the session's path is ignored.
      expect(vncSocketUrl('https://x.apps.example.com/.streamspace/redeem?ticket=T&next=%2F%2Fevil.example%2F')).to.equal('wss://x.apps.example.com/websockify?ticket=T')
    })

    it("sends a hybrid session's desktop to the gateway's VNC path, whatever the web app's path", () => {
      expect(vncSocketUrl('https://x.apps.example.com/.streamspace/redeem?ticket=T&next=%2Fapp%2F', { hybrid: true })).to.equal('wss://x.apps.example.com/.streamspace/vnc/websockify?ticket=T')
      expect(vncSocketUrl('http://apps.localhost:8081/s/abcdefghijklmnopqrstuvwxyz/.streamspace/redeem?ticket=T&next=%2F', { hybrid: true })).to.equal(
        'ws://apps.localhost:8081/s/abcdefghijklmnopqrstuvwxyz/.streamspace/vnc/websockify?ticket=T',
      )
      expect(isGatewayUrl('https://x.apps.example.com/.streamspace/redeem?ticket=T')).to.equal(true)
      expect(isGatewayUrl('https://streamspace.example.com/s/alice-app/')).to.equal(false)
    })

    it('resolves a path against the page and keeps the query', () => {
      expect(vncSocketUrl('/s/bob-gimp/?token=abc')).to.equal('wss://streamspace.example.com/s/bob-gimp/websockify?token=abc')
    })
  })
})
