import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Context } from 'mocha'
import { artifactDir, slug } from './artifacts'
import { openBrowserContexts } from './browser'
import { liveServerLogs } from './server'

/**
 * Mocha root hooks (loaded by .mocharc.cjs): when a test fails, print what a CI log needs to explain it, since
 * CI keeps no artifacts: for every open browser page its URL, visible text and recent console errors (and a
 * `failure-*.png` screenshot), and for every running server the warnings and errors of its log and its last lines.
 */

const MAX_TEXT = 1500
const LOG_LINES = 25
const WARNINGS = 40

interface LogLine {
  level?: number
  time?: string
  msg?: string
  component?: string
  err?: unknown
  [key: string]: unknown
}

/** One line per log record, short: time, level, component, message and the few fields that say what happened. */
function summarize(raw: string): string {
  let line: LogLine
  try {
    line = JSON.parse(raw) as LogLine
  } catch {
    return raw.slice(0, 300)
  }
  const level = line.level === undefined ? '' : line.level >= 50 ? 'ERROR' : line.level >= 40 ? 'WARN' : line.level >= 30 ? 'info' : 'debug'
  const req = line['req'] as { method?: string; url?: string } | undefined
  const res = line['res'] as { statusCode?: number } | undefined
  if (req?.url) {
    // Request lines: method, path, status and time only (headers are noise here).
    return `${(line.time ?? '').slice(11, 23)} ${line.msg ?? ''} ${req.method ?? ''} ${req.url.slice(0, 120)} -> ${res?.statusCode ?? '?'} (${String(line['responseTime'] ?? '?')} ms)`
  }
  const skip = new Set(['level', 'time', 'msg', 'component', 'service', 'pid', 'hostname', 'reqId'])
  const fields = Object.entries(line)
    .filter(([key]) => !skip.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ')
  return `${(line.time ?? '').slice(11, 23)} ${level} ${line.component ?? ''} ${line.msg ?? ''} ${fields}`.slice(0, 400)
}

function serverReport(name: string, logFile: string): string {
  let lines: string[]
  try {
    lines = readFileSync(logFile, 'utf8').trimEnd().split('\n')
  } catch {
    return `  server ${name}: no log at ${logFile}`
  }
  const warnings = lines.filter((l) => /"level":(4|5|6)\d/.test(l)).slice(-WARNINGS)
  return [
    `  server ${name} (${logFile}): ${warnings.length} warnings/errors (last ${WARNINGS}):`,
    ...warnings.map((l) => `    ${summarize(l)}`),
    `  server ${name}: last ${LOG_LINES} lines:`,
    ...lines
      .filter((l) => !/"url":"\/(assets|favicon)/.test(l))
      .slice(-LOG_LINES)
      .map((l) => `    ${summarize(l)}`),
  ].join('\n')
}

async function browserReport(testName: string): Promise<string> {
  const out: string[] = []
  let index = 0
  for (const { context, pageErrors } of openBrowserContexts()) {
    for (const page of context.pages()) {
      index += 1
      if (page.isClosed()) continue
      let text = ''
      try {
        text = (await page.evaluate(() => document.body?.innerText ?? '', undefined)).replace(/\s+\n/g, '\n').trim()
        await page.screenshot({ path: join(artifactDir(testName), `failure-${index}.png`), fullPage: true, timeout: 10_000 })
      } catch (error) {
        text ||= `(could not read the page: ${error instanceof Error ? error.message : String(error)})`
      }
      out.push(`  page ${index} ${page.url()}:`, ...text.slice(0, MAX_TEXT).split('\n').map((l) => `    | ${l}`))
    }
    if (pageErrors.length) out.push('  browser console errors/warnings:', ...pageErrors.map((e) => `    ${e}`))
  }
  return out.join('\n')
}

export const mochaHooks = {
  async afterEach(this: Context): Promise<void> {
    const test = this.currentTest
    if (!test || test.state !== 'failed') return
    const name = test.fullTitle()
    const report = [`\n  ---- diagnostics for the failed test "${name}" (artifacts: e2e/artifacts/${slug(name)}/) ----`]
    report.push(await browserReport(name))
    for (const { name: serverName, logFile } of liveServerLogs()) report.push(serverReport(serverName, logFile))
    report.push('  ---- end of diagnostics ----\n')
    console.log(report.filter(Boolean).join('\n'))
  },
}
