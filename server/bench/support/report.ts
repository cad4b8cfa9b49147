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
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** Jiffies per second of /proc (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * Machine-wide busy CPU (all processes, all cores) and this process's main-thread CPU during `work`, in seconds.
 * On a shared machine the first includes other work; printed beside a figure, it shows what one request costs the
 * machine as a whole (the server, PostgreSQL, the API server, the load generator).
 */
export async function cpuDuring<T>(work: () => Promise<T>): Promise<{ result: T; machineSeconds: number; mainThreadSeconds: number }> {
  const m0 = machineTicks();
  const t0 = mainThreadCpuSeconds();
  const result = await work();
  const m1 = machineTicks();
  return { result, machineSeconds: (m1.busy - m0.busy) / CLOCK_TICKS, mainThreadSeconds: mainThreadCpuSeconds() - t0 };
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

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
