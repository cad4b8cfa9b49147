import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { SessionViewPage } from '../pages/session-view.page'
import { createTemplate, createUser, graphql, signInApi } from '../support/api'
import { launchBrowser, saveScreenshot } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { startVncDesktop } from '../support/vnc'
import type { VncDesktop } from '../support/vnc'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'dora', password: 'dora-e2e-password' }
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const KUBE_STEP_TIMEOUT_MS = 120_000

/** The colour of a canvas pixel at (x, y) as [r, g, b], read in the page. */
async function pixel(page: Page, xFraction: number, yFraction: number): Promise<[number, number, number]> {
  return page.evaluate(
    ({ xFraction, yFraction }) => {
      const canvas = document.querySelector('[data-testid="vnc-screen"] canvas') as HTMLCanvasElement | null
      if (!canvas || canvas.width === 0) throw new Error('no VNC canvas yet')
      const context = canvas.getContext('2d')
      if (!context) throw new Error('no 2d context')
      const data = context.getImageData(Math.floor(canvas.width * xFraction), Math.floor(canvas.height * yFraction), 1, 1).data
      return [data[0] ?? 0, data[1] ?? 0, data[2] ?? 0] as [number, number, number]
    },
    { xFraction, yFraction },
  )
}

function near(actual: [number, number, number], expected: [number, number, number]): boolean {
  return actual.every((v, i) => Math.abs(v - (expected[i] ?? 0)) <= 8)
}

describe('portal: a desktop session in the noVNC viewer (real Xvnc desktop behind websockify)', function () {
  let server: RunningServer
  let desktop: VncDesktop
  let browser: BrowserSession
  let page: Page

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    desktop = await startVncDesktop('portal-desktop-vnc')
    desktop.paint('#3366cc')
    server = await startServer({
      name: 'portal-desktop-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        STREAMSPACE_ADMIN_USERNAME: 'admin',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        // The configuration without the session gateway: sessions reached at http://<host>/sessions/<name>/ as
        // behind a path-routing ingress; the host is the websockify bridge in front of a real VNC desktop (kwok pods
        // run no containers). The gateway's path is covered on the real node (portal-real-desktop.e2e.ts).
        STREAMSPACE_GATEWAY_MODE: 'off',
        STREAMSPACE_SESSION_INGRESS: 'path',
        STREAMSPACE_SESSION_HOST: desktop.host,
      },
    })
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    await createTemplate(server.origin, admin, {
      name: 'linux-desktop',
      displayName: 'Linux Desktop',
      description: 'A full desktop over VNC.',
      category: 'Desktops',
      appType: 'desktop',
    })
    browser = await launchBrowser()
    page = browser.page
  })

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
    await desktop?.stop()
  })

  it('launches the desktop and shows it in the noVNC viewer, connected (an older, late answer does not win)', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS + 60_000)
    const login = new LoginPage(page)
    await login.open(server.origin)
    await login.signIn(USER.username, USER.password)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    // A network accident the view must survive: the first read of the session (SessionView over HTTP) is
    // answered as it was before the pod was Ready and delivered late, after the socket already brought the
    // Running session. The older answer must not win (the view would stay on "Starting" for good).
    let sessionReads = 0
    let heldAnswerPhase = ''
    await page.route('**/graphql', async (route) => {
      const request = route.request()
      const body = request.method() === 'POST' ? (request.postData() ?? '') : ''
      if (!body.includes('"operationName":"SessionView"') || sessionReads++ > 0) {
        await route.fallback()
        return
      }
      const response = await route.fetch()
      const answer = (await response.json()) as { data?: { session?: Record<string, unknown> & { id: string; createdAt: string } } }
      const read = answer.data?.session
      if (read) {
        // The version of the session from before its pod was Ready (what a read a moment earlier returned).
        Object.assign(read, { phase: 'Pending', url: null, podName: null, conditions: [], updatedAt: read.createdAt })
        heldAnswerPhase = String(read['phase'])
        const user = await signInApi(server.origin, USER.username, USER.password)
        await waitFor(
          'the session to run',
          async () => {
            const now = await graphql<{ session: { phase: string } }>(server.origin, user, 'query E2eRunning($id: ID!) { session(id: $id) { phase } }', { id: read.id })
            return now.session.phase === 'Running' ? true : undefined
          },
          { timeoutMs: KUBE_STEP_TIMEOUT_MS },
        )
        // Give the socket time to bring the Running session first.
        await new Promise((resolve) => setTimeout(resolve, 1500))
      }
      await route.fulfill({ response, json: answer })
    })
    await launcher.launch('Linux Desktop')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    await view.vnc.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    expect(heldAnswerPhase, 'the first read was answered late with the Pending session').to.equal('Pending')
    expect(sessionReads, 'the overtaken answer made the view read the session again').to.be.greaterThan(1)
    await page.unroute('**/graphql')
    await waitFor('the status chip to say Connected', async () => ((await view.statusText()) === 'Connected' ? true : undefined), { timeoutMs: 30_000 })
    // The viewer's canvas shows the real desktop's pixels: the background painted before the launch.
    await waitFor('the desktop background (#3366cc) in the viewer', async () => (near(await pixel(page, 0.5, 0.5), [0x33, 0x66, 0xcc]) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '01-desktop-connected')
  })

  it('follows the desktop live: a change on the desktop reaches the viewer', async function () {
    desktop.paint('#cc6633')
    await waitFor('the new background (#cc6633) in the viewer', async () => (near(await pixel(page, 0.25, 0.75), [0xcc, 0x66, 0x33]) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '01-desktop-repainted')
  })

  it('reconnects by itself when the desktop comes back; after repeated failures it says the desktop was lost and Reconnect brings it back', async function () {
    this.timeout(180_000)
    const view = new SessionViewPage(page)
    // A blip: the view retries by itself (0.5 s, 1 s, 2 s, ...) and is back once the desktop is.
    await desktop.stopDisplay()
    await waitFor('the status chip to say Reconnecting', async () => ((await view.statusText()) === 'Reconnecting' ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '01-desktop-reconnecting')
    await desktop.startDisplay()
    desktop.paint('#9933cc')
    await waitFor('the status chip to say Connected again by itself', async () => ((await view.statusText()) === 'Connected' ? true : undefined), { timeoutMs: 60_000 })
    await waitFor('the desktop (#9933cc) in the viewer again', async () => (near(await pixel(page, 0.5, 0.5), [0x99, 0x33, 0xcc]) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '02-desktop-reconnected-by-itself')

    // A desktop that stays away: after its automatic attempts the view says so and waits for the user.
    await desktop.stopDisplay()
    await waitFor('the status chip to say Disconnected after the automatic attempts', async () => ((await view.statusText()) === 'Disconnected' ? true : undefined), { timeoutMs: 120_000 })
    const lost = page.getByTestId('connection-lost')
    await lost.waitFor({ state: 'visible' })
    expect(await lost.innerText()).to.match(/connection to the desktop was lost|desktop closed the connection/i)
    await saveScreenshot(page, this.test!.fullTitle(), '03-desktop-lost')

    await desktop.startDisplay()
    desktop.paint('#33cc66')
    await lost.getByTestId('session-reconnect').click()
    await waitFor('the status chip to say Connected again', async () => ((await view.statusText()) === 'Connected' ? true : undefined), { timeoutMs: 30_000 })
    await waitFor('the desktop (#33cc66) in the viewer again', async () => (near(await pixel(page, 0.5, 0.5), [0x33, 0xcc, 0x66]) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '04-desktop-reconnected')
  })
})
