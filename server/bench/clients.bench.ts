/**
 * The portal's and the admin console's first load: the initial JS + CSS their index.html names (entry scripts,
 * module preloads, stylesheets), gzip-compressed as a server would send them, and the time from pressing Enter on
 * the portal's sign-in form to the launcher's heading in headless Chromium (Debian's, through playwright-core), on
 * the real server in this process with its built clients. Builds the clients first when a source is newer than the
 * build. Prints figures, never asserts; the last line is BENCH_RESULT.
 *
 * Run: npm run bench -- clients, or node -r @swc-node/register bench/clients.bench.ts (BENCH_SIGNINS, default 7).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { startTestApp } from '../test/support/app';
import { TEST_ADMIN } from '../test/support/auth';
import { stopTestPostgres } from '../test/support/postgres';
import { BenchReport, fmtMs, load1, percentile } from './support/report';

const ROOT = path.resolve(__dirname, '../..');
const SIGNINS = Number(process.env.BENCH_SIGNINS ?? 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** For a failed sign-in: the page's URL, its alerts' text, and a screenshot (its path), so the row says why. */
async function whatThePageShows(page: Page): Promise<string> {
  const alerts = (await page.getByRole('alert').allInnerTexts().catch(() => [])).map((t) => t.trim()).filter(Boolean);
  const shot = path.join(os.tmpdir(), 'streamspace-bench', `clients-signin-failure-${Date.now()}.png`);
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  const saved = await page.screenshot({ path: shot }).then(
    () => `screenshot ${shot}`,
    () => 'no screenshot',
  );
  return `at ${page.url()}; ${saved}; alerts: ${alerts.length ? alerts.join(' | ').slice(0, 300) : 'none'}`;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the clients when a build is missing or older than its sources (or client-shared's). */
function ensureBuilt(): void {
  const shared = newest(path.join(ROOT, 'client-shared/src'));
  const stale = ['client-portal', 'client-admin'].some((c) => {
    const index = path.join(ROOT, c, 'dist/index.html');
    return !fs.existsSync(index) || fs.statSync(index).mtimeMs < Math.max(shared, newest(path.join(ROOT, c, 'src')));
  });
  if (!stale) return;
  console.log('building the clients (npm run build:clients)');
  execFileSync('npm', ['run', 'build:clients'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The initial JS and CSS of a built client: what its index.html loads before any route's own chunks. */
function initialAssets(client: string): { files: string[]; raw: number; gzip: number } {
  const dist = path.join(ROOT, client, 'dist');
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const refs = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) refs.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*rel="(?:stylesheet|modulepreload)"[^>]*href="([^"]+)"|<link[^>]*href="([^"]+)"[^>]*rel="(?:stylesheet|modulepreload)"/g)) refs.add((m[1] ?? m[2])!);
  let raw = 0;
  let gzip = 0;
  const files: string[] = [];
  for (const ref of refs) {
    if (!/\.(m?js|css)(\?|$)/.test(ref)) continue;
    const rel = ref.replace(/^(\.\/|\/(admin\/)?)/, '').replace(/\?.*$/, '');
    const file = path.join(dist, rel);
    const data = fs.readFileSync(file);
    raw += data.length;
    gzip += zlib.gzipSync(data).length;
    files.push(rel);
  }
  return { files, raw, gzip };
}

async function main(report: BenchReport) {
  ensureBuilt();
  for (const [client, label] of [
    ['client-portal', 'portal'],
    ['client-admin', 'admin'],
  ] as const) {
    const a = initialAssets(client);
    console.log(`  ${label}: ${a.files.length} initial files, ${(a.raw / 1024).toFixed(0)} KB raw, ${(a.gzip / 1024).toFixed(1)} KB gzip (${a.files.join(', ')})`);
    report.add({
      figure: `${label} first load: initial JS+CSS (gzip)`,
      goal: '<= 200 KB gzip',
      value: `${(a.gzip / 1024).toFixed(1)} KB gzip (${(a.raw / 1024).toFixed(0)} KB raw, ${a.files.length} files)`,
      met: a.gzip <= 200 * 1024,
    });
  }

  const app = await startTestApp({}, { logLevel: 'warn' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'] });
  try {
    const times: number[] = [];
    let loadSum = 0;
    for (let i = 0; i < SIGNINS; i++) {
      // A fresh context each time: no cached assets, no session, as a first visit.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${app.url}/`);
      await page.waitForURL(/\/login/);
      const username = page.getByRole('textbox', { name: 'Username', exact: true });
      await username.waitFor({ state: 'visible' });
      await username.fill(TEST_ADMIN.username);
      await page.locator('input[name="password"]').fill(TEST_ADMIN.password);
      const t0 = performance.now();
      await page.locator('input[name="password"]').press('Enter');
      await page
        .getByRole('heading', { name: 'Apps', level: 1 })
        .waitFor({ state: 'visible', timeout: 30_000 })
        .catch(async (err: Error) => {
          throw new Error(`sign-in ${i + 1} never reached the launcher (${err.message.split('\n')[0]}) ${await whatThePageShows(page)}`);
        });
      times.push(performance.now() - t0);
      loadSum += load1();
      await context.close();
    }
    // The first sign-in also warms the server (password hash parameters, parsed documents): report the rest.
    const warm = times.slice(1);
    console.log(`  sign-in -> launcher: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    const p50 = percentile(warm, 50);
    report.add({
      figure: 'portal: sign-in -> launcher, headless Chromium',
      goal: '<= 1 s',
      value: `p50 ${fmtMs(p50)}, max ${fmtMs(Math.max(...warm))} (${warm.length} fresh contexts after one warm-up; first ${fmtMs(times[0]!)})`,
      met: Math.max(...warm) <= 1000,
      load: loadSum / times.length,
    });
  } finally {
    await browser.close();
    await app.stop();
    await stopTestPostgres();
  }
}

const report = new BenchReport();
main(report).then(
  () => {
    report.print();
    process.exit(0);
  },
  (err: Error) => {
    console.error(err.stack ?? err.message);
    report.failed('portal and admin first load', '<= 200 KB gzip; sign-in -> launcher <= 1 s', err);
    report.print();
    process.exit(1);
  },
);
