import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { MySessionsPage } from '../pages/my-sessions.page'
import { SessionViewPage } from '../pages/session-view.page'
import { auditPage, expectAccessible, expectFocusVisible, tabUntil } from '../support/accessibility'
import { createTemplate, createUser, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'alice', password: 'alice-e2e-password' }
/** The first start on a machine may build the control-plane binaries (scripts/k8s/build.sh). */
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const KUBE_STEP_TIMEOUT_MS = 120_000
/** Every section in the admin console's navigation, in drawer order (client-admin/src/app/navigation.ts). */
const ADMIN_SECTIONS = ['cluster', 'sessions', 'templates', 'catalog', 'users', 'groups', 'configuration', 'audit-log', 'metrics', 'alerts']

/** Waits until the page's requests have settled and no progress bar is left. */
async function settled(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle')
  await page.locator('main').filter({ hasText: /\S/ }).first().waitFor({ state: 'visible' })
  await waitFor('loading indicators to go', async () => ((await page.locator('.v-progress-linear--active[role="progressbar"]').count()) === 0 ? true : undefined), { timeoutMs: 15_000 }).catch(() => undefined)
}

async function signOutEverywhere(page: Page, origin: string): Promise<void> {
  await page.context().clearCookies()
  await page.goto(`${origin}/login`)
  await page.evaluate(() => {
    localStorage.clear()
    sessionStorage.clear()
  })
}

