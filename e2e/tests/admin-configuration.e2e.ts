import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminConfigurationPage } from '../pages/admin-configuration.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { LoginPage } from '../pages/login.page'
import { PortalShellPage } from '../pages/portal-shell.page'
import { createUser, graphql, signInApi } from '../support/api'
import { launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'dora', password: 'dora-e2e-password' }
const ANNOUNCEMENT = 'Maintenance on Sunday 22:00 UTC: save your work.'
const KEY = 'portal.announcement'

describe('admin configuration: an admin sets the portal announcement at runtime and a user sees the banner (real server, PostgreSQL)', function () {
  let server: RunningServer
  let adminBrowser: BrowserSession
  let userBrowser: BrowserSession
  let page: Page
  let portal: Page

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(180_000)
    // No cluster: settings live in PostgreSQL; the portal's shell shows the banner on any page.
    server = await startServer({
      name: 'admin-configuration-server',
      env: { STREAMSPACE_CLUSTER: 'none', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    adminBrowser = await launchBrowser()
    page = adminBrowser.page
    // The user signs in elsewhere: a second browser with its own cookies and storage.
    userBrowser = await launchBrowser()
    portal = userBrowser.page
  })

  screenshotFailures(() => ({ admin: page, portal: portal }))

  after(async function () {
    this.timeout(60_000)
    await userBrowser?.close()
    await adminBrowser?.close()
    await stopCleanly(server)
  })

  it('shows the settings with their environment defaults', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('configuration')
    const config = new AdminConfigurationPage(page)
    await config.form.waitFor({ state: 'visible' })
    await waitFor('the settings to load', async () => ((await config.input('quota.maxSessions').count()) > 0 ? true : undefined))
    expect(await config.input('quota.maxSessions').inputValue()).to.equal('10')
    expect(await config.input('quota.memory').inputValue()).to.equal('16Gi')
    expect(await config.input(KEY).inputValue()).to.equal('')
    expect((await config.source(KEY).innerText()).trim()).to.equal('built-in default')
    expect((await config.source('quota.maxSessions').innerText()).trim()).to.equal('built-in default')
    expect(await page.getByRole('button', { name: 'Reset Portal announcement to its default' }).count()).to.equal(0)
    await saveScreenshot(page, testName(this), '01-configuration-defaults')
  })

  it('refuses a too long announcement with the server\'s message under the field', async function () {
    const config = new AdminConfigurationPage(page)
    await config.input(KEY).fill('x'.repeat(501))
    await config.apply.click()
    const messages = await waitFor('the validation message', async () => {
      const text = await config.fieldMessages(KEY).innerText()
      return /Must be a text of at most 500 characters/.test(text) ? text : undefined
    })
    expect((await config.message.innerText()).trim()).to.match(/Nothing was changed/)
    expect(messages).to.contain('at most 500 characters')
    await saveScreenshot(page, testName(this), '02-validation-error')
  })

  it('saves the announcement; the form says who changed it', async function () {
    const config = new AdminConfigurationPage(page)
    await config.input(KEY).fill(ANNOUNCEMENT)
    await config.apply.click()
    await waitFor('the applied message', async () => (/Applied as version \d+/.test(await config.message.innerText().catch(() => '')) ? true : undefined))
    await waitFor('the new value in the form', async () => ((await config.input(KEY).inputValue()) === ANNOUNCEMENT ? true : undefined))
    expect((await config.source(KEY).innerText()).trim()).to.equal('saved by admin')
    await saveScreenshot(page, testName(this), '03-announcement-saved')
  })

  it('a user signing in to the portal sees the banner, and can dismiss it', async function () {
    const login = new LoginPage(portal)
    await login.open(server.origin)
    await login.signIn(USER.username, USER.password)
    await portal.waitForURL(new RegExp(`^${server.origin}/$`))
    const shell = new PortalShellPage(portal)
    await shell.announcement.waitFor({ state: 'visible' })
    expect((await shell.announcementText.innerText()).trim()).to.equal(ANNOUNCEMENT)
    await saveScreenshot(portal, testName(this), '04-portal-banner')
    await shell.dismissAnnouncement.focus()
    await shell.dismissAnnouncement.press('Enter')
    await shell.announcement.waitFor({ state: 'detached' })
    // Dismissed stays dismissed for the same text.
    await portal.reload()
    await portal.getByTestId('nav-apps').waitFor({ state: 'visible' })
    expect(await shell.announcement.count()).to.equal(0)
  })

  it('a changed announcement shows again live; resetting to the default removes it live', async function () {
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await graphql(server.origin, admin, 'mutation E2eAnnounce($v: JSON!) { updateSetting(key: "portal.announcement", value: $v) { key } }', { v: 'New apps in the catalog.' })
    // Live, without a reload: the open portal receives the new text over its socket (announcementChanged).
    const shell = new PortalShellPage(portal)
    await shell.announcement.waitFor({ state: 'visible', timeout: 15_000 })
    expect((await shell.announcementText.innerText()).trim()).to.equal('New apps in the catalog.')

    const config = new AdminConfigurationPage(page)
    await page.reload()
    await waitFor('the form to show the new text', async () => ((await config.input(KEY).inputValue().catch(() => '')) === 'New apps in the catalog.' ? true : undefined))
    await config.markReset(KEY)
    await config.apply.click()
    await waitFor('the default again', async () => ((await config.source(KEY).innerText()).trim() === 'built-in default' ? true : undefined))
    expect(await config.input(KEY).inputValue()).to.equal('')
    await saveScreenshot(page, testName(this), '05-reset-to-default')

    // Again live: the reset (back to the empty default) removes the banner from the open portal.
    await shell.announcement.waitFor({ state: 'detached', timeout: 15_000 })
    await saveScreenshot(portal, testName(this), '06-portal-without-banner')
  })
})
