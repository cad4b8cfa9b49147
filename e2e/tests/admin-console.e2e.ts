import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminAuditPage } from '../pages/admin-audit.page'
import { AdminClusterPage } from '../pages/admin-cluster.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminSessionsPage } from '../pages/admin-sessions.page'
import { AdminTemplatesPage } from '../pages/admin-templates.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { AdminUsersPage } from '../pages/admin-users.page'
import { createTemplate, graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
/** The first start on a machine may build the control-plane binaries (scripts/k8s/build.sh). */
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
const NEW_USER = { username: 'carol', password: 'carol-e2e-password' }

describe('admin console: an admin signs in, inspects and edits the cluster, creates a user and finds it in the audit log (real server, PostgreSQL, control plane)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let admin: ApiSession
  let page: Page

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'admin-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    // Something to open as YAML: a ConfigMap applied through the same API the console uses.
    await graphql(server.origin, admin, 'mutation E2eApply($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', {
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e2e-settings\n  namespace: default\ndata:\n  greeting: hello from e2e\n',
    })
    browser = await launchBrowser()
    page = browser.page
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('signs in as admin and sees the overview', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await saveScreenshot(page, testName(this), '01-sign-in-form')
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    const shell = new AdminShellPage(page)
    expect((await shell.signedInUser.innerText()).trim()).to.equal('admin')
    const nodes = await waitFor('the overview to count ready nodes', async () => {
      const text = await shell.nodesStat().innerText()
      const m = /(\d+) \/ (\d+)/.exec(text)
      return m && Number(m[2]) > 0 ? m : undefined
    })
    expect(nodes[1]).to.equal(nodes[2])
    await saveScreenshot(page, testName(this), '02-overview')
    // Narrow screens: the drawer folds away behind the menu button.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.getByRole('button', { name: 'Toggle navigation' }).waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '02b-overview-phone')
    await page.setViewportSize({ width: 1440, height: 900 })
  })

  it('sees the simulated nodes of the cluster', async function () {
    await new AdminShellPage(page).navigate('cluster')
    const cluster = new AdminClusterPage(page)
    const expected = await graphql<{ clusterNodes: { name: string }[] }>(server.origin, admin, 'query E2eNodes { clusterNodes { name } }')
    const names = await waitFor('the nodes table to list every node', async () => {
      const shown = await cluster.nodeNames()
      return shown.length === expected.clusterNodes.length ? shown : undefined
    })
    expect(names).to.deep.equal(expected.clusterNodes.map((n) => n.name))
    expect(await cluster.nodesTable.getByText('Ready', { exact: true }).count()).to.equal(names.length)
    await saveScreenshot(page, testName(this), '03-nodes')
  })

  it('opens a resource as YAML', async function () {
    const cluster = new AdminClusterPage(page)
    await cluster.openResources()
    await cluster.selectKind('ConfigMap')
    await cluster.selectNamespace('default')
    await cluster.row('e2e-settings').waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '04-configmaps')
    await cluster.row('e2e-settings').click()
    await cluster.waitForDialogOpen()
    expect((await cluster.dialogTitle.innerText()).trim()).to.equal('ConfigMap default/e2e-settings')
    const yaml = await waitFor('the YAML of e2e-settings', async () => {
      const text = await cluster.yaml()
      return text.includes('greeting: hello from e2e') ? text : undefined
    })
    expect(yaml).to.match(/^apiVersion: v1\s+kind: ConfigMap/)
    expect(yaml).not.to.include('managedFields')
    await saveScreenshot(page, testName(this), '05-yaml')
  })

  it('edits the YAML and applies it (server-side apply)', async function () {
    const cluster = new AdminClusterPage(page)
    await cluster.appendAndApply('  added: by-e2e')
    await waitFor('the apply confirmation', async () => ((await cluster.message().innerText()).includes('Applied ConfigMap default/e2e-settings') ? true : undefined))
    const stored = await graphql<{ clusterResource: { yaml: string } }>(server.origin, admin, 'query E2eCm { clusterResource(kind: ConfigMap, namespace: "default", name: "e2e-settings") { yaml } }')
    expect(stored.clusterResource.yaml).to.include('added: by-e2e')
    expect(stored.clusterResource.yaml).to.include('greeting: hello from e2e')
    await saveScreenshot(page, testName(this), '06-applied')
    await page.keyboard.press('Escape')
    await cluster.dialog.waitFor({ state: 'hidden' })
  })

  it("shows the API server's refusal for a pod's logs and shell (kwok nodes have no kubelet)", async function () {
    await graphql(server.origin, admin, 'mutation E2ePod($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', {
      yaml: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: e2e-web\n  namespace: default\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n',
    })
    const cluster = new AdminClusterPage(page)
    await cluster.selectKind('Pod')
    await cluster.row('e2e-web').waitFor({ state: 'visible' })
    await cluster.openPodTools('e2e-web')
    const logsError = await waitFor('the logs error', async () => {
      const el = cluster.podToolsError()
      return (await el.isVisible()) ? el.innerText() : undefined
    })
    expect(logsError).to.match(/log of pod e2e-web/)
    await saveScreenshot(page, testName(this), '07-logs-refused')
    const status = await cluster.openShell()
    const text = await waitFor('the shell refusal', async () => ((await status.isVisible()) ? status.innerText() : undefined), { timeoutMs: 60_000 })
    expect(text).to.match(/could not open a shell in pod e2e-web: .*kubelet/)
    await saveScreenshot(page, testName(this), '08-shell-refused')
    await page.keyboard.press('Escape')
  })

  it('creates a user', async function () {
    await new AdminShellPage(page).navigate('users')
    const users = new AdminUsersPage(page)
    await users.table.waitFor({ state: 'visible' })
    await users.createUser(NEW_USER.username, NEW_USER.password)
    await users.row(NEW_USER.username).waitFor({ state: 'visible' })
    expect(await users.message.innerText()).to.include(`Created user ${NEW_USER.username}`)
    await saveScreenshot(page, testName(this), '08-user-created')
    // The account works: it can sign in (to the portal; the console refuses non-admins).
    const carol = await signInApi(server.origin, NEW_USER.username, NEW_USER.password)
    expect(carol.accessToken).to.be.a('string')
  })

  it("hibernates another user's running session from the sessions list", async function () {
    this.timeout(180_000)
    await createTemplate(server.origin, admin, { name: 'e2e-notes', displayName: 'Notes', description: 'Notes for the admin e2e.', category: 'Office', appType: 'webapp' })
    const carol = await signInApi(server.origin, NEW_USER.username, NEW_USER.password)
    const created = await graphql<{ createSession: { id: string; name: string } }>(server.origin, carol, 'mutation E2eLaunch { createSession(input: { template: "e2e-notes" }) { id name } }')
    const { id, name } = created.createSession
    const state = async () =>
      (await graphql<{ session: { state: string; phase: string } }>(server.origin, admin, 'query E2eSessionState($id: ID!) { session(id: $id) { state phase } }', { id })).session
    await waitFor('the session to run on a kwok node', async () => ((await state()).phase === 'Running' ? true : undefined), { timeoutMs: 120_000 })

    await new AdminShellPage(page).navigate('sessions')
    const sessions = new AdminSessionsPage(page)
    await sessions.row(name).waitFor({ state: 'visible' })
    expect(await sessions.row(name).innerText()).to.include(NEW_USER.username)
    await saveScreenshot(page, testName(this), '09a-sessions')
    await sessions.hibernate(name)
    await sessions.wakeButton(name).waitFor({ state: 'visible', timeout: 60_000 })
    expect((await state()).state).to.equal('hibernated')
    await saveScreenshot(page, testName(this), '09b-hibernated')
  })

  it('applies a Template from YAML', async function () {
    await new AdminShellPage(page).navigate('templates')
    const templates = new AdminTemplatesPage(page)
    await templates.applyExample()
    await waitFor('the apply confirmation', async () => ((await templates.message.isVisible()) ? templates.message.innerText() : undefined)).then((text) =>
      expect(text).to.include('Applied template example-app'),
    )
    await saveScreenshot(page, testName(this), '09c-template-applied')
    await templates.close()
    await templates.row('example-app').waitFor({ state: 'visible' })
  })

  it('opens every section without an error from the API', async function () {
    const shell = new AdminShellPage(page)
    for (const section of ['templates', 'catalog', 'metrics']) {
      await shell.navigate(section)
      await page.locator('h1').filter({ hasText: /\S/ }).first().waitFor({ state: 'visible' })
      // Each page's table or chart settles; an error alert would mean one of its operations failed on the server.
      await page.waitForLoadState('networkidle')
      const errors = await page.locator('.v-alert--variant-tonal.text-error, .v-alert.bg-error').allInnerTexts()
      expect(errors, `${section}: ${errors.join(' | ')}`).to.deep.equal([])
      await saveScreenshot(page, testName(this), `09-${section}`)
    }
  })

  it('sees the audit row of the new user', async function () {
    const found = await graphql<{ users: { edges: { node: { id: string; username: string } }[] } }>(server.origin, admin, 'query E2eUsers { users(first: 100) { edges { node { id username } } } }')
    const carolId = found.users.edges.find((e) => e.node.username === NEW_USER.username)?.node.id
    expect(carolId, 'the created user exists').to.be.a('string')
    await new AdminShellPage(page).navigate('audit-log')
    const audit = new AdminAuditPage(page)
    await audit.filterByAction('user.create')
    const row = audit.rows().filter({ hasText: carolId! })
    await row.waitFor({ state: 'visible' })
    const text = await row.innerText()
    expect(text).to.include('admin')
    expect(text).to.include('user.create')
    expect(text).to.include('success')
    await saveScreenshot(page, testName(this), '10-audit-row')
  })
})
