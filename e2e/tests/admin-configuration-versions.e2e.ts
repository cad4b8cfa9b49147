import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminConfigurationPage } from '../pages/admin-configuration.page'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { createKubeObject } from '../support/kube'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'

/** Home claims in the sessions' namespace may ask for at most 30Gi: the API server's admission refuses more. */
const LIMIT_RANGE = {
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'e2e-home-limit' },
  spec: { limits: [{ type: 'PersistentVolumeClaim', max: { storage: '30Gi' } }] },
}

describe('admin configuration: test changes against the API server, apply as a version, restore (real server, PostgreSQL, local cluster)', function () {
  let server: RunningServer
  let browser: BrowserSession
  let page: Page
  let config: AdminConfigurationPage
  let dataDir: string

  // One journey: each step needs the previous one.
  this.bail(true)

  before(async function () {
    this.timeout(300_000)
    // Our own data directory: the local cluster's admin kubeconfig is in it (the console offers no LimitRange).
    dataDir = await mkdtemp(join(tmpdir(), 'streamspace-e2e-config-'))
    server = await startServer({
      name: 'admin-configuration-versions-server',
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_DATA_DIR: dataDir, STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    })
    // The sessions' namespace appears once the server's session runtime has started: 404 until then.
    const status = await waitFor(
      'the LimitRange to be created',
      async () => {
        const code = await createKubeObject(join(dataDir, 'cluster', 'kubeconfig'), '/api/v1/namespaces/streamspace/limitranges', LIMIT_RANGE)
        return code === 404 ? undefined : code
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    )
    expect(status).to.equal(201)
    browser = await launchBrowser()
    page = browser.page
    config = new AdminConfigurationPage(page)
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(60_000)
    await browser?.close()
    await stopCleanly(server)
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('shows the settings grouped, each with the source of its value', async function () {
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await page.waitForURL(new RegExp(`^${server.origin}/admin/$`))
    await new AdminShellPage(page).navigate('configuration')
    await config.form.waitFor({ state: 'visible' })
    await waitFor('the settings to load', async () => ((await config.input('storage.homeSize').count()) > 0 ? true : undefined))
    for (const group of ['ROUTING', 'STORAGE', 'RESOURCES', 'SESSIONS', 'FEATURES', 'QUOTAS', 'PORTAL']) {
      expect(await page.getByTestId(`settings-group-${group}`).count(), group).to.equal(1)
    }
    expect(await config.input('storage.homeSize').inputValue()).to.equal('10Gi')
    expect((await config.source('storage.homeSize').innerText()).trim()).to.equal('built-in default')
    // Set by the test's environment.
    expect((await config.source('sessions.heartbeatInterval').innerText()).trim()).to.match(/built-in default|from environment/)
    expect(await config.switch('features.sharing').isChecked()).to.equal(true)
    expect((await config.pending.innerText()).trim()).to.equal('0 pending changes')
    await saveScreenshot(page, testName(this), '01-grouped-form')
  })

  it('Test changes shows a broken rule under its field and saves nothing', async function () {
    await config.input('routing.ingressClass').fill('Bad_Class')
    await config.testChanges.click()
    const text = await waitFor('the field error', async () => {
      const t = await config.fieldMessages('routing.ingressClass').innerText()
      return /Must be a Kubernetes object name/.test(t) ? t : undefined
    })
    expect(text).to.contain('lower-case letters')
    expect((await config.verdict.innerText()).trim()).to.equal('these changes would be refused')
    expect((await page.getByTestId('preview-dry-run-skipped').innerText()).trim()).to.match(/break their rules/)
    await saveScreenshot(page, testName(this), '02-field-error')
  })

  it("Test changes runs a sample session's objects against the API server: its refusal shows on the field", async function () {
    await config.input('routing.ingressClass').fill('nginx')
    await config.input('storage.homeSize').fill('50Gi')
    await config.testChanges.click()
    await waitFor('the dry run', async () => ((await config.dryRun('PersistentVolumeClaim').count()) > 0 ? true : undefined))
    expect(await config.dryRun('PersistentVolumeClaim').innerText()).to.match(/PersistentVolumeClaim refused[\s\S]*maximum storage usage per PersistentVolumeClaim is 30Gi/)
    expect(await config.dryRun('Deployment').innerText()).to.contain('Deployment accepted')
    expect(await config.fieldMessages('storage.homeSize').innerText()).to.match(/The API server refused the sample PersistentVolumeClaim/)
    expect((await config.verdict.innerText()).trim()).to.equal('these changes would be refused')
    await saveScreenshot(page, testName(this), '03-dry-run-refused')
  })

  it('a value the API server accepts: the diff and the dry run, then Apply makes version 1', async function () {
    await config.input('storage.homeSize').fill('20Gi')
    await config.testChanges.click()
    await waitFor('the verdict', async () => ((await config.verdict.innerText().catch(() => '')).includes('can be applied') ? true : undefined))
    const diff = await config.diff.innerText()
    expect(diff).to.match(/Home volume size[\s\S]*10Gi[\s\S]*built-in default[\s\S]*20Gi[\s\S]*saved here/)
    expect(diff).to.match(/Ingress class[\s\S]*\(empty\)[\s\S]*nginx/)
    for (const kind of ['PersistentVolumeClaim', 'Deployment']) expect(await config.dryRun(kind).innerText()).to.contain(`${kind} accepted`)
    // Behind the gateway, with no Ingress, a session has no Service: the gateway reaches its pod by address.
    expect(await config.dryRun('Service').count()).to.equal(0)
    await saveScreenshot(page, testName(this), '04-test-passed-with-diff')

    await config.apply.click()
    await waitFor('the applied message', async () => ((await config.message.innerText().catch(() => '')).includes('Applied as version 1') ? true : undefined))
    await waitFor('the saved source', async () => ((await config.source('storage.homeSize').innerText()).trim() === 'saved by admin' ? true : undefined))
    expect(await config.input('storage.homeSize').inputValue()).to.equal('20Gi')
    await config.version(1).waitFor({ state: 'visible' })
    expect(await config.version(1).innerText()).to.match(/Version 1\s+Applied by admin[\s\S]*\(2 settings\)/)
    await saveScreenshot(page, testName(this), '05-applied-version-1')
  })

  it('switching sharing off is version 2; restoring version 1 brings it back in one step as version 3', async function () {
    await config.switch('features.sharing').click()
    await config.apply.click()
    await waitFor('version 2', async () => ((await config.message.innerText().catch(() => '')).includes('Applied as version 2') ? true : undefined))
    expect(await config.switch('features.sharing').isChecked()).to.equal(false)

    await config.restore(1)
    await waitFor('the restore', async () => ((await config.message.innerText().catch(() => '')).includes('Restored version 1 as version 3') ? true : undefined))
    await waitFor('sharing on again', async () => ((await config.switch('features.sharing').isChecked()) ? true : undefined))
    expect(await config.input('storage.homeSize').inputValue()).to.equal('20Gi')
    await config.version(3).locator('.v-expansion-panel-title').click()
    const entry = await config.version(3).innerText()
    expect(entry).to.match(/Restored version 1 by admin/)
    expect(entry).to.match(/Sharing allowed[\s\S]*off[\s\S]*on/)
    await saveScreenshot(page, testName(this), '06-restored-version-1')
  })
})
