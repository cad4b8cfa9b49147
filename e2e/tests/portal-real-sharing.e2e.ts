import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminGroupsPage } from '../pages/admin-groups.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { MySessionsPage } from '../pages/my-sessions.page'
import { SessionViewPage } from '../pages/session-view.page'
import { ShareDialogPage } from '../pages/share-dialog.page'
import { createUser, graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { launchBrowser, saveScreenshot } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { freePort, startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const OWNER = { username: 'olga', password: 'olga-e2e-password' }
const VIEWER = { username: 'vera', password: 'vera-e2e-password' }
const GROUP = 'reviewers'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
/** The demo desktop's background (scripts/images/files/desktop-start.sh). */
const BACKGROUND: [number, number, number] = [0x2e, 0x5d, 0x8a]
/** What the typed command would paint the background with. */
const TYPED: [number, number, number] = [0xcc, 0x66, 0x33]
const COMMAND = "xsetroot -solid '#cc6633'"

type Rgb = [number, number, number]

async function pixel(page: Page, xFraction: number, yFraction: number): Promise<Rgb> {
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

/** The canvas's size, its number of distinct colours and the variance of its luminance over a 32 x 18 grid: a blank frame has one colour and no variance. */
async function canvasStats(page: Page): Promise<{ width: number; height: number; colours: number; variance: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="vnc-screen"] canvas') as HTMLCanvasElement | null
    if (!canvas || canvas.width === 0) throw new Error('no VNC canvas yet')
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
    const colours = new Set<number>()
    const lum: number[] = []
    for (let gy = 0; gy < 18; gy++) {
      for (let gx = 0; gx < 32; gx++) {
        const x = Math.floor(((gx + 0.5) / 32) * canvas.width)
        const y = Math.floor(((gy + 0.5) / 18) * canvas.height)
        const i = (y * canvas.width + x) * 4
        const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0]
        colours.add((r << 16) | (g << 8) | b)
        lum.push(0.299 * r + 0.587 * g + 0.114 * b)
      }
    }
    const mean = lum.reduce((a, b) => a + b, 0) / lum.length
    const variance = lum.reduce((a, b) => a + (b - mean) ** 2, 0) / lum.length
    return { width: canvas.width, height: canvas.height, colours: colours.size, variance }
  })
}

function near(actual: Rgb, expected: Rgb): boolean {
  return actual.every((v, i) => Math.abs(v - (expected[i] ?? 0)) <= 8)
}

/** The desktop's socket URL for a gateway ticket URL (as the portal's viewer derives it: the socket carries the ticket). */
function socketUrl(ticketUrl: string): string {
  const url = new URL(ticketUrl)
  const next = url.searchParams.get('next') ?? '/'
  return `ws://${url.host}${next.endsWith('/') ? next : `${next}/`}websockify?ticket=${url.searchParams.get('ticket') ?? ''}`
}

/**
 * A raw RFB client in the page (not noVNC, which sends no input in view-only mode): a handshake as a shared client,
 * then a click on the xterm and `COMMAND` + Enter as key events. What the desktop does with them shows whether the
 * gateway let them through. Returns the desktop's size and name from ServerInit.
 */
