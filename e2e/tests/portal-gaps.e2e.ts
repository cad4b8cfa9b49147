import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminLoginPage } from '../pages/admin-login.page'
import { CatalogPage } from '../pages/catalog.page'
import { ChangePasswordPage } from '../pages/change-password.page'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { SessionViewPage } from '../pages/session-view.page'
import { expectAccessible } from '../support/accessibility'
import { createTemplate, createUser, graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { animationsDone, launchBrowser, saveScreenshot, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'dana', password: 'dana-e2e-password' }
const NEW_PASSWORD = 'dana-new-e2e-password'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const KUBE_STEP_TIMEOUT_MS = 120_000

function catalogTemplate(name: string, displayName: string, description: string): string {
  return [
    'apiVersion: stream.streamspace.io/v1alpha1',
    'kind: Template',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  displayName: ${JSON.stringify(displayName)}`,
    `  description: ${JSON.stringify(description)}`,
    '  category: Office',
    `  tags: [office]`,
    `  baseImage: registry.example.test/streamspace/${name}:1.0`,
    '  appType: webapp',
    '  webapp:',
    '    port: 8080',
    '',
  ].join('\n')
}

/** A local git repository holding a small catalog (the server reads file:// URLs with STREAMSPACE_GIT_ALLOW_FILE). */
function catalogRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamspace-e2e-catalog-'))
  for (const [name, displayName, description] of [
    ['writer-pro', 'Writer Pro', 'A word processor for long documents.'],
    ['sheets', 'Sheets', 'Spreadsheets with charts and formulas.'],
  ] as const) {
    mkdirSync(join(dir, 'templates', 'office', name), { recursive: true })
    writeFileSync(join(dir, 'templates', 'office', name, 'template.yaml'), catalogTemplate(name, displayName, description))
  }
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', ...args], { cwd: dir, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  git('add', '.')
  git('commit', '-q', '-m', 'catalog')
  return dir
}

describe('portal gaps: catalog for users, hibernate/terminate in the session view, wake on launch, hybrid switch, password page, admin SSO (real server, PostgreSQL, control plane)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let admin: ApiSession
  let page: Page
  let repoDir = ''
  let notesSession = ''

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 180_000)
    repoDir = catalogRepository()
    server = await startServer({
      name: 'portal-gaps-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        // Users browse the catalog by default; this journey starts with the switch off and turns it on.
        STREAMSPACE_FEATURE_CATALOG: 'false',
        STREAMSPACE_ADMIN_USERNAME: 'admin',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STREAMSPACE_GIT_ALLOW_FILE: 'true',
        // Single sign-on configured (the provider is only contacted when someone uses the button).
        STREAMSPACE_OIDC_ISSUER: 'http://127.0.0.1:9/realms/e2e',
        STREAMSPACE_OIDC_CLIENT_ID: 'streamspace-e2e',
        STREAMSPACE_OIDC_CLIENT_SECRET: 'e2e-client-secret',
      },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    await createTemplate(server.origin, admin, { name: 'notes', displayName: 'Notes', description: 'Take notes and share them.', category: 'Office', appType: 'webapp' })
    await createTemplate(server.origin, admin, { name: 'studio', displayName: 'Studio', description: 'A web app with its own desktop beside it.', category: 'Design', appType: 'hybrid' })
    const added = await graphql<{ addRepository: { id: string } }>(server.origin, admin, 'mutation E2eAddRepo($url: String!) { addRepository(input: { name: "office", url: $url, autoSync: false }) { id } }', {
      url: `file://${repoDir}`,
    })
    const synced = await graphql<{ syncRepository: { status: string } }>(server.origin, admin, 'mutation E2eSync($id: ID!) { syncRepository(id: $id) { status } }', { id: added.addRepository.id })
    expect(synced.syncRepository.status).to.equal('READY')
    await graphql(server.origin, admin, 'mutation E2eInstall { installCatalogTemplate(repository: "office", name: "writer-pro") { templateName } }')
    browser = await launchBrowser()
    page = browser.page
  })

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
    if (repoDir) rmSync(repoDir, { recursive: true, force: true })
  })

  it('admin console: the sign-in page offers single sign-on, which comes back to the console', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    const sso = page.getByTestId('login-oidc')
    await sso.waitFor({ state: 'visible' })
    expect(await sso.getAttribute('href')).to.equal('/auth/oidc?return=%2Fadmin%2F')
    expect((await sso.innerText()).trim()).to.equal('Sign in with single sign-on')
    await saveScreenshot(page, testName(this), '01-admin-login-sso')
    await expectAccessible(page, 'the admin sign-in page with single sign-on')
  })

  it('portal: no Catalog while features.catalogBrowsing is off; the page says the catalog is not available', async function () {
    const login = new LoginPage(page)
    await login.open(server.origin)
    await login.signIn(USER.username, USER.password)
    await new LauncherPage(page).waitUntilLoaded()
    expect(await page.getByTestId('nav-catalog').count()).to.equal(0)
    const catalog = new CatalogPage(page)
    await catalog.open(server.origin)
    await catalog.off.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '01-catalog-off')
  })

  it('with features.catalogBrowsing on, users see the catalog: Launch for installed templates, Request for the others (recorded for admins)', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS + 60_000)
    await graphql(server.origin, admin, 'mutation E2eBrowse { updateSetting(key: "features.catalogBrowsing", value: true) { key } }')
    await page.goto(`${server.origin}/`)
    await page.getByTestId('nav-catalog').click()
    const catalog = new CatalogPage(page)
    await catalog.heading.waitFor({ state: 'visible' })
    await waitFor('both catalog templates', async () => ((await catalog.cardNames()).join(',') === 'Sheets,Writer Pro' ? true : undefined))
    await catalog.launchButton('Writer Pro').waitFor({ state: 'visible' })
    await catalog.requestButton('Sheets').waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '01-catalog')
    await expectAccessible(page, 'the portal catalog')

    // Request by keyboard: the button, the reason, Enter-free submit via the dialog's own button.
    await catalog.requestButton('Sheets').focus()
    await page.keyboard.press('Enter')
    await catalog.requestDialog.waitFor({ state: 'visible' })
    await page.getByLabel('Why do you need it? (optional)').fill('For the quarterly budget')
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-request-dialog')
    await expectAccessible(page, 'the request dialog')
    await page.getByTestId('request-send').click()
    await catalog.notice.waitFor({ state: 'visible' })
    await catalog.card('Sheets').getByTestId('catalog-requested').waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '03-requested')
    const requests = await graphql<{ templateRequests: { edges: { node: { user: string; template: string; reason: string } }[] } }>(
      server.origin,
      admin,
      'query E2eRequests { templateRequests { edges { node { user template reason } } } }',
    )
    expect(requests.templateRequests.edges.map((e) => e.node)).to.deep.equal([{ user: USER.username, template: 'sheets', reason: 'For the quarterly budget' }])

    // Launch the installed one: the session view opens.
    await catalog.launchButton('Writer Pro').click()
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    await waitFor('the session view titled Writer Pro', async () => ((await view.title.innerText()).trim() === 'Writer Pro' ? true : undefined))
    const user = await signInApi(server.origin, USER.username, USER.password)
    await graphql(server.origin, user, 'mutation E2eEnd($id: ID!) { deleteSession(id: $id) { id } }', { id: view.sessionId() })
  })

  it('session view: Hibernate (confirmed) shows the change live; launching the app again wakes the same session', async function () {
    this.timeout(3 * KUBE_STEP_TIMEOUT_MS)
    await page.goto(`${server.origin}/`)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await launcher.launch('Notes')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    notesSession = view.sessionId()
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    await view.hibernate.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '01-running-with-controls')

    await view.hibernate.click()
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible' })
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-confirm-hibernate')
    await view.confirm('Hibernate')
    await view.hibernated.waitFor({ state: 'visible', timeout: KUBE_STEP_TIMEOUT_MS })
    expect(await view.statusText()).to.equal('Hibernated')
    expect(await view.hibernate.count()).to.equal(0)
    await saveScreenshot(page, testName(this), '03-hibernated-live')
    await expectAccessible(page, 'a hibernated session')

    // The launcher offers to wake it, and launching wakes that session rather than creating another.
    await page.goto(`${server.origin}/`)
    await launcher.waitUntilLoaded()
    const wake = launcher.card('Notes').getByRole('button', { name: 'Wake your Notes session' })
    await wake.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '04-launcher-offers-wake')
    await wake.click()
    await page.waitForURL(new RegExp(`/sessions/${notesSession}$`))
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    await saveScreenshot(page, testName(this), '05-woken-same-session')
    const user = await signInApi(server.origin, USER.username, USER.password)
    const mine = await graphql<{ sessions: { edges: { node: { id: string; state: string } }[] } }>(server.origin, user, 'query E2eMine { sessions(filter: { template: "notes" }) { edges { node { id state } } } }')
    expect(mine.sessions.edges.map((e) => e.node)).to.deep.equal([{ id: notesSession, state: 'running' }])
  })

  it('session view: Terminate asks first, then the view says the session ended', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS)
    const view = new SessionViewPage(page)
    await view.terminate.click()
    const dialog = page.getByTestId('confirm-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await dialog.innerText()).to.contain('This cannot be undone')
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-confirm-terminate')
    await view.confirm('Terminate')
    await view.ended.waitFor({ state: 'visible' })
    expect(await view.statusText()).to.equal('Terminated')
    await saveScreenshot(page, testName(this), '02-ended')
    await expectAccessible(page, 'an ended session')
    const user = await signInApi(server.origin, USER.username, USER.password)
    await waitFor('the session to be gone', async () => {
      const mine = await graphql<{ sessions: { edges: { node: { id: string } }[] } }>(server.origin, user, 'query E2eGone { sessions(filter: { template: "notes" }) { edges { node { id } } } }')
      return mine.sessions.edges.every((e) => e.node.id !== notesSession) ? true : undefined
    }, { timeoutMs: 60_000 })
  })

  it('a hybrid app switches between its web view and its VNC desktop', async function () {
    this.timeout(2 * KUBE_STEP_TIMEOUT_MS)
    await page.goto(`${server.origin}/`)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await launcher.launch('Studio')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
    const view = new SessionViewPage(page)
    await view.hybridSwitch.waitFor({ state: 'visible', timeout: KUBE_STEP_TIMEOUT_MS })
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    await saveScreenshot(page, testName(this), '01-web-view')
    const desktop = view.hybridSwitch.getByRole('button', { name: 'Desktop' })
    await desktop.focus()
    await page.keyboard.press('Enter')
    await view.vnc.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    expect(await view.frame.count()).to.equal(0)
    await saveScreenshot(page, testName(this), '02-desktop-view')
    await view.hybridSwitch.getByRole('button', { name: 'Web view' }).click()
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    expect(await view.vnc.count()).to.equal(0)
    await saveScreenshot(page, testName(this), '03-back-to-web')
  })

  it('password page: the server refuses per field, then the change works (submitted with Enter)', async function () {
    await page.goto(`${server.origin}/`)
    await new LauncherPage(page).waitUntilLoaded()
    await page.getByTestId('account-menu').click()
    await page.getByTestId('nav-password').click()
    const form = new ChangePasswordPage(page)
    await form.heading.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '01-form')
    await expectAccessible(page, 'the change password page')

    const fill = async (current: string, next: string, confirm: string): Promise<void> => {
      await form.current.fill(current)
      await form.next.fill(next)
      await form.confirm.fill(confirm)
      await form.confirm.press('Enter')
    }
    await fill('not-my-password', NEW_PASSWORD, NEW_PASSWORD)
    await waitFor('the wrong current password under its field', async () => ((await form.messageOf('password-current').innerText()).includes('The current password is not correct') ? true : undefined))
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-wrong-current')

    await fill(USER.password, 'short', 'short')
    await waitFor("the server's length rule under the new password", async () => ((await form.messageOf('password-new').innerText()).includes('at least 8 characters') ? true : undefined))
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '03-policy')
    await expectAccessible(page, 'the change password page with errors')

    await fill(USER.password, NEW_PASSWORD, `${NEW_PASSWORD}x`)
    await waitFor('the mismatch under the confirmation', async () => ((await form.messageOf('password-confirm').innerText()).includes('do not match') ? true : undefined))

    await fill(USER.password, NEW_PASSWORD, NEW_PASSWORD)
    await form.saved.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '04-saved')
    await signInApi(server.origin, USER.username, NEW_PASSWORD)
    let oldRefused = false
    await signInApi(server.origin, USER.username, USER.password).catch(() => (oldRefused = true))
    expect(oldRefused, 'the old password no longer signs in').to.equal(true)
  })
})