describe('accessibility: every page of the portal and the admin console passes axe-core (WCAG 2.1 A/AA) and works by keyboard (real server, PostgreSQL, control plane)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let admin: ApiSession
  let page: Page

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'accessibility-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    await createTemplate(server.origin, admin, {
      name: 'code-editor',
      displayName: 'Code Editor',
      description: 'A code editor in the browser.',
      category: 'Development',
      appType: 'webapp',
    })
    await createTemplate(server.origin, admin, { name: 'linux-desktop', displayName: 'Linux Desktop', description: 'A full desktop over VNC.', category: 'Desktops', appType: 'desktop' })
    browser = await launchBrowser()
    page = browser.page
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('portal: the sign-in page, in light and dark', async function () {
    const login = new LoginPage(page)
    await login.open(server.origin)
    expect(await auditPage(page, testName(this), '01-sign-in', saveScreenshot)).to.deep.equal([])
  })

  it('portal: the sign-in page focuses the username, and never takes the focus back from someone already in the password', async function () {
    const login = new LoginPage(page)
    await page.goto(`${server.origin}/`)
    await page.waitForURL(/\/login/)
    // As fast as a person who clicks the password field the moment it shows (or a password manager filling it).
    await login.password.waitFor({ state: 'attached' })
    await login.password.focus()
    await page.keyboard.type('secret')
    // Vuetify's own autofocus moved the focus 50 ms after the field was seen: the next keys went to the username.
    await page.waitForTimeout(500)
    await page.keyboard.type('!')
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).to.equal('password')
    expect(await login.password.inputValue()).to.equal('secret!')
    expect(await login.username.inputValue()).to.equal('')
    await saveScreenshot(page, testName(this), '01-typing-in-password')
    // A fresh page: the username field has the focus, with nothing else focused first.
    await login.open(server.origin)
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).to.equal('username')
  })

  it('portal: signs in, finds an app and launches it with the keyboard alone (visible focus on each stop)', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS + 60_000)
    const login = new LoginPage(page)
    await login.username.focus()
    await page.keyboard.type(USER.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(USER.password)
    await page.keyboard.press('Enter')
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await settled(page)
    expect(await auditPage(page, testName(this), '01-launcher', saveScreenshot)).to.deep.equal([])

    // The skip link comes first from the top of the page.
    await page.reload()
    await launcher.waitUntilLoaded()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).to.equal('Skip to content')
    await expectFocusVisible(page, 'the skip link')
    await tabUntil(page, 'input[type="search"]')
    await expectFocusVisible(page, 'the search field')
    await page.keyboard.type('code')
    await waitFor('only Code Editor to match', async () => ((await launcher.cardNames()).join(',') === 'Code Editor' ? true : undefined))
    await saveScreenshot(page, testName(this), '02-searched-by-keyboard')
    await tabUntil(page, '[aria-label="Launch Code Editor"]')
    await expectFocusVisible(page, 'the Launch button')
    await saveScreenshot(page, testName(this), '03-launch-focused')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
  })

  it('portal: the session view, starting and running, and its controls by keyboard', async function () {
    this.timeout(KUBE_STEP_TIMEOUT_MS + 60_000)
    const view = new SessionViewPage(page)
    await waitFor('the session view titled Code Editor', async () => ((await view.title.innerText()).trim() === 'Code Editor' ? true : undefined))
    await view.frame.waitFor({ state: 'attached', timeout: KUBE_STEP_TIMEOUT_MS })
    await page.waitForTimeout(500)
    expect(await auditPage(page, testName(this), '01-session-view', saveScreenshot)).to.deep.equal([])
    await page.locator('body').focus()
    await tabUntil(page, '[data-testid="session-fullscreen"]', 20)
    await expectFocusVisible(page, 'the full-screen button')
    await saveScreenshot(page, testName(this), '02-fullscreen-focused')
  })

  it('portal: my sessions and the not-found page', async function () {
    const mySessions = new MySessionsPage(page)
    await mySessions.open(server.origin)
    await page.getByTestId('session-phase').first().waitFor({ state: 'visible' })
    await settled(page)
    const problems = await auditPage(page, testName(this), '01-my-sessions', saveScreenshot)
    await page.goto(`${server.origin}/no-such-page`)
    await settled(page)
    problems.push(...(await auditPage(page, testName(this), '02-not-found', saveScreenshot)))
    expect(problems).to.deep.equal([])
  })

  it('admin: the sign-in page, in light and dark', async function () {
    await signOutEverywhere(page, server.origin)
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    expect(await auditPage(page, testName(this), '01-admin-sign-in', saveScreenshot)).to.deep.equal([])
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
  })

  it('admin: the overview and every page in the navigation', async function () {
    this.timeout(240_000)
    const shell = new AdminShellPage(page)
    await waitFor('the overview to count nodes', async () => (/\d+ \/ [1-9]/.test(await shell.nodesStat().innerText()) ? true : undefined))
    await settled(page)
    const problems = await auditPage(page, testName(this), '00-overview', saveScreenshot)
    for (const [i, section] of ADMIN_SECTIONS.entries()) {
      await shell.navigate(section)
      await settled(page)
      problems.push(...(await auditPage(page, testName(this), `${String(i + 1).padStart(2, '0')}-${section}`, saveScreenshot)))
    }
    await page.goto(`${server.origin}/admin/no-such-page`)
    await settled(page)
    problems.push(...(await auditPage(page, testName(this), '99-not-found', saveScreenshot)))
    expect(problems).to.deep.equal([])
  })

  it('admin: the navigation and the tables work by keyboard (users: create; sessions: row action; audit: expand)', async function () {
    await page.goto(`${server.origin}/admin/`)
    await new AdminShellPage(page).nodesStat().waitFor({ state: 'visible' })
    // The drawer's links: Tab into the section list, arrows within it, Enter follows.
    await page.locator('body').focus()
    await tabUntil(page, '[data-testid="nav-users"], [aria-label="Sections"]')
    await page.keyboard.press('Enter').catch(() => undefined)
    if (!/\/admin\/users$/.test(page.url())) {
      await tabUntil(page, '[data-testid="nav-users"]', 12, 'ArrowDown')
      await expectFocusVisible(page, 'the Users link')
      await page.keyboard.press('Enter')
    }
    await page.waitForURL(/\/admin\/users$/)
    await page.getByTestId('users-table').waitFor({ state: 'visible' })

    await tabUntil(page, '[data-testid="create-user"]')
    await expectFocusVisible(page, 'the Create user button')
    await page.keyboard.press('Enter')
    await page.getByTestId('new-username').locator('input').waitFor({ state: 'visible' })
    await waitFor('the dialog to take the focus', async () => (await page.evaluate(() => !!document.activeElement?.closest('.v-overlay--active')) ? true : undefined))
    await tabUntil(page, '[data-testid="new-username"] input', 10)
    await page.keyboard.type('dave')
    await tabUntil(page, '[data-testid="new-password"] input', 10)
    await page.keyboard.type('dave-e2e-password')
    await saveScreenshot(page, testName(this), '01-create-user-by-keyboard')
    await page.keyboard.press('Enter')
    await page.getByTestId('users-table').locator('tbody tr').filter({ hasText: 'dave' }).waitFor({ state: 'visible' })
    await expectAccessible(page, 'the users page after creating a user')

    await new AdminShellPage(page).navigate('sessions')
    const hibernate = page.getByRole('button', { name: /^Hibernate .+/ }).first()
    await hibernate.waitFor({ state: 'visible' })
    const label = (await hibernate.getAttribute('aria-label')) ?? ''
    await page.locator('body').focus()
    await tabUntil(page, `[aria-label="${label}"]`, 60)
    await expectFocusVisible(page, 'a session row action')
    await saveScreenshot(page, testName(this), '02-session-action-focused')

    await new AdminShellPage(page).navigate('audit-log')
    await page.getByTestId('audit-table').locator('tbody tr').first().waitFor({ state: 'visible' })
    await page.locator('body').focus()
    await tabUntil(page, '[data-testid="audit-table"] button[aria-label^="Details of"]', 60)
    await expectFocusVisible(page, 'an audit row expand button')
    await page.keyboard.press('Enter')
    await waitFor('the row to expand', async () =>
      (await page.evaluate(() => document.activeElement?.getAttribute('aria-expanded'))) === 'true' ? true : undefined,
    )
    await saveScreenshot(page, testName(this), '03-audit-row-expanded')
    await expectAccessible(page, 'the audit log with a row expanded')
  })
})

