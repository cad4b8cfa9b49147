import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminClusterPage } from '../pages/admin-cluster.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { graphql, signInApi, type ApiSession } from '../support/api'
import { animationsDone, launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000
/** A kwok node of the local cluster: kwok simulates its kubelet's resource metrics, metrics-server serves them. */
const NODE = 'kwok-node-0'

describe('admin console: node and pod usage from the metrics API in the cluster views, with graphs over time (real server, control plane, metrics-server)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let page: Page
  let admin: ApiSession

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 180_000)
    server = await startServer({
      name: 'admin-node-usage-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      // Samples every second, so the graphs have points within the test.
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD, STREAMSPACE_MONITORING_INTERVAL: '1s' },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    // A pod on the node whose simulated usage kwok takes from its annotations.
    await graphql(server.origin, admin, 'mutation E2eApply($yaml: String!) { applyClusterResourceYaml(yaml: $yaml) { name } }', {
      yaml: `apiVersion: v1
kind: Pod
metadata:
  name: e2e-busy
  namespace: default
  annotations: { kwok.x-k8s.io/usage-cpu: 1500m, kwok.x-k8s.io/usage-memory: 2Gi }
spec:
  nodeName: ${NODE}
  containers: [{ name: work, image: busybox }]
`,
    })
    // The local mode starts metrics-server beside the server; its first figures need two scrapes of each node.
    await waitFor(
      `usage of ${NODE} from the metrics API`,
      async () => {
        const res = await graphql<{ clusterNodes: { name: string; usage: { memoryBytes: number } | null; usageUnavailableReason: string | null }[] }>(
          server.origin,
          admin,
          'query E2eUsage { clusterNodes { name usage { memoryBytes } usageUnavailableReason } }',
        )
        return res.clusterNodes.find((n) => n.name === NODE)?.usage ? true : undefined
      },
      { timeoutMs: CLUSTER_START_TIMEOUT_MS },
    )
    browser = await launchBrowser()
    page = browser.page
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('shows each node\'s CPU and memory in use with its share of allocatable, and the usage graphs of one node', async function () {
    this.timeout(120_000)
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('cluster')
    const cluster = new AdminClusterPage(page)
    await cluster.nodesTable.waitFor({ state: 'visible' })
    const usage = page.getByTestId(`node-usage-${NODE}`)
    await usage.waitFor({ state: 'visible' })
    // 1.5 of 16 cores and 2 of 64 GiB: kwok's simulated kubelet figures through metrics-server.
    await waitFor('the usage figures in the table', async () => (/1\.50 cores \(9\.4%\) \/ 2\.0 GiB \(3\.1%\)/.test(await usage.innerText()) ? true : undefined), { timeoutMs: 60_000 })
    await saveScreenshot(page, testName(this), '01-nodes-usage')

    await page.getByTestId(`usage-graphs-${NODE}`).click()
    const dialog = page.getByTestId('node-usage-dialog')
    await dialog.waitFor({ state: 'visible' })
    // The leader samples every second: the memory chart's summary names its latest point once there is one.
    const memoryChart = dialog.getByTestId('chart-Memory').locator('canvas')
    await waitFor('a sampled point in the memory graph', async () => ((await memoryChart.getAttribute('aria-label'))?.includes('no data') === false ? true : undefined), { timeoutMs: 60_000 })
    expect(await memoryChart.getAttribute('aria-label')).to.match(/Memory in use: \d/)
    // The dialog fades in: screenshot it once no animation runs.
    await animationsDone(page, 15_000)
    await saveScreenshot(page, testName(this), '02-node-usage-graphs')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
  })

  it('shows each pod\'s CPU and memory in use in the pods table', async function () {
    this.timeout(120_000)
    const cluster = new AdminClusterPage(page)
    await cluster.openResources()
    await cluster.selectKind('Pod')
    await cluster.selectNamespace('default')
    await cluster.row('e2e-busy').waitFor({ state: 'visible' })
    const usage = page.getByTestId('pod-usage-e2e-busy')
    // kwok's simulated container figures of the pod, through metrics-server, as kubectl top pod prints them.
    await waitFor('the pod usage figures in the table', async () => (/1\.50 cores \/ 2\.0 GiB/.test(await usage.innerText()) ? true : undefined), { timeoutMs: 90_000 })
    // The namespace menu fades out: screenshot the table once no animation runs.
    await animationsDone(page, 15_000)
    await saveScreenshot(page, testName(this), '03-pods-usage')
  })
})
