import fs from 'node:fs';
import os from 'node:os';

/**
 * One figure of a benchmark, as the runner (bench/run.ts) collects it from the line
 * `BENCH_RESULT {"rows":[...]}` that each bench file prints last.
 *
 *  figure    what is measured, e.g. "heartbeats over graphql-ws, one socket per client"
 *  goal      the goal in words, e.g. ">= 10,000/s, p99 < 50 ms"
 *  value     the measured value in words, e.g. "10,950/s, p99 31.2 ms"
 *  baseline  the baseline measured in the same run, in words (null: the figure has none)
 *  ratio     value / baseline on the figure's main number (null: no baseline)
 *  met       whether the goal was met (null: the figure has no goal, or could not be measured)
 *  load      the 1-minute load average when the figure was measured (the machine is shared)
 */
export interface BenchRow {
  figure: string;
  goal: string;
  value: string;
  baseline: string | null;
  ratio: number | null;
  met: boolean | null;
  load: number;
}

export const BENCH_RESULT_PREFIX = 'BENCH_RESULT ';

/** Busy and total jiffies of all cores (from /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idleTicks = f[3] + (f[4] ?? 0);
  return { busy: total - idleTicks, total };
}

/** CPU seconds of this process's main thread alone (user + system, /proc/self/task/<pid>/stat). */
export function mainThreadCpuSeconds(): number {
  return statTicks(fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')) / CLOCK_TICKS;
}

/** Jiffies per second of /proc (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** Jiffies (user + system) of one /proc stat line. */
function statTicks(stat: string): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function readOr(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile
  }
}

/** Jiffies of each thread of this process, by thread id. */
function threadTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const stat = readOr(`/proc/self/task/${tid}/stat`);
    if (stat) out.set(Number(tid), statTicks(stat));
  }
  return out;
}

/** Jiffies of every PostgreSQL process on the machine (the harness's server and its backends). */
function postgresTicks(): number {
  let sum = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readOr(`/proc/${pid}/stat`);
    if (stat && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') sum += statTicks(stat);
  }
  return sum;
}

/**
 * Where the machine's busy CPU went during a measured load, in seconds (see cpuDuring). A process that exits before
 * the load ends (a pool's PostgreSQL backends ended with it) is no longer there to be read: its time counts in `rest`.
 */
export interface CpuParts {
  /** This process's main thread (the server). */
  main: number;
  /** The load generator's worker thread. */
  generator: number;
  /** This process's other threads: V8's garbage collection and compiler threads, libuv's pool. */
  otherThreads: number;
  postgres: number;
  /** Everything else: the kernel's own work (loopback networking), the API server, other processes. */
  rest: number;
}

/** The parts as one short text: `main 3.20, generator 0.90, ...` ms per request. */
export function cpuPartsText(parts: CpuParts, requests: number): string {
  const ms = (s: number) => ((s * 1000) / requests).toFixed(2);
  return `server main ${ms(parts.main)}, generator ${ms(parts.generator)}, server's other threads (GC, compiler, pool) ${ms(parts.otherThreads)}, PostgreSQL ${ms(parts.postgres)}, rest (kernel, other processes) ${ms(parts.rest)} ms`;
}

/**
 * Machine-wide busy CPU (all processes, all cores) and this process's main-thread CPU during `work`, in seconds.
 * On a shared machine the first includes other work; printed beside a figure, it shows what one request costs the
 * machine as a whole (the server, PostgreSQL, the API server, the load generator).
 */
export async function cpuDuring<T>(work: () => Promise<T>, generatorTid?: number): Promise<{ result: T; machineSeconds: number; mainThreadSeconds: number; parts: CpuParts }> {
  const m0 = machineTicks();
  const t0 = mainThreadCpuSeconds();
  const threads0 = threadTicks();
  const pg0 = postgresTicks();
  const result = await work();
  const m1 = machineTicks();
  const threads1 = threadTicks();
  const pg1 = postgresTicks();
  const delta = (tid: number) => ((threads1.get(tid) ?? 0) - (threads0.get(tid) ?? 0)) / CLOCK_TICKS;
  let all = 0;
  for (const tid of threads1.keys()) all += delta(tid);
  const machineSeconds = (m1.busy - m0.busy) / CLOCK_TICKS;
  const main = delta(process.pid);
  const generator = generatorTid === undefined ? 0 : delta(generatorTid);
  const postgres = (pg1 - pg0) / CLOCK_TICKS;
  const parts: CpuParts = { main, generator, otherThreads: all - main - generator, postgres, rest: Math.max(0, machineSeconds - all - postgres) };
  return { result, machineSeconds, mainThreadSeconds: mainThreadCpuSeconds() - t0, parts };
}

/** The 1-minute load average now. */
export function load1(): number {
  return os.loadavg()[0]!;
}

/** Collects rows and prints the machine-readable line at the end. */
export class BenchReport {
  readonly rows: BenchRow[] = [];

  add(row: Omit<BenchRow, 'load' | 'baseline' | 'ratio'> & Partial<Pick<BenchRow, 'load' | 'baseline' | 'ratio'>>): void {
    this.rows.push({ baseline: null, ratio: null, ...row, load: row.load ?? load1() });
  }

  /** A figure that could not be measured, with the reason as its value. */
  failed(figure: string, goal: string, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.add({ figure, goal, value: `not measured: ${reason.split('\n')[0]!.slice(0, 200)}`, met: null });
  }

  print(): void {
    process.stdout.write(`${BENCH_RESULT_PREFIX}${JSON.stringify({ rows: this.rows })}\n`);
  }
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of some figures (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
