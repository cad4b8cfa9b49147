/**
 * The benchmark runner (`npm run bench`): runs each bench file (bench/*.bench.ts) in its own process, one after
 * the other, collects the figures each prints on its last line (`BENCH_RESULT {"rows":[...]}`, see
 * support/report.ts), and prints one table at the end: figure, goal, measured value, baseline measured in the same
 * run, ratio, the 1-minute load average at that figure, and MET / NOT MET. Benchmarks print; nothing asserts.
 *
 *   npm run bench                         every bench
 *   npm run bench -- heartbeat gateway    only these (file names without .bench.ts)
 *   npm run bench -- --write-docs         also write the table, date and machine into docs/benchmarks.md
 *   npm run bench -- --list               the benches and what each measures
 *
 * Heavy: run it under the machine lock (`flock /tmp/streamspace-heavy.lock npm run bench`). Each bench has a time
 * limit (BENCH_TIMEOUT_SECONDS overrides it for all); a bench that fails or runs over is reported as such in its row.
 * The environment passes on, so BENCH_* variables of the bench files still apply.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { BENCH_RESULT_PREFIX, type BenchRow } from './support/report';

interface BenchSpec {
  name: string;
  about: string;
  /** Time limit in seconds. */
  timeout: number;
  /** Defaults for the bench's own BENCH_* variables when the runner runs it (the caller's environment wins). */
  env?: Record<string, string>;
}

/** The order of a full run, and each bench's limits; a bench file not listed here runs last with defaults. */
const BENCHES: BenchSpec[] = [
  {
    name: 'heartbeat',
    about: 'heartbeats over graphql-ws (one socket per client) vs raw pg UPDATE; GraphQL over HTTP vs the same mutation over graphql-ws',
    timeout: 240,
    env: { BENCH_TIERS: 'raw,ws-worker,http', BENCH_RATES: '10000', BENCH_HEARTBEATS: '50000' },
  },
  { name: 'api', about: 'on kwok: connect, wake overhead, session list (SQL statements), subscription fan-out, 1,000 sessions', timeout: 420 },
  { name: 'cluster-views', about: 'cluster views at 10,000 pods on 100 kwok nodes vs a direct API-server LIST', timeout: 360 },
  { name: 'clients', about: 'portal and admin: initial JS+CSS gzip size, sign-in -> launcher in headless Chromium', timeout: 180 },
  { name: 'gateway', about: 'session gateway vs direct to the same upstream', timeout: 120 },
  { name: 'catalog-sync', about: 'catalog sync: fixture and 10,000 generated templates', timeout: 180, env: { BENCH_CATALOG_TEMPLATES: '10000' } },
  { name: 'real-node-start', about: 'real node: create -> first frame, wake -> first frame (10 runs each)', timeout: 480, env: { BENCH_RUNS: '10' } },
];

const SERVER_DIR = path.resolve(__dirname, '..');
const DOCS_FILE = path.resolve(SERVER_DIR, '../docs/benchmarks.md');

export interface BenchOutcome {
  name: string;
  rows: BenchRow[];
  seconds: number;
  /** Why the bench produced no (or not all) figures, if it failed. */
  error?: string;
}

function available(): BenchSpec[] {
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length));
  const known = BENCHES.filter((b) => files.includes(b.name));
  const others = files.filter((f) => !BENCHES.some((b) => b.name === f)).map((name) => ({ name, about: '(not described)', timeout: 300 }));
  return [...known, ...others];
}

/**
 * gateway.bench.ts may predate the BENCH_RESULT line: read its goal lines instead
 * ("req/s gateway/direct at c=16: 0.85x (goal >= 0.7x) met", "p50 added at c=1: 0.3 ms ...", "WS MB/s ...: 0.9x").
 */
export function gatewayFallback(lines: string[], load: number): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const line of lines) {
    let m = /req\/s gateway\/direct at c=(\d+): ([\d.]+)x/.exec(line);
    if (m) rows.push({ figure: `gateway: HTTP req/s vs direct (c=${m[1]})`, goal: '>= 0.7x direct', value: `${m[2]}x`, baseline: 'direct to same upstream', ratio: Number(m[2]), met: Number(m[2]) >= 0.7, load });
    m = /p50 added at c=1: (-?[\d.]+) ms/.exec(line);
    if (m) rows.push({ figure: 'gateway: added p50 latency (c=1)', goal: '<= +2 ms', value: `+${m[1]} ms`, baseline: 'direct to same upstream', ratio: null, met: Number(m[1]) <= 2, load });
    m = /WS MB\/s gateway\/direct: ([\d.]+)x/.exec(line);
    if (m) rows.push({ figure: 'gateway: WebSocket MB/s vs direct', goal: '>= 0.8x direct', value: `${m[1]}x`, baseline: 'direct to same upstream', ratio: Number(m[1]), met: Number(m[1]) >= 0.8, load });
  }
  return rows;
}

