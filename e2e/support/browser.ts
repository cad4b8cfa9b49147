import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { artifactDir, slug } from './artifacts'

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

// Quiet, deterministic Chromium: no sandbox (runs as root in CI), no GPU, and none of the browser's
// own background traffic, so every request seen comes from the page under test.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Every URL the pages of a browser context asked for: documents, scripts, styles, fonts, workers, fetches, WebSockets. */
export class RequestRecorder {
  readonly urls: string[] = []

  attach(context: BrowserContext): void {
    context.on('request', (request) => this.urls.push(request.url()))
    const watchWebSockets = (page: Page): void => {
      page.on('websocket', (socket) => this.urls.push(socket.url()))
    }
    context.pages().forEach(watchWebSockets)
    context.on('page', watchWebSockets)
  }

  /** URLs whose origin is not `allowedOrigin` (e.g. `http://127.0.0.1:41234`); in-page data: and blob: URLs are local. */
  externalTo(allowedOrigin: string): string[] {
    const allowed = new URL(allowedOrigin)
    const allowedHosts = new Set([allowed.host])
    return this.urls.filter((raw) => {
      const url = new URL(raw)
      if (url.protocol === 'data:' || url.protocol === 'blob:') return false
      const sameScheme = url.protocol === allowed.protocol || url.protocol === (allowed.protocol === 'https:' ? 'wss:' : 'ws:')
      return !(sameScheme && allowedHosts.has(url.host))
    })
  }
}

/** Browser contexts open now, with the last errors their pages reported: a failing test prints them (support/diagnostics.ts). */
export interface OpenBrowser {
  context: BrowserContext
  pageErrors: string[]
}
const openBrowsers = new Set<OpenBrowser>()
export function openBrowserContexts(): OpenBrowser[] {
  return [...openBrowsers]
}

function recordPageErrors(context: BrowserContext): OpenBrowser {
  const entry: OpenBrowser = { context, pageErrors: [] }
  const keep = (text: string): void => {
    entry.pageErrors.push(`${new Date().toISOString().slice(11, 23)} ${text.slice(0, 500)}`)
    if (entry.pageErrors.length > 30) entry.pageErrors.shift()
  }
  const watch = (page: Page): void => {
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') keep(`console.${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => keep(`uncaught: ${error.message}`))
  }
  context.pages().forEach(watch)
  context.on('page', watch)
  return entry
}

export interface BrowserSession {
  readonly context: BrowserContext
  readonly page: Page
  readonly requests: RequestRecorder
  close(): Promise<void>
}

/** Launches Chromium with a fresh, throw-away profile and one open page whose requests are recorded. */
export async function launchBrowser(): Promise<BrowserSession> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'streamspace-e2e-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  })
  const requests = new RequestRecorder()
  requests.attach(context)
  const open = recordPageErrors(context)
  openBrowsers.add(open)
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    requests,
    async close() {
      openBrowsers.delete(open)
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

/** Saves `e2e/artifacts/<test>/<step>.png` and returns its path. */
export async function saveScreenshot(page: Page, testName: string, step: string): Promise<string> {
  const path = join(artifactDir(testName), `${slug(step)}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/** The running test's full title: the folder its screenshots go to. */
export function testName(context: Mocha.Context): string {
  return context.test?.fullTitle() ?? 'unnamed'
}

/**
 * Registers an afterEach hook (call it inside a describe) that screenshots each open page when a test failed:
 * `failure.png`, or `failure-<label>.png` for a labelled one, e.g. `screenshotFailures(() => ({ admin: page, portal }))`.
 */
export function screenshotFailures(pages: () => Record<string, Page | undefined>): void {
  afterEach(async function () {
    const test = this.currentTest
    if (test?.state !== 'failed') return
    for (const [label, page] of Object.entries(pages())) {
      if (page && !page.isClosed()) await saveScreenshot(page, test.fullTitle(), label ? `failure-${label}` : 'failure').catch(() => undefined)
    }
  })
}

/** Waits until no CSS transition or animation runs (a fading dialog or menu), so a screenshot or check sees the page settled. */
export async function animationsDone(page: Page, timeoutMs?: number): Promise<void> {
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, timeoutMs === undefined ? {} : { timeout: timeoutMs })
}
