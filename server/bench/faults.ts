/**
 * Fault benchmark: the five fault scenarios of test/faults/ at full size, each on loopback against a real
 * PostgreSQL and a real kube-apiserver (started here, stopped at the end), with servers as real child processes.
 * Prints one table: scenario, size, the figures measured, PASS/FAIL (every check of the scenario held), and the
 * 1-minute load average before each scenario (the machine is shared: a high load slows everything).
 * Run: npm run bench:faults (FAULTS=1,3 runs only those scenarios). Exits 1 when a scenario fails.
 */
import 'reflect-metadata';
import os from 'node:os';
import { stopTestCluster } from '../test/support/kube';
import { stopTestPostgres } from '../test/support/postgres';
import { passed, type ScenarioResult } from '../test/faults/fault-harness';
import { FULL_SIZES } from '../test/faults/fault-sizes';
import { databaseOutage } from '../test/faults/database-outage.scenario';
import { fullDisk } from '../test/faults/full-disk.scenario';
import { leaderKill } from '../test/faults/leader-kill.scenario';
import { sigkillUnderLoad } from '../test/faults/sigkill-under-load.scenario';
import { watchGone } from '../test/faults/watch-gone.scenario';

const SCENARIOS: [string, () => Promise<ScenarioResult>][] = [
  ['1', () => sigkillUnderLoad(FULL_SIZES.sigkill)],
  ['2', () => databaseOutage(FULL_SIZES.outage)],
  ['3', () => watchGone(FULL_SIZES.watchGone)],
  ['4', () => leaderKill(FULL_SIZES.leaderKill)],
  ['5', () => fullDisk(FULL_SIZES.fullDisk)],
];

async function main() {
  const only = process.env.FAULTS ? new Set(process.env.FAULTS.split(',')) : null;
  const rows: { result: ScenarioResult; load: string; seconds: number; error?: string }[] = [];
  for (const [id, run] of SCENARIOS) {
    if (only && !only.has(id)) continue;
    const load = os.loadavg()[0].toFixed(1);
    const started = Date.now();
    process.stdout.write(`== scenario ${id} (load ${load})\n`);
    try {
      const result = await run();
      rows.push({ result, load, seconds: (Date.now() - started) / 1000 });
      for (const c of result.checks) process.stdout.write(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `: ${c.detail.slice(0, 400)}`}\n`);
    } catch (err) {
      rows.push({ result: { scenario: `${id} (crashed)`, size: '', figures: {}, checks: [] }, load, seconds: (Date.now() - started) / 1000, error: (err as Error).message.split('\n')[0] });
      process.stdout.write(`   FAIL ${(err as Error).stack}\n`);
    }
  }
  process.stdout.write('\n| scenario | size | result figures | load | s | result |\n|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const figures = r.error ?? Object.entries(r.result.figures).map(([k, v]) => `${k}: ${v}`).join('; ');
    process.stdout.write(`| ${r.result.scenario} | ${r.result.size} | ${figures} | ${r.load} | ${r.seconds.toFixed(0)} | ${!r.error && passed(r.result) ? 'PASS' : 'FAIL'} |\n`);
  }
  return rows.every((r) => !r.error && passed(r.result));
}

main()
  .then(async (ok) => {
    await stopTestCluster();
    await stopTestPostgres();
    process.exit(ok ? 0 : 1);
  })
  .catch(async (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    await stopTestCluster().catch(() => undefined);
    await stopTestPostgres().catch(() => undefined);
    process.exit(1);
  });
