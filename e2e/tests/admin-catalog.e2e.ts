import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Page } from 'playwright-core'
import { AdminLoginPage } from '../pages/admin-login.page'
import { AdminShellPage } from '../pages/admin-shell.page'
import { LauncherPage } from '../pages/launcher.page'
import { LoginPage } from '../pages/login.page'
import { checkAccessibility, formatViolations } from '../support/accessibility'
import { createTemplate, createUser, graphql, signInApi } from '../support/api'
import type { ApiSession } from '../support/api'
import { animationsDone, launchBrowser, saveScreenshot, screenshotFailures, testName } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-admin-password'
const USER = { username: 'erin', password: 'erin-e2e-password' }
/** The first start on a machine may build the control-plane binaries (scripts/k8s/build.sh). */
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000

/** WCAG 2 AA violations of the page as it is now, collected so one run lists every screen's. */
const violations: string[] = []
async function audit(page: Page, what: string): Promise<void> {
  const report = await checkAccessibility(page)
  if (report.violations.length) violations.push(`${what}:\n${formatViolations(report)}`)
}

function manifest(name: string, displayName: string, category: string, tags: string[], image: string): string {
  return [
    'apiVersion: stream.streamspace.io/v1alpha1',
    'kind: Template',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  displayName: ${JSON.stringify(displayName)}`,
    `  description: ${JSON.stringify(`${displayName}, from the e2e catalog.`)}`,
    `  category: ${category}`,
    `  tags: [${tags.join(', ')}]`,
    `  baseImage: ${image}`,
    '  appType: webapp',
    '  webapp:',
    '    port: 8080',
    '    healthCheck: /api/health',
    '',
  ].join('\n')
}

/** A local git repository with two templates in two categories, one with a README (read through file:// with STREAMSPACE_GIT_ALLOW_FILE). */
function catalogRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamspace-e2e-admin-catalog-'))
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true })
    writeFileSync(join(dir, rel), text)
  }
  write('templates/office/notes/template.yaml', manifest('notes', 'Notes', 'Office', ['office', 'writing'], 'registry.example.test/streamspace/notes:2.0'))
  write('templates/office/notes/README.md', '# Notes\n\nWrite notes in the browser.\n')
  write('templates/design/sketch/template.yaml', manifest('sketch', 'Sketch', 'Design', ['design'], 'registry.example.test/streamspace/sketch:1.0'))
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', ...args], { cwd: dir, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  git('add', '.')
  git('commit', '-q', '-m', 'catalog')
  return dir
}

describe('admin catalog and templates: ratings and reviews, usage, catalog filters and details, repository edit and live sync, template form (real server, PostgreSQL, control plane)', function () {
  let server: RunningServer
  let admin: ApiSession
  let userBrowser: BrowserSession
  let adminBrowser: BrowserSession
  let page: Page
  let repoDir = ''

  this.bail(true)

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 180_000)
    repoDir = catalogRepository()
    server = await startServer({
      name: 'admin-catalog-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: { STREAMSPACE_CLUSTER: 'local', STREAMSPACE_ADMIN_USERNAME: 'admin', STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD, STREAMSPACE_GIT_ALLOW_FILE: 'true' },
    })
    admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    // Installed at image 1.0; the catalog offers 2.0, so the details show an install diff.
    await createTemplate(server.origin, admin, { name: 'notes', displayName: 'Notes', description: 'Take notes.', category: 'Office', appType: 'webapp' })
    await graphql(server.origin, admin, 'mutation E2eAddRepo($url: String!) { addRepository(input: { name: "e2e-catalog", url: $url, autoSync: false }) { id } }', { url: `file://${repoDir}` })
    userBrowser = await launchBrowser()
    adminBrowser = await launchBrowser()
  })

  screenshotFailures(() => ({ '': page }))

  after(async function () {
    this.timeout(120_000)
    await userBrowser?.close()
    await adminBrowser?.close()
    await stopCleanly(server)
    if (repoDir) rmSync(repoDir, { recursive: true, force: true })
  })

  it('portal: a user rates an app with a short review, edits it, and sees the rating on the card', async function () {
    page = userBrowser.page
    const login = new LoginPage(page)
    await login.open(server.origin)
    await login.signIn(USER.username, USER.password)
    const launcher = new LauncherPage(page)
    await launcher.waitUntilLoaded()
    await launcher.card('Notes').getByTestId('app-rating').click()
    const dialog = page.getByTestId('rate-dialog')
    await dialog.waitFor({ state: 'visible' })
    await dialog.getByTestId('rate-stars').locator('label[for$="-3"]').click()
    await dialog.getByTestId('rate-review').locator('textarea').fill('Quick and simple.')
    await dialog.getByTestId('rate-save').click()
    await dialog.getByTestId('rate-reviews').getByText('Quick and simple.').waitFor()
    // Edit: four stars now; still one review.
    await dialog.getByTestId('rate-stars').locator('label[for$="-4"]').click()
    await dialog.getByTestId('rate-save').click()
    await waitFor('the edited rating', async () => ((await dialog.getByText('★★★★☆').count()) === 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 })
    expect(await dialog.getByTestId('rate-reviews').locator('.v-list-item').count()).to.equal(1)
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-rate-dialog')
    await audit(page, 'the rate dialog')
    await page.keyboard.press('Escape')
    await waitFor('the card rating', async () => ((await launcher.card('Notes').getByTestId('app-rating').innerText()).includes('4.0 (1)') ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 })
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-launcher-rating')
  })

  it('admin: repositories sync all with live progress, and an edit of interval, autoSync, visibility and auth', async function () {
    page = adminBrowser.page
    const login = new AdminLoginPage(page)
    await login.open(server.origin)
    await login.signIn('admin', ADMIN_PASSWORD)
    await new AdminShellPage(page).navigate('catalog')
    const row = page.getByRole('row').filter({ hasText: 'e2e-catalog' })
    await row.waitFor()
    await page.getByTestId('repositories-sync-all').click()
    await page.getByTestId('repository-progress-e2e-catalog').filter({ hasText: /2 templates|synced|Synced/i }).waitFor({ timeout: 60_000 })
    await row.getByText('Ready').waitFor({ timeout: 30_000 })
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-synced')
    await page.getByTestId('repository-edit-e2e-catalog').click()
    const dialog = page.getByTestId('repository-edit-dialog')
    await dialog.getByTestId('repository-interval').locator('input').fill('30m')
    await dialog.getByTestId('repository-autosync').locator('input').uncheck()
    await dialog.getByTestId('repository-public').locator('input').uncheck()
    await dialog.getByTestId('repository-allowed-users').locator('input').fill(USER.username)
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-edit')
    await audit(page, 'the repository edit form')
    await dialog.getByTestId('repository-save').click()
    await dialog.waitFor({ state: 'hidden' })
    const saved = await graphql<{ repositories: { syncInterval: string; autoSync: boolean; public: boolean; allowedUsers: string[]; authType: string }[] }>(
      server.origin,
      admin,
      '{ repositories { syncInterval autoSync public allowedUsers authType } }',
    )
    expect(saved.repositories[0]).to.deep.equal({ syncInterval: '30m', autoSync: false, public: false, allowedUsers: [USER.username], authType: 'NONE' })
  })

  it('admin: the catalog browser filters by category, repository and tag, sorts, and shows details with README, manifest and install diff', async function () {
    await page.getByRole('tab', { name: 'Browse and install' }).click()
    const table = page.getByTestId('catalog-table')
    await table.getByText('Sketch').waitFor()
    await page.getByTestId('catalog-filter-category').click()
    await page.getByRole('option', { name: /Office/ }).click()
    await waitFor('the category filter', async () => ((await table.getByText('Sketch').count()) === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 })
    await page.getByTestId('catalog-filter-tags').locator('input').fill('writing')
    await table.getByText('Notes').waitFor()
    await expectRatingShown()
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-filtered')
    await audit(page, 'the catalog browser')
    await page.getByTestId('catalog-details-notes').click()
    const details = page.getByTestId('catalog-details')
    await details.getByTestId('catalog-details-readme').getByText('Write notes in the browser.').waitFor()
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '02-details-readme')
    await audit(page, 'the catalog details')
    await details.getByTestId('catalog-details-diff-tab').click()
    await details.getByTestId('catalog-details-diff').getByText(/baseImage: .*notes:1\.0.* -> .*notes:2\.0/).waitFor()
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '03-details-diff')
    await page.keyboard.press('Escape')

    async function expectRatingShown(): Promise<void> {
      await page.getByTestId('catalog-rating-notes').getByText('4.0 (1)').waitFor()
    }
  })

  it('admin: templates show rating and usage; an existing template opens as a form beside its YAML, and a form change applies', async function () {
    await new AdminShellPage(page).navigate('templates')
    await page.getByTestId('template-rating-notes').getByText('4.0 (1)').waitFor()
    expect((await page.getByTestId('template-active-notes').innerText()).trim()).to.equal('0')
    await page.getByTestId('template-yaml-notes').click()
    const editor = page.getByTestId('template-editor')
    await editor.waitFor()
    expect(await editor.getByTestId('template-form-name').locator('input').inputValue()).to.equal('notes')
    await editor.getByTestId('template-form-display-name').locator('input').fill('Team notes')
    await editor.getByTestId('yaml-editor').getByText('"displayName": "Team notes"').waitFor()
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-form-beside-yaml')
    await audit(page, 'the template editor')
    await editor.getByTestId('template-apply-submit').click()
    await editor.getByTestId('template-message').getByText('Applied template notes').waitFor()
    const t = await graphql<{ template: { displayName: string } }>(server.origin, admin, '{ template(name: "notes") { displayName } }')
    expect(t.template.displayName).to.equal('Team notes')
    await page.keyboard.press('Escape')
    await editor.waitFor({ state: 'hidden' })
  })

  it("admin: reads a template's reviews and deletes a user's review (moderation, audited)", async function () {
    await page.getByTestId('template-rating-notes').click()
    const dialog = page.getByTestId('template-reviews-dialog')
    await dialog.getByText('Quick and simple.').waitFor()
    await animationsDone(page)
    await saveScreenshot(page, testName(this), '01-reviews')
    await audit(page, 'the template reviews dialog')
    await dialog.getByTestId(`template-review-delete-${USER.username}`).click()
    await dialog.getByText('No reviews.').waitFor()
    const rows = await graphql<{ auditLog: { edges: { node: { action: string } }[] } }>(
      server.origin,
      admin,
      '{ auditLog(first: 5, filter: { action: "template.review.delete" }) { edges { node { action } } } }',
    )
    expect(rows.auditLog.edges).to.have.length(1)
  })

  it('every screen of this journey passes the automated WCAG 2 AA check', function () {
    expect(violations, violations.join('\n')).to.deep.equal([])
  })
})
