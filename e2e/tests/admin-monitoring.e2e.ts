import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminAlertsPage, AdminMetricsPage } from '../pages/admin-monitoring.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminSessionsPage } from '../pages/admin-sessions.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { expectAccessible } from '../support/accessibility'
import { createTemplate, createUser, graphql, signInApi, type ApiSession } from '../support/api'
import { animationsDone, launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'milo', password: 'milo-e2e-password' }
const USER_AGENT = 'E2E-Monitoring-Agent/1.0 (connections test)'
const NODE = 'e2e-not-ready-node'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000

/** Before an accessibility check: no requests in flight, no loading bar, no animation running (a fading header fails contrast). */
async function settled(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle')
  await waitFor('loading indicators to go', async () => ((await page.locator('.v-progress-linear--active[role="progressbar"]').count()) === 0 ? true : undefined), { timeoutMs: 15_000 })
  await animationsDone(page, 15_000)
}

describe('admin monitoring: charts over time, an alert that fires and resolves live, live connections in the sessions list (real server, PostgreSQL, control plane)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let page: Page
  let admin: ApiSession

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'admin-monitoring-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      // The leader samples every second here, so the pages show data and alerts change within the test; the test
      // waits for what the page shows, never for a time.
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD, STREAMSPACE_MONITORING_INTERVAL: '1s' },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    browser = await launchBrowser()
    page = browser.page
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(60_000)
    if (admin && server) await graphql(server.origin, admin, 'mutation E2eDeleteNode { deleteClusterResource(kind: Node, name: "' + NODE + '") }').catch(() => undefined)
    await browser?.close()
    await stopCleanly(server)
  })

  it('shows the sampled series as line charts over the last hour and the last day', async function () {
    this.timeout(120_000)
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('metrics')
    const metrics = new AdminMetricsPage(page)
    // The page reads again every 30 s; a reload reads the samples taken since.
    const summary = await waitFor(
      'the dependency chart to show PostgreSQL and the API server up',
      async () => {
        const text = await metrics.chartSummary('Quota and dependencies')
        if (/PostgreSQL up: 1\.00/.test(text) && /API server up: 1\.00/.test(text)) return text
        await page.reload()
        return undefined
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    )
    expect(summary).to.match(/Highest quota use: /)
    expect(await metrics.chartSummary('Nodes')).to.match(/Nodes: [1-9]/)
    await saveScreenshot(page, testName(this), '01-metrics-hour')
    await metrics.showRange('Last day')
    await waitFor('the day range to load', async () => (/PostgreSQL up: 1\.00/.test(await metrics.chartSummary('Quota and dependencies')) ? true : undefined))
    await settled(page)
    await expectAccessible(page, 'the Metrics page')
    await saveScreenshot(page, testName(this), '02-metrics-day')
  })

  it('lists the rules; a NotReady node fires an alert that appears without a reload', async function () {
    this.timeout(120_000)
    await new AdminShellPage(page).navigate('alerts')
    const alerts = new AdminAlertsPage(page)
    await alerts.ruleRow('node-not-ready').waitFor({ state: 'visible' })
    expect(await alerts.rules.locator('tbody tr').count()).to.equal(6)
    await alerts.nothingFiring.waitFor({ state: 'visible' })
    await settled(page)
    await expectAccessible(page, 'the Alerts page')
    await saveScreenshot(page, testName(this), '03-alerts-quiet')

    // A Node object no kubelet keeps (created through the admin API): its Ready condition is never True.
    await graphql(server.origin, admin, 'mutation E2eNode($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', {
      yaml: `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${NODE}\n`,
    })
    await alerts.firing('node-not-ready').waitFor({ state: 'visible', timeout: 60_000 })
    expect(await alerts.firing('node-not-ready').innerText()).to.match(/A node of the cluster is NotReady\. \(nodes_not_ready = 1, above 0\)/)
    expect(await alerts.live.innerText()).to.match(/node-not-ready fired/)
    expect(await alerts.ruleRow('node-not-ready').innerText()).to.match(/firing/)
    await saveScreenshot(page, testName(this), '04-alert-firing')
  })

  it('raising the threshold in the console resolves the alert at the next sample', async function () {
    this.timeout(120_000)
    const alerts = new AdminAlertsPage(page)
    await alerts.edit('node-not-ready')
    await alerts.threshold.waitFor({ state: 'visible' })
    await saveScreenshot(page, testName(this), '05-edit-threshold')
    await alerts.threshold.fill('1')
    await alerts.save.click()
    await alerts.nothingFiring.waitFor({ state: 'visible', timeout: 60_000 })
    expect(await alerts.live.innerText()).to.match(/node-not-ready resolved/)
    expect(await alerts.ruleRow('node-not-ready').innerText()).to.match(/nodes_not_ready > 1/)
    expect(await alerts.history.locator('tbody tr').first().innerText()).to.match(/node-not-ready[\s\S]*resolved/)
    const audit = await graphql<{ auditLog: { edges: { node: { action: string; resourceId: string } }[] } }>(
      server.origin,
      admin,
      'query E2eAudit { auditLog(first: 5, filter: { action: "alert-rule.update" }) { edges { node { action resourceId } } } }',
    )
    expect(audit.auditLog.edges.map((e) => e.node)).to.deep.equal([{ action: 'alert-rule.update', resourceId: 'node-not-ready' }])
    await saveScreenshot(page, testName(this), '06-alert-resolved')
  })

  it("shows a session's live connections (client IP, user agent, last activity) in the sessions list", async function () {
    this.timeout(180_000)
    await createTemplate(server.origin, admin, { name: 'e2e-monitor-notes', displayName: 'Notes', description: 'Notes for the monitoring e2e.', category: 'Office', appType: 'webapp' })
    const milo = await signInApi(server.origin, USER.username, USER.password)
    const { createSession } = await graphql<{ createSession: { id: string; name: string } }>(server.origin, milo, 'mutation E2eMonitorLaunch { createSession(input: { template: "e2e-monitor-notes" }) { id name } }')
    await waitFor(
      'the session to run on a kwok node',
      async () => ((await graphql<{ session: { phase: string } }>(server.origin, admin, 'query E2eMonitorPhase($id: ID!) { session(id: $id) { phase } }', { id: createSession.id })).session.phase === 'Running' ? true : undefined),
      { timeoutMs: 120_000 },
    )
    // The user connects from a client of its own: the connection records its address and user agent.
    const res = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...milo.headers },
      body: JSON.stringify({ query: 'mutation E2eMonitorConnect($id: ID!) { connectSession(id: $id) { connectionId } }', variables: { id: createSession.id } }),
    })
    const body = (await res.json()) as { data?: { connectSession: { connectionId: string } }; errors?: unknown }
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined)

    await new AdminShellPage(page).navigate('sessions')
    const sessions = new AdminSessionsPage(page)
    await sessions.row(createSession.name).waitFor({ state: 'visible' })
    const connections = await sessions.showConnections(createSession.name)
    await waitFor('the open connection', async () => ((await connections.innerText().catch(() => '')).includes(USER_AGENT) ? true : undefined))
    const text = await connections.innerText()
    expect(text).to.include(USER.username)
    expect(text).to.match(/127\.0\.0\.1|::1/)
    expect(text).to.match(/Last activity/)
    await saveScreenshot(page, testName(this), '07-session-connections')
  })
})