function runBench(spec: BenchSpec): Promise<BenchOutcome> {
  const file = path.join(__dirname, `${spec.name}.bench.ts`);
  const started = Date.now();
  const timeout = Number(process.env.BENCH_TIMEOUT_SECONDS ?? spec.timeout);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '-r', '@swc-node/register', file], {
      cwd: SERVER_DIR,
      // NODE_ENV=production as the platform's image runs (graphql-js, express skip their development checks).
      env: { NODE_ENV: 'production', ...spec.env, ...process.env, BENCH_RUNNER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a run over time ends the bench and everything it started.
      detached: true,
    });
    let rows: BenchRow[] | undefined;
    const lines: string[] = [];
    let timedOut = false;
    const echo = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) =>
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (line.startsWith(BENCH_RESULT_PREFIX)) {
          try {
            rows = (JSON.parse(line.slice(BENCH_RESULT_PREFIX.length)) as { rows: BenchRow[] }).rows;
          } catch (err) {
            lines.push(`unreadable BENCH_RESULT line: ${(err as Error).message}`);
          }
          return;
        }
        lines.push(line);
        out.write(`[${spec.name}] ${line}\n`);
      });
    echo(child.stdout, process.stdout);
    echo(child.stderr, process.stderr);
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 20_000).unref();
    }, timeout * 1000);
    // The runner interrupted: take the bench (and its clusters, databases) down with it.
    const onSignal = () => kill('SIGTERM');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const seconds = (Date.now() - started) / 1000;
      if (!rows && spec.name === 'gateway') rows = gatewayFallback(lines, os.loadavg()[0]!);
      const error = timedOut
        ? `ran over its ${timeout} s limit`
        : code !== 0
          ? `exited with ${signal ?? code}: ${lines.filter((l) => /error|fail/i.test(l)).slice(-1)[0]?.slice(0, 160) ?? ''}`
          : !rows?.length
            ? 'printed no BENCH_RESULT line'
            : undefined;
      resolve({ name: spec.name, rows: rows ?? [], seconds, error });
    });
  });
}

function verdict(met: boolean | null): string {
  return met === null ? '-' : met ? 'MET' : 'NOT MET';
}

interface TableRow extends BenchRow {
  bench: string;
  /** When it was measured, for rows kept from an earlier run in the docs. */
  when?: string;
}

export function rowsOf(outcomes: BenchOutcome[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const o of outcomes) {
    for (const r of o.rows) rows.push({ ...r, bench: o.name });
    if (o.error) rows.push({ bench: o.name, figure: `${o.name} bench`, goal: '-', value: `FAILED: ${o.error}`, baseline: null, ratio: null, met: null, load: os.loadavg()[0]! });
  }
  return rows;
}

function cells(r: TableRow, withWhen: boolean): string[] {
  const c = [r.figure, r.goal, r.value, r.baseline ?? '-', r.ratio === null || r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`, r.load.toFixed(1), verdict(r.met)];
  if (withWhen) c.push(r.when ?? 'this run');
  return c;
}

const HEAD = ['figure', 'goal', 'measured', 'baseline (same run)', 'ratio', 'load', 'verdict'];

function printTable(rows: TableRow[]): void {
  const body = rows.map((r) => cells(r, false));
  const widths = HEAD.map((h, i) => Math.min(70, Math.max(h.length, ...body.map((b) => b[i]!.length))));
  const line = (c: string[]) => c.map((x, i) => (x.length > widths[i]! ? x : x.padEnd(widths[i]!))).join(' | ');
  console.log(line(HEAD));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

function markdownTable(rows: TableRow[], withWhen: boolean): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const head = withWhen ? [...HEAD, 'measured on'] : HEAD;
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cells(r, withWhen).map(esc).join(' | ')} |`)].join('\n');
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

const DATA_MARK = '<!-- bench-data ';