async function typeThroughRawSocket(page: Page, url: string, command: string): Promise<{ width: number; height: number; name: string }> {
  return page.evaluate(
    async ({ url, command }) => {
      const ws = new WebSocket(url, ['binary'])
      ws.binaryType = 'arraybuffer'
      let buffer = new Uint8Array(0)
      let wake: (() => void) | null = null
      let failed: string | null = null
      ws.onmessage = (e) => {
        const chunk = new Uint8Array(e.data as ArrayBuffer)
        const next = new Uint8Array(buffer.length + chunk.length)
        next.set(buffer)
        next.set(chunk, buffer.length)
        buffer = next
        wake?.()
      }
      ws.onclose = (e) => {
        failed = `socket closed (${e.code} ${e.reason})`
        wake?.()
      }
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve()
        ws.onerror = () => reject(new Error('the socket did not open'))
      })
      const read = async (n: number): Promise<Uint8Array> => {
        const deadline = Date.now() + 10_000
        while (buffer.length < n) {
          if (failed) throw new Error(failed)
          if (Date.now() > deadline) throw new Error(`timed out reading ${n} bytes`)
          await new Promise<void>((r) => {
            wake = r
            setTimeout(r, 200)
          })
        }
        const out = buffer.slice(0, n)
        buffer = buffer.slice(n)
        return out
      }
      const version = await read(12)
      ws.send(version)
      const count = (await read(1))[0] ?? 0
      if (!count) throw new Error('the desktop refused the handshake')
      const types = await read(count)
      if (!types.includes(1)) throw new Error(`the desktop wants security types ${[...types].join(',')}, not None`)
      ws.send(new Uint8Array([1]))
      const result = new DataView((await read(4)).buffer).getUint32(0)
      if (result !== 0) throw new Error(`security result ${result}`)
      ws.send(new Uint8Array([1])) // ClientInit: shared
      const init = new DataView((await read(24)).buffer)
      const width = init.getUint16(0)
      const height = init.getUint16(2)
      const name = new TextDecoder().decode(await read(init.getUint32(20)))
      const msg = (bytes: number[]) => ws.send(new Uint8Array(bytes))
      const pointer = (mask: number, x: number, y: number) => msg([5, mask, x >> 8, x & 255, y >> 8, y & 255])
      const key = (down: boolean, sym: number) => msg([4, down ? 1 : 0, 0, 0, (sym >>> 24) & 255, (sym >>> 16) & 255, (sym >>> 8) & 255, sym & 255])
      // twm focuses the window under the pointer: move onto the xterm and click.
      const [x, y] = [Math.floor(width * 0.15), Math.floor(height * 0.2)]
      pointer(0, x, y)
      pointer(1, x, y)
      pointer(0, x, y)
      for (const ch of command) {
        key(true, ch.charCodeAt(0))
        key(false, ch.charCodeAt(0))
      }
      key(true, 0xff0d)
      key(false, 0xff0d)
      // Let the last messages leave before closing.
      await new Promise((r) => setTimeout(r, 500))
      ws.close()
      return { width, height, name }
    },
    { url, command },
  )
}

/** A person in their own browser (own profile, own cookies), signed in to the portal. */
async function signedIn(origin: string, who: { username: string; password: string }): Promise<{ browser: BrowserSession; page: Page }> {
  const browser = await launchBrowser()
  const login = new LoginPage(browser.page)
  await login.open(origin)
  await login.signIn(who.username, who.password)
  await new LauncherPage(browser.page).waitUntilLoaded()
  return { browser, page: browser.page }
}

