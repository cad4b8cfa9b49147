import { expect } from 'chai'
import { chromium } from 'playwright-core'
import type { Response } from 'playwright-core'
import { LoginPage } from '../pages/login.page'
import { MySessionsPage } from '../pages/my-sessions.page'
import { createUser, signInApi } from '../support/api'
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchBrowser, saveScreenshot } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { waitFor } from '../support/wait'

const ADMIN_PASSWORD = 'e2e-refresh-admin-password'
const USER = { username: 'carol', password: 'carol-e2e-password' }
/** Access tokens live 6 s here, so the portal must refresh several times while the user works. */
const ACCESS_TOKEN_TTL = '6s'
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000

describe('portal: silent token refresh, socket reconnection (6-second access tokens), phone layout and dark mode', function () {
  let server: RunningServer
  let browser: BrowserSession
  const refreshes: { status: number; accessToken?: string }[] = []

  before(async function () {
    this.timeout(CLUSTER_START_TIMEOUT_MS + 120_000)
    server = await startServer({
      name: 'portal-refresh-server',
      startTimeoutMs: CLUSTER_START_TIMEOUT_MS,
      env: {
        STREAMSPACE_CLUSTER: 'local',
        STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STREAMSPACE_ACCESS_TOKEN_TTL: ACCESS_TOKEN_TTL,
      },
    })
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await createUser(server.origin, admin, USER.username, USER.password)
    browser = await launchBrowser()
    const page = browser.page
    page.on('response', (response: Response) => {
      const path = new URL(response.url()).pathname
      if (path === '/auth/refresh' && response.request().method() === 'POST') {
        void response
          .json()
          .then((body: { accessToken?: string }) => refreshes.push({ status: response.status(), accessToken: body.accessToken }))
          .catch(() => refreshes.push({ status: response.status() }))
      }
    })
  })

  after(async function () {
    this.timeout(120_000)
    await browser?.close()
    await stopCleanly(server)
  })

  it('stays signed in across several token lifetimes, refreshing in the background', async function () {
    this.timeout(120_000)
    const page = browser.page
    const login = new LoginPage(page)
    await login.open(server.origin)
    // Opening the portal signed out tries one silent restore from the (absent) refresh cookie: a 401 by design.
    const signedInAt = refreshes.length
    await login.signIn(USER.username, USER.password)
    const sessions = new MySessionsPage(page)
    await page.waitForURL((url) => !url.pathname.startsWith('/login'))
    await sessions.open(server.origin) // a page with a live subscription (the caller's sessions)
    await saveScreenshot(page, this.test!.fullTitle(), '01-signed-in')

    // Three successful refreshes means the user kept working through at least three 6-second tokens.
    const afterSignIn = () => refreshes.slice(signedInAt)
    await waitFor('three successful background refreshes', async () => (afterSignIn().filter((r) => r.status === 200).length >= 3 ? true : undefined), {
      timeoutMs: 60_000,
    })
    expect(afterSignIn().every((r) => r.status === 200), JSON.stringify(afterSignIn().map((r) => r.status))).to.equal(true)

    // Still signed in: reloading the list is answered for this user, not with the sign-in page.
    await sessions.open(server.origin)
    expect(new URL(page.url()).pathname).to.equal('/sessions')
    await sessions.empty.waitFor({ state: 'visible' })
    await saveScreenshot(page, this.test!.fullTitle(), '02-still-signed-in')
  })

  it('restarts the subscription socket with each fresh token, resubscribes and reads the list again', async function () {
    this.timeout(120_000)
    // A plain (non-persistent) browser: Chromium reports WebSocket frames to playwright for it.
    const plain = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true })
    try {
      const page = await plain.newPage()
      const inits: string[] = []
      let subscribesAfterReconnect = 0
      page.on('websocket', (ws) => {
        if (!ws.url().endsWith('/graphql')) return
        ws.on('framesent', (frame) => {
          const message = JSON.parse(String(frame.payload)) as { type?: string; payload?: { authorization?: string } }
          if (message.type === 'connection_init') inits.push(message.payload?.authorization ?? '')
          if (message.type === 'subscribe' && inits.length > 1) subscribesAfterReconnect++
        })
      })
      // The list read again after a reconnect: events sent while the socket was down would otherwise be lost.
      let listReadsAfterReconnect = 0
      page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().endsWith('/graphql') && (request.postData() ?? '').includes('"operationName":"MySessions"') && inits.length > 1) {
          listReadsAfterReconnect++
        }
      })
      const login = new LoginPage(page)
      await login.open(server.origin)
      await login.signIn(USER.username, USER.password)
      await page.waitForURL((url) => !url.pathname.startsWith('/login'))
      await new MySessionsPage(page).open(server.origin)
      await waitFor('three socket connections, each with its own token', async () => (new Set(inits).size >= 3 ? true : undefined), { timeoutMs: 60_000 })
      expect(inits.every((t) => t.startsWith('Bearer ')), 'every connection_init carries a token').to.equal(true)
      expect(subscribesAfterReconnect, 'subscriptions resumed on the new sockets').to.be.greaterThan(0)
      await waitFor('My sessions read again after a reconnect', async () => (listReadsAfterReconnect > 0 ? true : undefined), { timeoutMs: 15_000 })
      await saveScreenshot(page, this.test!.fullTitle(), '01-after-reconnects')
    } finally {
      await plain.close()
    }
  })

  it('follows the system dark mode and fits a phone screen without horizontal scrolling', async function () {
    this.timeout(120_000)
    const plain = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true })
    try {
      const context = await plain.newContext({ colorScheme: 'dark', viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true })
      const page = await context.newPage()
      const login = new LoginPage(page)
      await login.open(server.origin)
      await login.signIn(USER.username, USER.password)
      await page.waitForURL((url) => !url.pathname.startsWith('/login'))
      const sessions = new MySessionsPage(page)
      await sessions.open(server.origin)
      const layout = await page.evaluate(() => ({
        dark: document.querySelector('.v-application')?.classList.contains('v-theme--dark') ?? false,
        background: getComputedStyle(document.querySelector('.v-application')!).backgroundColor,
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      }))
      expect(layout.dark, 'Vuetify dark theme under prefers-color-scheme: dark').to.equal(true)
      const [r, g, b] = (layout.background.match(/\d+/g) ?? ['255', '255', '255']).map(Number)
      expect(r + g + b, `a dark background (${layout.background})`).to.be.below(200)
      expect(layout.overflow, 'horizontal overflow in px at 375 px wide').to.be.at.most(0)
      await saveScreenshot(page, this.test!.fullTitle(), '01-phone-dark')
    } finally {
      await plain.close()
    }
  })
})
