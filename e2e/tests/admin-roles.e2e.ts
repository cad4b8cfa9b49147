import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { AdminUsersPage } from '../pages/admin-users.page'
import { expectAccessible } from '../support/accessibility'
import { graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const OPERATOR = { username: 'olga', password: 'olga-e2e-password' }
const AUDITOR = { username: 'audrey', password: 'audrey-e2e-password' }
const LEAVER = { username: 'pete', password: 'pete-e2e-password' }

async function createUserWithRole(origin: string, admin: ApiSession, username: string, password: string, role: string): Promise<string> {
  const data = await graphql<{ createUser: { id: string } }>(
    origin,
    admin,
    'mutation E2eCreateUserWithRole($input: CreateUserInput!) { createUser(input: $input) { id } }',
    { input: { username, password, role } },
  )
  return data.createUser.id
}

/** The drawer's section links, by data-testid suffix. */
async function drawerSections(page: Page): Promise<string[]> {
  const ids = await page.locator('[data-testid^="nav-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') ?? ''))
  return ids.map((id) => id.replace(/^nav-/, '')).filter((id) => id !== 'home')
}

describe('admin roles: an admin edits, resets and deletes users; an operator and an auditor see their part of the console (real server, PostgreSQL)', function () {
  let server: RunningServer
  let admin: ApiSession
  let adminBrowser: BrowserSession
  let otherBrowser: BrowserSession
  let page: Page
  let other: Page

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(180_000)
    server = await startServer({
      name: 'admin-roles-server',
      env: { STREAMSPACE_CLUSTER: 'none', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUserWithRole(server.origin, admin, OPERATOR.username, OPERATOR.password, 'user')
    await createUserWithRole(server.origin, admin, AUDITOR.username, AUDITOR.password, 'auditor')
    await createUserWithRole(server.origin, admin, LEAVER.username, LEAVER.password, 'user')
    adminBrowser = await launchBrowser()
    page = adminBrowser.page
    otherBrowser = await launchBrowser()
    other = otherBrowser.page
  })

  screenshotFailures(() => ({ admin: page, other: other }))

  after(async function () {
    this.timeout(60_000)
    await otherBrowser?.close()
    await adminBrowser?.close()
    await stopCleanly(server)
  })

  it('the admin edits a user\'s name, e-mail and role (operator) from the Users page', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('users')
    const users = new AdminUsersPage(page)
    await users.row(OPERATOR.username).waitFor({ state: 'visible' })
    await users.fillEdit(OPERATOR.username, { displayName: 'Olga Operator', email: 'olga@example.test', role: 'operator' })
    await saveScreenshot(page, testName(this), '01-edit-dialog')
    await expectAccessible(page, 'the edit dialog')
    await users.saveEdit()
    await waitFor('the saved message', async () => ((await users.message.innerText().catch(() => '')).includes(`Saved ${OPERATOR.username}`) ? true : undefined))
    const row = await users.row(OPERATOR.username).innerText()
    expect(row).to.contain('Olga Operator')
    expect(row).to.contain('operator')
    const data = await graphql<{ users: { edges: { node: { username: string; role: string; email: string | null } }[] } }>(server.origin, admin, '{ users(first: 50) { edges { node { username role email } } } }')
    expect(data.users.edges.map((e) => e.node).find((u) => u.username === OPERATOR.username)).to.deep.equal({ username: OPERATOR.username, role: 'operator', email: 'olga@example.test' })
    await saveScreenshot(page, testName(this), '02-edited')
  })

  it('the admin resets a password to a generated one, shown once; it signs the user in', async function () {
    const users = new AdminUsersPage(page)
    const { password: generated, field } = await users.resetToGenerated(LEAVER.username)
    expect(generated).to.have.length.greaterThan(15)
    await saveScreenshot(page, testName(this), '03-generated-password')
    await expectAccessible(page, 'the generated password dialog')
    await users.closeReset()
    await field.waitFor({ state: 'detached' })
    // The old password no longer works, the generated one does.
    let oldRefused = false
    await signInApi(server.origin, LEAVER.username, LEAVER.password).catch(() => (oldRefused = true))
    expect(oldRefused, 'the old password is refused').to.equal(true)
    await signInApi(server.origin, LEAVER.username, generated)
  })

  it('the admin deletes a user: the dialog says what happens to sessions and home, and asks for the choice', async function () {
    const users = new AdminUsersPage(page)
    const consequences = await users.openDelete(LEAVER.username)
    expect(consequences).to.contain('all of their sessions are terminated')
    expect(await users.deleteButton().isDisabled(), 'no deletion before the home volume choice').to.equal(true)
    await users.chooseHomes('keep')
    await saveScreenshot(page, testName(this), '04-delete-dialog')
    await expectAccessible(page, 'the delete dialog')
    await users.deleteButton().click()
    await waitFor('the deleted message', async () => ((await users.message.innerText().catch(() => '')).includes(`Deleted ${LEAVER.username}`) ? true : undefined))
    expect(await users.message.innerText()).to.contain('0 sessions terminated')
    await users.row(LEAVER.username).waitFor({ state: 'detached' })
    // No delete button for the admin's own row.
    expect(await page.getByTestId('delete-admin').count()).to.equal(0)
    await saveScreenshot(page, testName(this), '05-deleted')
  })

  it('the auditor signs in to the console and sees every section it may read, read-only', async function () {
    const login = new AdminLoginPage(other)
    await login.open(server.origin)
    await login.signIn(AUDITOR.username, AUDITOR.password)
    await other.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    expect(await other.getByTestId('signed-in-role').innerText()).to.equal('auditor')
    expect(await drawerSections(other)).to.deep.equal(['cluster', 'sessions', 'templates', 'catalog', 'users', 'groups', 'configuration', 'audit-log'])
    await new AdminShellPage(other).navigate('users')
    const users = new AdminUsersPage(other)
    await users.row(OPERATOR.username).waitFor({ state: 'visible' })
    await other.getByTestId('read-only').waitFor({ state: 'visible' })
    expect(await other.getByTestId('create-user').count(), 'no create button').to.equal(0)
    expect(await other.getByTestId(`edit-${OPERATOR.username}`).count(), 'no edit button').to.equal(0)
    await saveScreenshot(other, testName(this), '06-auditor-users')
    await expectAccessible(other, 'the read-only users page')
    await new AdminShellPage(other).navigate('audit-log')
    await waitFor('the audit log with the deletion', async () => ((await other.locator('main').innerText()).includes('user.delete') ? true : undefined))
    await saveScreenshot(other, testName(this), '07-auditor-audit-log')
    // A page the auditor may not open (metrics) sends it to the overview.
    await other.goto(`${server.origin}/admin/metrics`)
    await other.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await other.getByTestId('sign-out').click()
    await other.waitForURL(/\/admin\/login/)
  })

  it('the operator signs in and sees sessions, templates and catalog only', async function () {
    const login = new AdminLoginPage(other)
    await login.open(server.origin)
    await login.signIn(OPERATOR.username, OPERATOR.password)
    await other.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    expect(await other.getByTestId('signed-in-role').innerText()).to.equal('operator')
    expect(await drawerSections(other)).to.deep.equal(['sessions', 'templates', 'catalog'])
    // The overview asks only for what the operator may read: no users or nodes card, no "unavailable" notice.
    await other.getByTestId('stat-sessions').waitFor({ state: 'visible' })
    expect(await other.getByTestId('stat-users').count()).to.equal(0)
    await saveScreenshot(other, testName(this), '08-operator-overview')
    await other.goto(`${server.origin}/admin/users`)
    await other.waitForURL(new RegExp(`^${server.origin}/admin/$`))
  })
})