describe('accessibility: a page whose query partly fails shows what it has (server without a cluster, STREAMSPACE_CLUSTER=none)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let page: Page

  before(async function () {
    server = await startServer({
      name: 'accessibility-no-cluster-server',
      env: { STREAMSPACE_CLUSTER: 'none', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    browser = await launchBrowser()
    page = browser.page
  })

  after(async function () {
    await browser?.close()
    if (server) expect(await server.stop()).to.deep.equal({ code: 0, signal: null })
  })

  it('admin overview: counts users and sessions, says the nodes are unavailable and why, and stays accessible', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    const shell = new AdminShellPage(page)
    await waitFor('the users card to count 2 users', async () => (/^\s*2\s+Users\s*$/.test(await page.getByTestId('stat-users').innerText()) ? true : undefined))
    const missing = page.getByTestId('overview-missing')
    await missing.waitFor({ state: 'visible' })
    expect(await page.getByTestId('overview-missing-nodes').innerText()).to.match(/^Nodes: No Kubernetes cluster is configured/)
    expect(await missing.innerText()).not.to.include('GraphQL response contains errors')
    expect(await shell.nodesStat().innerText()).to.match(/Unavailable\s+Nodes ready/)
    const sessions = await page.getByTestId('stat-sessions').innerText()
    const sessionsMissing = await page.getByTestId('overview-missing-sessions').count()
    // Sessions are counted from PostgreSQL; if this server cannot, the card says so instead of a number.
    expect(sessionsMissing ? /Unavailable/.test(sessions) : /^\s*0\s+All sessions\s*$/.test(sessions), `sessions card: ${sessions}`).to.equal(true)
    expect(await auditPage(page, testName(this), '01-overview-without-cluster', saveScreenshot)).to.deep.equal([])
  })
})