/** Writes docs/benchmarks.md: this run's rows, plus the rows of benches not run this time from the file as it was. */
function writeDocs(outcomes: BenchOutcome[], startedAt: Date, loads: { start: number; end: number }, selected: string[]): void {
  const previous = fs.existsSync(DOCS_FILE) ? fs.readFileSync(DOCS_FILE, 'utf8') : null;
  fs.writeFileSync(DOCS_FILE, renderDocs(previous, outcomes, { startedAt, loads, selected, machine: machine(), order: available().map((b) => b.name) }));
  console.log(`wrote ${path.relative(process.cwd(), DOCS_FILE)}`);
}

/** The text of docs/benchmarks.md after a run (pure: the runner's test checks it). */
export function renderDocs(
  previous: string | null,
  outcomes: BenchOutcome[],
  run: { startedAt: Date; loads: { start: number; end: number }; selected: string[]; machine: string; order: string[] },
): string {
  type Kept = Record<string, { when: string; rows: TableRow[] }>;
  let kept: Kept = {};
  const { startedAt, loads, selected } = run;
  if (previous !== null) {
    const text = previous;
    const at = text.indexOf(DATA_MARK);
    if (at >= 0) {
      try {
        kept = JSON.parse(text.slice(at + DATA_MARK.length, text.indexOf(' -->', at))) as Kept;
      } catch {
        kept = {};
      }
    }
  }
  const when = `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  for (const o of outcomes) kept[o.name] = { when, rows: rowsOf([o]) };
  const { order } = run;
  const names = Object.keys(kept).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const all = names.flatMap((n) => kept[n]!.rows.map((r) => ({ ...r, when: kept[n]!.when === when ? undefined : kept[n]!.when })));
  const mixed = all.some((r) => r.when);
  const doc = [
    '# Benchmarks',
    '',
    'Written by `npm run bench -- --write-docs` (server/bench/run.ts); do not edit by hand. Every figure is measured',
    'on loopback on the machine named below, beside its baseline measured in the same run; "load" is the 1-minute load',
    'average when the figure was measured (the machine is shared: a load above its core count means other work',
    'competed and the figure is pessimistic). Goals are printed, never asserted. How to run: server/bench/README.md.',
    '',
    `Latest run: ${when} (${selected.length ? `benches ${selected.join(', ')}` : 'all benches'}), load ${loads.start.toFixed(1)} at the start and ${loads.end.toFixed(1)} at the end.`,
    `Machine: ${run.machine}.`,
    '',
    markdownTable(all, mixed),
    '',
    `${DATA_MARK}${JSON.stringify(kept)} -->`,
    '',
  ].join('\n');
  return doc;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const names = args.filter((a) => !a.startsWith('--'));
  const benches = available();
  if (flags.has('--list')) {
    for (const b of benches) console.log(`${b.name.padEnd(16)} ${b.about} (limit ${b.timeout} s)`);
    return;
  }
  const unknown = names.filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`unknown bench: ${unknown.join(', ')} (known: ${benches.map((b) => b.name).join(', ')})`);
    process.exit(2);
  }
  const selected = names.length ? benches.filter((b) => names.includes(b.name)) : benches;
  const startedAt = new Date();
  const loadStart = os.loadavg()[0]!;
  console.log(`benchmarks: ${selected.map((b) => b.name).join(', ')}; ${machine()}; load ${loadStart.toFixed(1)}`);
  const outcomes: BenchOutcome[] = [];
  for (const spec of selected) {
    console.log(`\n== ${spec.name}: ${spec.about} (load ${os.loadavg()[0]!.toFixed(1)})`);
    const outcome = await runBench(spec);
    console.log(`== ${spec.name}: ${outcome.rows.length} figures in ${outcome.seconds.toFixed(0)} s${outcome.error ? `; ${outcome.error}` : ''}`);
    outcomes.push(outcome);
  }
  const loadEnd = os.loadavg()[0]!;
  const total = (Date.now() - startedAt.getTime()) / 1000;
  console.log(`\n${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machine()}; ${total.toFixed(0)} s; load ${loadStart.toFixed(1)} -> ${loadEnd.toFixed(1)}\n`);
  printTable(rowsOf(outcomes));
  if (flags.has('--write-docs')) writeDocs(outcomes, startedAt, { start: loadStart, end: loadEnd }, names);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
}