describe('portal on the real node: an owner shares the real desktop with a group; a member sees its pixels view-only until removed from the group', function () {
  let server: RunningServer
  let admin: ApiSession
  let groupId = ''
  let owner: { browser: BrowserSession; page: Page }
  let viewer: { browser: BrowserSession; page: Page }
  let sessionId = ''

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'portal-real-sharing-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        STREAMSPACE_LOCAL_REAL_NODE: 'auto',
        STREAMSPACE_ADMIN_USERNAME: 'admin',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STREAMSPACE_GATEWAY_PORT: String(await freePort()),
        STREAMSPACE_HEARTBEAT_INTERVAL: '2s',
      },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await waitFor('the demo desktop template', async () => {
      const { templates } = await graphql<{ templates: { name: string }[] }>(server.origin, admin, '{ templates { name } }')
      if (templates.some((t) => t.name === 'demo-desktop')) return true
      const reason = /real node unavailable[^"\n]*/.exec(readFileSync(server.logFile, 'utf8'))?.[0]
      if (reason) throw new Error(reason)
      return undefined
    }, { timeoutMs: 60_000 })
    await createUser(server.origin, admin, OWNER.username, OWNER.password)
    await createUser(server.origin, admin, VIEWER.username, VIEWER.password)
    const { createGroup } = await graphql<{ createGroup: { id: string } }>(server.origin, admin, 'mutation E2eCreateGroup($n: String!) { createGroup(input: { name: $n, description: "Review the work" }) { id } }', { n: GROUP })
    groupId = createGroup.id
    await graphql(server.origin, admin, 'mutation E2eAddMember($g: ID!, $u: String!) { addGroupMember(groupId: $g, username: $u) { id } }', { g: groupId, u: VIEWER.username })
  })

  after(async function () {
    this.timeout(120_000)
    await viewer?.browser.close()
    await owner?.browser.close()
    await stopCleanly(server)
  })

  it('the owner launches the real desktop and shares it with the group as viewer', async function () {
    this.timeout(240_000)
    owner = await signedIn(server.origin, OWNER)
    await new LauncherPage(owner.page).launch('Demo Desktop')
    await owner.page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(owner.page)
    sessionId = view.sessionId()
    await view.vnc.waitFor({ state: 'attached', timeout: 180_000 })
    await waitFor('the desktop background in the owner\'s viewer', async () => (near(await pixel(owner.page, 0.9, 0.9), BACKGROUND) ? true : undefined), { timeoutMs: 60_000 })

    const dialog = new ShareDialogPage(owner.page)
    await dialog.open.click()
    await dialog.dialog.waitFor({ state: 'visible' })
    await dialog.shareWithGroup(GROUP, 'Viewer')
    const entry = await dialog.groupEntry(GROUP).innerText()
    expect(entry).to.contain('Viewer')
    expect(entry).to.contain('1 member')
    await saveScreenshot(owner.page, this.test!.fullTitle(), '01-owner-shared-with-group')
    await owner.page.getByTestId('share-close').click()
  })

  it('the member opens it from "Shared with me" and sees the real desktop\'s pixels, view-only', async function () {
    this.timeout(120_000)
    viewer = await signedIn(server.origin, VIEWER)
    await new MySessionsPage(viewer.page).open(server.origin)
    const card = viewer.page.getByTestId(`shared-${sessionId}`)
    await card.waitFor({ state: 'visible' })
    expect(await card.getByTestId('shared-via-group').innerText()).to.contain(GROUP)
    await card.getByTestId('shared-open').click()
    await viewer.page.waitForURL(new RegExp(`/sessions/${sessionId}$`))
    const view = new SessionViewPage(viewer.page)
    await viewer.page.getByTestId('session-view-only').waitFor({ state: 'visible' })
    await view.vnc.waitFor({ state: 'attached', timeout: 60_000 })
    await waitFor('the desktop background in the viewer\'s noVNC', async () => (near(await pixel(viewer.page, 0.9, 0.9), BACKGROUND) ? true : undefined), { timeoutMs: 60_000 })
    const stats = await canvasStats(viewer.page)
    console.log(`      viewer canvas ${stats.width}x${stats.height}: ${stats.colours} colours on a 32x18 grid, luminance variance ${stats.variance.toFixed(1)}`)
    // Not blank: the background and the xterm (a real X client) at least, so more than one colour and a spread of luminance.
    expect(stats.width).to.be.greaterThan(0)
    expect(stats.colours, 'distinct colours on the viewer\'s canvas').to.be.greaterThan(1)
    expect(stats.variance, 'luminance variance on the viewer\'s canvas').to.be.greaterThan(100)
    expect(near(await pixel(viewer.page, 0.15, 0.2), BACKGROUND), 'the xterm is drawn on the viewer\'s canvas').to.equal(false)
    await saveScreenshot(viewer.page, this.test!.fullTitle(), '01-viewer-sees-real-desktop')
  })

  it("the viewer's typing never reaches the desktop (noVNC's keys and raw RFB key events through the gateway); the owner's does, and the viewer sees it", async function () {
    this.timeout(120_000)
    // 1. Typing into the viewer's noVNC, as a person would.
    const canvas = viewer.page.locator('[data-testid="vnc-screen"] canvas')
    const box = (await canvas.boundingBox())!
    await viewer.page.mouse.click(box.x + box.width * 0.15, box.y + box.height * 0.2)
    await viewer.page.keyboard.type(COMMAND, { delay: 20 })
    await viewer.page.keyboard.press('Enter')
    // 2. Raw key events on the viewer's own socket (their own ticket): the gateway drops them.
    const viewerApi = await signInApi(server.origin, VIEWER.username, VIEWER.password)
    const { connectSession: viewerConn } = await graphql<{ connectSession: { connectionId: string; url: string } }>(
      server.origin,
      viewerApi,
      'mutation E2eViewerConnect($id: ID!) { connectSession(id: $id) { connectionId url } }',
      { id: sessionId },
    )
    const init = await typeThroughRawSocket(viewer.page, socketUrl(viewerConn.url), COMMAND)
    expect(init.width).to.be.greaterThan(0)
    await graphql(server.origin, viewerApi, 'mutation E2eViewerDisconnect($id: ID!) { disconnectSession(connectionId: $id) { id } }', { id: viewerConn.connectionId })
    // A command reaching the xterm repaints the background within a second or two; give it more, then look.
    await new Promise((r) => setTimeout(r, 4000))
    const ownerAfter = await pixel(owner.page, 0.9, 0.9)
    expect(near(ownerAfter, BACKGROUND), `the owner's desktop is unchanged (${ownerAfter.join(',')})`).to.equal(true)
    expect(near(await pixel(viewer.page, 0.9, 0.9), BACKGROUND)).to.equal(true)
    await saveScreenshot(owner.page, this.test!.fullTitle(), '01-owner-unchanged-after-viewer-typed')

    // 3. The same raw client on the owner's socket: the same bytes do reach the desktop (the check above can fail),
    //    and the viewer sees the change live.
    const ownerApi = await signInApi(server.origin, OWNER.username, OWNER.password)
    const { connectSession: ownerConn } = await graphql<{ connectSession: { connectionId: string; url: string } }>(
      server.origin,
      ownerApi,
      'mutation E2eOwnerConnect($id: ID!) { connectSession(id: $id) { connectionId url } }',
      { id: sessionId },
    )
    await typeThroughRawSocket(owner.page, socketUrl(ownerConn.url), COMMAND)
    await graphql(server.origin, ownerApi, 'mutation E2eOwnerDisconnect($id: ID!) { disconnectSession(connectionId: $id) { id } }', { id: ownerConn.connectionId })
    await waitFor("the owner's typed command repaints the desktop", async () => (near(await pixel(owner.page, 0.9, 0.9), TYPED) ? true : undefined), { timeoutMs: 30_000 })
    await waitFor('the viewer sees the repaint', async () => (near(await pixel(viewer.page, 0.9, 0.9), TYPED) ? true : undefined), { timeoutMs: 30_000 })
    await saveScreenshot(viewer.page, this.test!.fullTitle(), '02-viewer-sees-owner-typing')
  })

  it('an admin removes the member from the group in the console: the viewer\'s page says "no longer shared" at once', async function () {
    this.timeout(120_000)
    const adminBrowser = await launchBrowser()
    try {
      const apage = adminBrowser.page
      const login = new AdminLoginPage(apage)
      await login.open(server.origin)
      await login.signIn('admin', ADMIN_PASSWORD)
      await apage.waitForURL(new RegExp(`^${server.origin}/admin/$`))
      await new AdminShellPage(apage).navigate('groups')
      const groups = new AdminGroupsPage(apage)
      await groups.row(GROUP).waitFor({ state: 'visible' })
      await groups.openMembers(GROUP)
      await groups.removeMember(GROUP, VIEWER.username)
      await saveScreenshot(apage, this.test!.fullTitle(), '01-admin-removed-member')
    } finally {
      await adminBrowser.close()
    }
    const ended = viewer.page.getByTestId('session-unshared')
    await ended.waitFor({ state: 'visible', timeout: 10_000 })
    expect(await ended.innerText()).to.contain('no longer shared')
    expect((await new SessionViewPage(viewer.page).statusText()).trim()).to.equal('No access')
    expect(await viewer.page.getByTestId('vnc-screen').count(), "the desktop is gone from the viewer's page").to.equal(0)
    await saveScreenshot(viewer.page, this.test!.fullTitle(), '02-viewer-no-longer-shared')
    // The owner's view goes on.
    expect(near(await pixel(owner.page, 0.9, 0.9), TYPED)).to.equal(true)
    const viewerApi = await signInApi(server.origin, VIEWER.username, VIEWER.password)
    const { sharedWithMe } = await graphql<{ sharedWithMe: unknown[] }>(server.origin, viewerApi, 'query E2eSharedWithMe { sharedWithMe { role } }')
    expect(sharedWithMe).to.deep.equal([])
  })
})
