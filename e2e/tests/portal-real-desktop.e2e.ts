import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminClusterPage } from '../pages/admin-cluster.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { SessionViewPage } from '../pages/session-view.page'
import { createUser, graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { launchBrowser, saveScreenshot } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { freePort, startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'rita', password: 'rita-e2e-password' }
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const NAMESPACE = 'streamspace'
/** The demo desktop's background (scripts/images/files/desktop-start.sh). */
const BACKGROUND: [number, number, number] = [0x2e, 0x5d, 0x8a]

async function pixel(page: Page, xFraction: number, yFraction: number): Promise<[number, number, number]> {
  return page.evaluate(
    ({ xFraction, yFraction }) => {
      const canvas = document.querySelector('[data-testid="vnc-screen"] canvas') as HTMLCanvasElement | null
      if (!canvas || canvas.width === 0) throw new Error('no VNC canvas yet')
      const data = canvas.getContext('2d')!.getImageData(Math.floor(canvas.width * xFraction), Math.floor(canvas.height * yFraction), 1, 1).data
      return [data[0] ?? 0, data[1] ?? 0, data[2] ?? 0] as [number, number, number]
    },
    { xFraction, yFraction },
  )
}

function near(actual: [number, number, number], expected: [number, number, number]): boolean {
  return actual.every((v, i) => Math.abs(v - (expected[i] ?? 0)) <= 8)
}

describe('portal: the demo desktop runs for real on the local real node (Xvnc in a pod, noVNC in Chromium)', function () {
  let server: RunningServer
  let gatewayPort = 0
  let admin: ApiSession
  let browser: BrowserSession
  let page: Page
  let desktopSessionId = ''

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    // Sessions are reached only through the platform's session gateway (on by default): every session on its own
    // host of the apps domain, http://<random id>.apps.localhost:<gateway port>, which Chromium resolves to loopback.
    gatewayPort = await freePort()
    server = await startServer({
      name: 'portal-real-desktop-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        STREAMSPACE_LOCAL_REAL_NODE: 'auto',
        STREAMSPACE_ADMIN_USERNAME: 'admin',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STREAMSPACE_GATEWAY_PORT: String(gatewayPort),
      },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    // The demo templates exist only when the real node runs: otherwise fail with the server's one-line reason.
    await waitFor('the demo desktop template', async () => {
      const { templates } = await graphql<{ templates: { name: string }[] }>(server.origin, admin, '{ templates { name } }')
      if (templates.some((t) => t.name === 'demo-desktop')) return true
      const reason = /real node unavailable[^"\n]*/.exec(readFileSync(server.logFile, 'utf8'))?.[0]
      if (reason) throw new Error(reason)
      return undefined
    }, { timeoutMs: 60_000 })
    await createUser(server.origin, admin, USER.username, USER.password)
    browser = await launchBrowser()
    page = browser.page
  })

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('launches the demo desktop: the pod runs Xvnc and the viewer shows its real pixels', async function () {
    this.timeout(180_000)
    const login = new LoginPage(page)
    await login.open(server.origin)
    await login.signIn(USER.username, USER.password)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await launcher.launch('Demo Desktop')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    desktopSessionId = view.sessionId()
    await view.vnc.waitFor({ state: 'attached', timeout: 120_000 })
    await waitFor('the status chip to say Connected', async () => ((await view.statusText()) === 'Connected' ? true : undefined), { timeoutMs: 60_000 })
    // Bottom right: the root window's background, painted by xsetroot in the pod.
    await waitFor('the desktop background in the viewer', async () => (near(await pixel(page, 0.9, 0.9), BACKGROUND) ? true : undefined), { timeoutMs: 30_000 })
    // The xterm (top left, white) is there too: a real X client drew it.
    const term = await pixel(page, 0.15, 0.2)
    expect(near(term, BACKGROUND), `xterm pixels differ from the background (${term.join(',')})`).to.equal(false)
    await saveScreenshot(page, this.test!.fullTitle(), '01-real-desktop')
  })

  it('typing into the xterm changes the screen (a command repaints the desktop)', async function () {
    this.timeout(60_000)
    const canvas = page.locator('[data-testid="vnc-screen"] canvas')
    const box = (await canvas.boundingBox())!
    // twm gives the focus to the window under the pointer.
    await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * 0.2)
    await page.mouse.click(box.x + box.width * 0.15, box.y + box.height * 0.2)
    await page.keyboard.type("xsetroot -solid '#cc6633'", { delay: 20 })
    await page.keyboard.press('Enter')
    await waitFor('the repainted background (#cc6633)', async () => (near(await pixel(page, 0.9, 0.9), [0xcc, 0x66, 0x33]) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(page, this.test!.fullTitle(), '02-typed-into-xterm')
  })

  it("the admin console's pod shell runs in the desktop's real pod: typed input gives real output", async function () {
    this.timeout(120_000)
    const rita = await signInApi(server.origin, USER.username, USER.password)
    const { session } = await graphql<{ session: { podName: string | null } }>(server.origin, rita, 'query E2eSess($id: ID!) { session(id: $id) { podName } }', { id: desktopSessionId })
    const podName = session.podName
    expect(podName, 'the running desktop has a pod').to.be.a('string')
    const admin2 = await launchBrowser()
    try {
      const apage = admin2.page
      const login = new AdminLoginPage(apage)
      await login.open(server.origin)
      await login.signIn('admin', ADMIN_PASSWORD)
      await apage.waitForURL(new RegExp(`^${server.origin}/admin/$`))
      await new AdminShellPage(apage).navigate('cluster')
      const cluster = new AdminClusterPage(apage)
      await cluster.openResources()
      await cluster.selectKind('Pod')
      await cluster.selectNamespace(NAMESPACE)
      await cluster.row(podName!).waitFor({ state: 'visible', timeout: 30_000 })
      await cluster.openPodTools(podName!)
      const dialog = apage.getByTestId('pod-tools-dialog')
      await dialog.getByRole('tab', { name: 'Shell' }).click()
      await dialog.getByRole('button', { name: 'Open shell' }).click()
      const terminal = dialog.getByRole('application', { name: `Terminal in ${podName}` })
      await terminal.waitFor({ state: 'visible' })
      const screenText = async () => (await terminal.locator('.xterm-accessibility-tree').innerText().catch(() => '')).replace(/\u00a0/g, ' ')
      // The shell's prompt comes from the container (sh in the pod): wait for it before typing.
      await waitFor('the shell prompt', async () => (/[$#]\s*$/m.test(await screenText()) ? true : undefined), { timeoutMs: 60_000 })
      await terminal.click()
      await apage.keyboard.type('echo $((6*7))', { delay: 20 })
      await apage.keyboard.press('Enter')
      const text = await waitFor('the command output 42', async () => {
        const t = await screenText()
        return /^42\s*$/m.test(t) ? t : undefined
      }, { timeoutMs: 30_000 }).catch(async (err: Error) => {
        await saveScreenshot(apage, this.test!.fullTitle(), '03-admin-pod-shell-failed')
        throw new Error(`${err.message}; terminal shows: ${JSON.stringify(await screenText())}`)
      })
      // The echoed command line is on screen too: 42 is the shell's arithmetic, not the typed text.
      expect(text).to.include('echo $((6*7))')
      await saveScreenshot(apage, this.test!.fullTitle(), '03-admin-pod-shell')
    } finally {
      await admin2.close()
    }
  })

  it("the demo web app opens in the portal's iframe and shows the page served by its real pod", async function () {
    this.timeout(180_000)
    await page.goto(`${server.origin}/`)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await launcher.launch('Demo Web App')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    await view.frame.waitFor({ state: 'attached', timeout: 120_000 })
    const rita = await signInApi(server.origin, USER.username, USER.password)
    const { session } = await graphql<{ session: { name: string; podName: string | null; url: string | null } }>(server.origin, rita, 'query E2eSess($id: ID!) { session(id: $id) { name podName url } }', { id: view.sessionId() })
    // The frame opens the gateway's single-use ticket URL on the session's own host; the session's in-cluster name
    // is only its status (it has no Service: the gateway reaches the pod by address).
    expect(session.url).to.match(/^http:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc:\d+\/$/)
    const src = (await view.frame.getAttribute('src'))!
    expect(src).to.match(new RegExp(`^http://[a-z2-7]{26}\\.apps\\.localhost:${gatewayPort}/\\.streamspace/redeem\\?ticket=[\\w-]{43}&next=%2F$`))
    const app = page.frameLocator('[data-testid="session-frame"]')
    await app.locator('#greeting').waitFor({ state: 'visible', timeout: 60_000 })
    expect((await app.locator('#greeting').innerText()).trim()).to.equal('Hello from a real container')
    // The page names where it came from: the start script writes the pod's hostname (the session's name) into it.
    expect(session.podName).to.match(new RegExp(`^${session.name}-`))
    expect((await app.locator('#pod').innerText()).trim()).to.equal(session.name)
    await saveScreenshot(page, this.test!.fullTitle(), '04-real-webapp')

    // Another browser (no session, not signed in): the spent ticket URL and the session's bare address give
    // nothing of the app.
    const stranger = await launchBrowser()
    try {
      const replay = await stranger.page.goto(src)
      expect(replay?.status()).to.equal(401)
      expect(await stranger.page.content()).not.to.contain('Hello from a real container')
      const bare = await stranger.page.goto(`${new URL(src).origin}/`)
      expect(bare?.status()).to.equal(401)
      expect(await stranger.page.content()).not.to.contain('Hello from a real container')
      await saveScreenshot(stranger.page, this.test!.fullTitle(), '05-stranger-refused')
    } finally {
      await stranger.close()
    }
  })
})
