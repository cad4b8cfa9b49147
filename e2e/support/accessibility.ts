import { readFileSync } from 'node:fs'
import type { AxeResults, ImpactValue, Result } from 'axe-core'
import type { Page } from 'playwright-core'

/** The WCAG 2.0 and 2.1 A/AA rules: what every page of both clients must pass. */
export const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const

/** axe-core's browser bundle, read from the e2e workspace's own dependency: nothing is fetched from a CDN. */
let axeSource: string | undefined
function axeScript(): string {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
  return axeSource
}

export interface AccessibilityViolation {
  rule: string
  impact: ImpactValue | undefined
  help: string
  /** One line per failing element: its selector and axe's summary of what to fix. */
  nodes: string[]
}

export interface AccessibilityReport {
  url: string
  violations: AccessibilityViolation[]
  /** Rules axe could not decide (e.g. contrast over an image); listed for the record, not failed. */
  incomplete: string[]
}

function summarize(result: Result): AccessibilityViolation {
  return {
    rule: result.id,
    impact: result.impact ?? undefined,
    help: result.help,
    nodes: result.nodes.map((node) => `${node.target.join(' ')}: ${(node.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`),
  }
}

/**
 * Runs axe-core (WCAG 2 A/AA) in the page as it is now, on the whole document.
 */
export async function checkAccessibility(page: Page): Promise<AccessibilityReport> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined')
  // Evaluated through the DevTools protocol: the pages' Content-Security-Policy (script-src 'self') refuses an
  // inline <script> tag, and governs neither this nor the engine it defines.
  if (!loaded) await page.evaluate(axeScript())
  const results = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }).axe
    return axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] })
  }, [...WCAG_AA_TAGS])
  return {
    url: results.url,
    violations: results.violations.map(summarize),
    incomplete: results.incomplete.map((r) => r.id),
  }
}

/** A readable list of violations for an assertion message. */
export function formatViolations(report: AccessibilityReport): string {
  if (report.violations.length === 0) return `${report.url}: no violations`
  return [
    `${report.url}: ${report.violations.length} WCAG A/AA violation(s)`,
    ...report.violations.flatMap((v) => [`  [${v.impact ?? 'unknown'}] ${v.rule}: ${v.help}`, ...v.nodes.slice(0, 8).map((n) => `      ${n}`), ...(v.nodes.length > 8 ? [`      ... and ${v.nodes.length - 8} more`] : [])]),
  ].join('\n')
}

/** Fails with the list of violations unless the page has none. */
export async function expectAccessible(page: Page, what: string): Promise<AccessibilityReport> {
  const report = await checkAccessibility(page)
  if (report.violations.length > 0) throw new Error(`${what} is not accessible (WCAG 2.1 A/AA):\n${formatViolations(report)}`)
  return report
}

export type ColorScheme = 'light' | 'dark'

/**
 * Checks the page as it is now in both colour schemes the clients follow (prefers-color-scheme), saving a
 * screenshot of each, and returns every violation found; the caller asserts none (so all pages' lists are seen).
 */
export async function auditPage(page: Page, testName: string, step: string, saveScreenshot: (page: Page, testName: string, step: string) => Promise<string>): Promise<string[]> {
  const problems: string[] = []
  for (const scheme of ['light', 'dark'] as ColorScheme[]) {
    await page.emulateMedia({ colorScheme: scheme })
    // Vuetify swaps the theme class on the media change; wait for it and for transitions to settle.
    await page.waitForFunction((dark) => document.querySelector('.v-application')?.classList.contains(dark ? 'v-theme--dark' : 'v-theme--light') ?? false, scheme === 'dark')
    await page.waitForTimeout(400)
    await saveScreenshot(page, testName, `${step}-${scheme}`)
    const report = await checkAccessibility(page)
    if (report.violations.length) problems.push(`${step} (${scheme}): ${formatViolations(report)}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
  return problems
}

/** What has the keyboard focus: its tag, role, accessible label or text (for messages and assertions). */
export async function focusedDescription(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    if (!el || el === document.body) return '(body)'
    const name = el.getAttribute('aria-label') ?? el.getAttribute('title') ?? el.innerText?.trim().split('\n')[0] ?? ''
    return `${el.tagName.toLowerCase()}${el.getAttribute('role') ? `[role=${el.getAttribute('role')}]` : ''} "${name.slice(0, 60)}"`
  })
}

/**
 * Presses Tab (unless the focus is there already) until the focused element matches `selector` (checked in the page with `Element.matches` on the
 * focused element or an ancestor), at most `maxTabs` times; fails with the path the focus took.
 */
export async function tabUntil(page: Page, selector: string, maxTabs = 40, key = 'Tab'): Promise<void> {
  const path: string[] = []
  for (let i = 0; i <= maxTabs; i++) {
    if (i > 0) await page.keyboard.press(key)
    const hit = await page.evaluate((sel) => {
      const el = document.activeElement
      return !!el && el !== document.body && (el.matches(sel) || !!el.closest(sel))
    }, selector)
    if (hit) return
    path.push(await focusedDescription(page))
  }
  throw new Error(`${key} never reached ${selector} in ${maxTabs} presses; focus went: ${path.join(' -> ')}`)
}

/**
 * The focused element shows that it has focus: a screenshot of it (with a margin for outlines) differs from one
 * taken with the focus gone elsewhere. Returns focus to it afterwards, as the keyboard left it.
 */
export async function expectFocusVisible(page: Page, what: string): Promise<void> {
  const box = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    if (!el || el === document.body) return null
    el.setAttribute('data-e2e-focused', '')
    const r = el.getBoundingClientRect()
    return { x: Math.max(0, r.x - 6), y: Math.max(0, r.y - 6), width: r.width + 12, height: r.height + 12 }
  })
  if (!box || box.width < 13 || box.height < 13) throw new Error(`${what}: nothing visible has the focus (${await focusedDescription(page)})`)
  await page.waitForTimeout(250)
  const focused = await page.screenshot({ clip: box })
  // A focus sink outside the element: the focus moves off without a pointer hovering anything.
  await page.evaluate(() => {
    const sink = document.createElement('span')
    sink.tabIndex = -1
    sink.id = 'e2e-focus-sink'
    sink.style.position = 'fixed'
    sink.style.left = '-100px'
    document.body.appendChild(sink)
    sink.focus()
  })
  await page.waitForTimeout(250)
  const blurred = await page.screenshot({ clip: box })
  // Back to the element by keyboard: Shift+Tab from the sink is not reliable, so focus it with the focus-visible heuristic kept (a key was pressed last).
  await page.evaluate(() => {
    const el = document.querySelector<HTMLElement>('[data-e2e-focused]')
    el?.removeAttribute('data-e2e-focused')
    document.getElementById('e2e-focus-sink')?.remove()
    el?.focus()
  })
  await page.waitForTimeout(150)
  if (focused.equals(blurred)) throw new Error(`${what}: the focused element looks the same with and without focus (no visible focus indicator)`)
}
