import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminClusterPage } from '../pages/admin-cluster.page'
import { auditPage } from '../support/accessibility'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { animationsDone, launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
/** A kwok node of this journey only (tainted, so nothing else lands on it). */
const NODE = 'e2e-ops-node'
const TAINT = 'streamspace.io/e2e-ops'

const deployment = (name: string, replicas: number, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: default
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      nodeSelector: { kubernetes.io/hostname: ${NODE} }
      tolerations: [{ key: ${TAINT}, operator: Exists, effect: NoSchedule }]
      containers:
        - name: web
          image: ${image}
          ports: [{ containerPort: 80, name: http }]
`

describe('admin console: an admin cordons and drains a node (a PodDisruptionBudget blocks), scales, restarts and rolls back a Deployment, and reads endpoints and events (real server, control plane)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let admin: ApiSession
  let page: Page
  let cluster: AdminClusterPage

  this.bail(true)

  const apply = (yaml: string) => graphql(server.origin, admin, 'mutation E2eApply($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', { yaml })
  const status = async (kind: string, name: string) =>
    (await graphql<{ clusterResource: { status: string | null } | null }>(server.origin, admin, `query E2eStatus($name: String!) { clusterResource(kind: ${kind}, namespace: "default", name: $name) { status } }`, { name })).clusterResource?.status
  const image = async (name: string) => {
    const res = await graphql<{ clusterResource: { yaml: string } }>(server.origin, admin, 'query E2eYaml($name: String!) { clusterResource(kind: Deployment, namespace: "default", name: $name) { yaml } }', { name })
    return /image: (\S+)/.exec(res.clusterResource.yaml)?.[1]
  }

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 180_000)
    server = await startServer({
      name: 'admin-cluster-ops-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    // A kwok-simulated node (kwok manages nodes with its annotation) and workloads pinned to it, through the same API.
    await apply(`apiVersion: v1
kind: Node
metadata:
  name: ${NODE}
  annotations: { kwok.x-k8s.io/node: fake }
  labels: { kubernetes.io/hostname: ${NODE}, purpose: e2e-cluster-ops }
spec:
  taints: [{ key: ${TAINT}, value: "yes", effect: NoSchedule }]
`)
    await apply(deployment('e2e-web', 3, 'nginx:1.26'))
    await apply(deployment('e2e-guarded', 2, 'nginx:1.27'))
    await apply('apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: e2e-guarded\n  namespace: default\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: { app: e2e-guarded }\n')
    await apply('apiVersion: v1\nkind: Service\nmetadata:\n  name: e2e-web\n  namespace: default\nspec:\n  selector: { app: e2e-web }\n  ports: [{ name: http, port: 8080, targetPort: http }]\n')
    await waitFor('e2e-web to be ready', async () => ((await status('Deployment', 'e2e-web')) === '3/3 ready' ? true : undefined), { timeoutMs: 120_000 })
    await waitFor('e2e-guarded to be ready', async () => ((await status('Deployment', 'e2e-guarded')) === '2/2 ready' ? true : undefined), { timeoutMs: 120_000 })
    await waitFor('the budget to count the guarded pods', async () => ((await status('PodDisruptionBudget', 'e2e-guarded')) === '0 disruptions allowed' ? true : undefined), { timeoutMs: 120_000 })
    browser = await launchBrowser()
    page = browser.page
    cluster = new AdminClusterPage(page)
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('sees the node with its taint, cordons and uncordons it', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('cluster')
    await page.getByTestId(`node-row-${NODE}`).waitFor({ state: 'visible' })
    const row = cluster.nodesTable.locator('tbody tr').filter({ has: page.getByTestId(`node-row-${NODE}`) })
    expect(await row.innerText()).to.contain(`${TAINT}=yes:NoSchedule`)

    await page.getByTestId(`cordon-${NODE}`).click()
    await waitFor('the node to show as cordoned', async () => ((await page.getByTestId(`node-status-${NODE}`).innerText()).includes('cordoned') ? true : undefined))
    expect(await page.getByTestId('nodes-message').innerText()).to.contain(`${NODE} cordoned`)
    const nodes = await graphql<{ clusterNodes: { name: string; unschedulable: boolean }[] }>(server.origin, admin, 'query E2eNodes { clusterNodes { name unschedulable } }')
    expect(nodes.clusterNodes.find((n) => n.name === NODE)?.unschedulable).to.equal(true)
    await saveScreenshot(page, testName(this), '01-cordoned')

    await page.getByTestId(`uncordon-${NODE}`).click()
    await waitFor('the node to show as schedulable', async () => ((await page.getByTestId(`node-status-${NODE}`).innerText()).trim() === 'Ready' ? true : undefined))
  })

  it('drains the node: the other pods are evicted, the pods the budget protects are reported blocked, not forced', async function () {
    this.timeout(120_000)
    await page.getByTestId(`drain-${NODE}`).click()
    const dialog = page.getByTestId('drain-dialog')
    await dialog.waitFor({ state: 'visible' })
    await dialog.getByLabel('Timeout (s)').fill('5')
    await page.getByTestId('drain-start').click()
    await waitFor('the drain to end', async () => {
      const phase = page.getByTestId('drain-phase')
      if (!(await phase.count())) return undefined
      const text = (await phase.innerText()).trim()
      return text === 'INCOMPLETE' || text === 'DRAINED' ? text : undefined
    }, { timeoutMs: 60_000 })
    expect((await page.getByTestId('drain-phase').innerText()).trim()).to.equal('INCOMPLETE')
    expect(await page.getByTestId('drain-message').innerText()).to.contain('2 blocked by a PodDisruptionBudget')
    const pods = page.getByTestId('drain-pods')
    const blocked = await pods.locator('tbody tr').filter({ hasText: 'BLOCKED' }).count()
    const gone = await pods.locator('tbody tr').filter({ hasText: 'GONE' }).count()
    expect([blocked, gone]).to.deep.equal([2, 3])
    expect(await pods.innerText()).to.match(/disruption budget/i)
    await saveScreenshot(page, testName(this), '02-drain-blocked-by-budget')
    expect(await auditPage(page, testName(this), '02b-drain-accessibility', saveScreenshot)).to.deep.equal([])
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await waitFor('the node to show as cordoned', async () => ((await page.getByTestId(`node-status-${NODE}`).innerText()).includes('cordoned') ? true : undefined))
    // The guarded pods are still running; the evicted web pods wait for a node (their only node is cordoned).
    expect(await status('Deployment', 'e2e-guarded')).to.equal('2/2 ready')
    await waitFor('the evicted web pods to wait for a node', async () => ((await status('Deployment', 'e2e-web')) === '0/3 ready' ? true : undefined))
    await page.getByTestId(`uncordon-${NODE}`).click()
    await waitFor('e2e-web to be ready again', async () => ((await status('Deployment', 'e2e-web')) === '3/3 ready' ? true : undefined), { timeoutMs: 60_000 })
  })

  it('scales a Deployment, changes it, and rolls it back from its rollout history', async function () {
    this.timeout(120_000)
    await cluster.openResources()
    await cluster.selectKind('Deployment')
    await cluster.selectNamespace('default')
    await cluster.row('e2e-web').click()
    await cluster.waitForDialogOpen()
    await page.getByTestId('scale-replicas').locator('input').fill('2')
    await page.getByTestId('scale-apply').click()
    await waitFor('the scale confirmation', async () => ((await page.getByTestId('action-message').innerText()).includes('Scaled to 2 replicas') ? true : undefined))
    await waitFor('e2e-web at 2 replicas', async () => ((await status('Deployment', 'e2e-web')) === '2/2 ready' ? true : undefined), { timeoutMs: 60_000 })

    // Revision 2: a new image (applied through the API); the history shows both revisions.
    await apply(deployment('e2e-web', 2, 'nginx:1.27'))
    await page.getByTestId('workload-restart').click()
    await waitFor('the restart confirmation', async () => ((await page.getByTestId('action-message').innerText()).includes('Restarting') ? true : undefined))
    // Revision 3 shows up as soon as its ReplicaSet exists; it is "current" once the Deployment's own revision moved
    // to it (the controller's next write): wait for both.
    await waitFor('three revisions in the history, the third current', async () => ((await page.getByTestId('revision-3').count()) && (await page.getByTestId('revision-3').innerText()).includes('current') ? true : undefined), { timeoutMs: 60_000 })
    expect(await page.getByTestId('revision-1').innerText()).to.contain('nginx:1.26')
    await saveScreenshot(page, testName(this), '03-rollout-history')

    await page.getByTestId('undo-1').click()
    await page.getByTestId('confirm-ok').click()
    await waitFor('the rollback confirmation', async () => ((await page.getByTestId('action-message').innerText()).includes('revision 1') ? true : undefined))
    expect(await image('e2e-web')).to.equal('nginx:1.26')
    await waitFor('the rolled-back revision to become current', async () => ((await page.getByTestId('revision-4').count()) && (await page.getByTestId('revision-4').innerText()).includes('current') ? true : undefined), { timeoutMs: 60_000 })
    expect(await page.getByTestId('revision-4').innerText()).to.contain('nginx:1.26')
    await saveScreenshot(page, testName(this), '04-rolled-back')
    expect(await auditPage(page, testName(this), '04b-workload-accessibility', saveScreenshot)).to.deep.equal([])
    await page.keyboard.press('Escape')
    await cluster.dialog.waitFor({ state: 'hidden' })
  })

  it("shows a Service's ports and its endpoints", async function () {
    await waitFor('e2e-web ready after the rollback', async () => ((await status('Deployment', 'e2e-web')) === '2/2 ready' ? true : undefined), { timeoutMs: 60_000 })
    await cluster.selectKind('Service')
    await cluster.row('e2e-web').click()
    await cluster.waitForDialogOpen()
    const endpoints = page.getByTestId('service-endpoints')
    await endpoints.waitFor({ state: 'visible' })
    await waitFor('two ready endpoints', async () => {
      if ((await endpoints.innerText()).includes('2 ready of 2')) return true
      await endpoints.getByRole('button', { name: 'Refresh endpoints' }).click()
      return undefined
    }, { timeoutMs: 60_000 })
    const text = await endpoints.innerText()
    expect(text).to.contain('8080')
    expect(text).to.contain(NODE)
    expect(text).to.contain('http:80/TCP')
    await saveScreenshot(page, testName(this), '05-service-endpoints')
    await page.keyboard.press('Escape')
    await cluster.dialog.waitFor({ state: 'hidden' })
  })

  it('reads the events of the cluster', async function () {
    await page.getByTestId('tab-events').click()
    const table = page.getByTestId('events-table')
    await table.waitFor({ state: 'visible' })
    await waitFor('a scaling event of e2e-web', async () => ((await table.innerText()).includes('Deployment/e2e-web') ? true : undefined))
    expect(await table.innerText()).to.contain('ScalingReplicaSet')
    // The tab's slide has ended (for a screenshot that shows the panel in place).
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '06-events')
    expect(await auditPage(page, testName(this), '06b-events-accessibility', saveScreenshot)).to.deep.equal([])
  })

  it('browses a kind outside the write allow-list (discovery), read only, and sees which kinds the console may change', async function () {
    await page.getByTestId('tab-kinds').click()
    await page.getByTestId('api-kinds').waitFor({ state: 'visible' })
    await page.getByTestId('api-kind-filter').locator('input').fill('replica')
    const row = page.getByTestId('api-kinds').locator('tbody tr').filter({ has: page.getByTestId('api-kind-apps-replicasets') })
    await row.waitFor({ state: 'visible' })
    expect(await row.innerText()).to.contain('read only')
    await row.click()
    const objects = page.getByTestId('api-objects')
    const first = await waitFor('a ReplicaSet of e2e-web', async () => {
      const rows = await objects.locator('tbody tr').filter({ hasText: 'e2e-web-' }).all()
      return rows[0]
    })
    await first.click()
    const dialog = page.getByTestId('api-object-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await dialog.locator('.cm-content').innerText()).to.match(/kind: ReplicaSet/)
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '07-replicaset-read-only')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await page.getByTestId('api-kind-filter').locator('input').fill('deployment')
    const deployments = page.getByTestId('api-kinds').locator('tbody tr').filter({ has: page.getByTestId('api-kind-apps-deployments') })
    await deployments.waitFor({ state: 'visible' })
    expect(await deployments.innerText()).to.match(/scale[\s\S]*undo/)
    await saveScreenshot(page, testName(this), '08-write-allow-list')
    expect(await auditPage(page, testName(this), '08b-kinds-accessibility', saveScreenshot)).to.deep.equal([])
  })

  it('finds every action in the audit log', async function () {
    const audit = await graphql<{ auditLog: { edges: { node: { action: string; outcome: string } }[] } }>(server.origin, admin, 'query E2eAudit { auditLog(first: 100) { edges { node { action outcome } } } }')
    const actions = audit.auditLog.edges.map((e) => `${e.node.action}:${e.node.outcome}`)
    expect(actions).to.include.members([
      'cluster.node.cordon:success',
      'cluster.node.uncordon:success',
      'cluster.node.drain:failure',
      'cluster.workload.scale:success',
      'cluster.workload.restart:success',
      'cluster.deployment.undo:success',
    ])
  })
})
