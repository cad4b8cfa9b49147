import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { MySessionsPage } from '../pages/my-sessions.page'
import { SessionViewPage } from '../pages/session-view.page'
import { ShareDialogPage } from '../pages/share-dialog.page'
import { createTemplate, createUser, graphql, signInApi } from '../support/api'
import { launchBrowser, saveScreenshot, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const OWNER = { username: 'olivia', password: 'olivia-e2e-password' }
const VIEWER = { username: 'victor', password: 'victor-e2e-password' }
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const KUBE_STEP_TIMEOUT_MS = 120_000

/** A second person in their own browser (own profile, own cookies). */
async function signedIn(origin: string, who: { username: string; password: string }): Promise<{ browser: BrowserSession; page: Page }> {
  const browser = await launchBrowser()
  const login = new LoginPage(browser.page)
  await login.open(origin)
  await login.signIn(who.username, who.password)
  await new LauncherPage(browser.page).waitUntilLoaded()
  return { browser, page: browser.page }
}

describe('portal: an owner shares a session with a viewer, who opens it from "Shared with me" until removed', function () {
  let server: RunningServer
  let owner: { browser: BrowserSession; page: Page }
  let viewer: { browser: BrowserSession; page: Page }
  let sessionId = ''

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'portal-sharing-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        STREAMSPACE_ADMIN_USERNAME: 'admin',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STREAMSPACE_HEARTBEAT_INTERVAL: '2s',
      },
    })
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, OWNER.username, OWNER.password)
    await createUser(server.origin, admin, VIEWER.username, VIEWER.password)
    await createTemplate(server.origin, admin, { name: 'notes', displayName: 'Notes', description: 'Take notes and share them.', category: 'Office', appType: 'webapp' })
  })

  after(async function () {
    this.timeout(120_000)
    await viewer?.browser.close()
    await owner?.browser.close()
    await stopCleanly(server)
  })

  it('the owner launches a session and shares it with a second user as viewer', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS + 60_000)
    owner = await signedIn(server.origin, OWNER)
    await new LauncherPage(owner.page).launch('Notes')
    await owner.page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(owner.page)
    sessionId = view.sessionId()
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })

    const dialog = new ShareDialogPage(owner.page)
    await dialog.open.click()
    await dialog.dialog.waitFor({ state: 'visible' })
    // A name nobody has is refused with a clear message.
    await dialog.username.fill('nobody-here')
    await dialog.add.click()
    await dialog.error.waitFor({ state: 'visible' })
    expect(await dialog.error.innerText()).to.contain('No user is called "nobody-here"')
    await dialog.share(VIEWER.username, 'Viewer')
    expect(await dialog.entry(VIEWER.username).innerText()).to.contain('Viewer')
    await saveScreenshot(owner.page, testName(this), '01-owner-shared-with-viewer')
  })

  it('the viewer finds it under "Shared with me", opens it view-only, and the owner sees them connected', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS)
    viewer = await signedIn(server.origin, VIEWER)
    const mySessions = new MySessionsPage(viewer.page)
    await mySessions.open(server.origin)
    const card = viewer.page.getByTestId(`shared-${sessionId}`)
    await card.waitFor({ state: 'visible' })
    expect(await card.getByTestId('shared-role').innerText()).to.contain('Viewer')
    expect(await card.innerText()).to.contain(`owner ${OWNER.username}`)
    await saveScreenshot(viewer.page, testName(this), '01-shared-with-me')

    await card.getByTestId('shared-open').click()
    await viewer.page.waitForURL(new RegExp(`/sessions/${sessionId}$`))
    const view = new SessionViewPage(viewer.page)
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    // Through the gateway, with the viewer's own single-use ticket.
    expect(await view.frame.getAttribute('src')).to.match(/^http:\/\/[a-z2-7]{26}\.apps\.localhost:\d+\/\.streamspace\/redeem\?ticket=[\w-]{43}&next=%2F$/)
    await viewer.page.getByTestId('session-view-only').waitFor({ state: 'visible' })
    expect(await viewer.page.getByTestId('session-share').count(), 'a viewer cannot share').to.equal(0)
    await saveScreenshot(viewer.page, testName(this), '02-viewer-session-view')

    const dialog = new ShareDialogPage(owner.page)
    await dialog.entry(VIEWER.username).getByTestId('share-connected').waitFor({ state: 'visible', timeout: 30_000 })
    await saveScreenshot(owner.page, testName(this), '03-owner-sees-viewer-connected')
  })

  it('the owner removes the viewer: their view ends at once and their connection is closed', async function () {
    const dialog = new ShareDialogPage(owner.page)
    await dialog.remove(VIEWER.username)
    const ended = viewer.page.getByTestId('session-unshared')
    await ended.waitFor({ state: 'visible', timeout: 5_000 })
    expect((await new SessionViewPage(viewer.page).statusText()).trim()).to.equal('No access')
    expect(await viewer.page.getByTestId('session-frame').count(), 'the app is gone from the viewer\'s page').to.equal(0)
    await saveScreenshot(viewer.page, testName(this), '01-viewer-removed')
    await saveScreenshot(owner.page, testName(this), '02-owner-after-removal')

    const ownerApi = await signInApi(server.origin, OWNER.username, OWNER.password)
    await waitFor('the viewer\'s connection to end', async () => {
      const { sessionConnections } = await graphql<{ sessionConnections: { user: string | null; disconnectReason: string | null }[] }>(
        server.origin,
        ownerApi,
        'query E2eShareConnections($id: ID!) { sessionConnections(sessionId: $id, includeEnded: true) { user disconnectReason } }',
        { id: sessionId },
      )
      const his = sessionConnections.filter((c) => c.user === VIEWER.username)
      return his.length > 0 && his.every((c) => c.disconnectReason !== null) ? his : undefined
    })
    // The session is gone from their list and reading it answers NOT_FOUND.
    const viewerApi = await signInApi(server.origin, VIEWER.username, VIEWER.password)
    const { sharedWithMe } = await graphql<{ sharedWithMe: unknown[] }>(server.origin, viewerApi, 'query E2eSharedWithMe { sharedWithMe { role } }')
    expect(sharedWithMe).to.deep.equal([])
    const refused = await graphql<unknown>(server.origin, viewerApi, 'query E2eSharedSession($id: ID!) { session(id: $id) { id } }', { id: sessionId }).then(
      () => 'answered',
      (err: Error) => err.message,
    )
    expect(refused).to.match(/not found/i)
  })
})
