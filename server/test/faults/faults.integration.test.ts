import { expect } from 'chai';
import { KUBE_START_TIMEOUT_MS, getTestCluster } from '../support/kube';
import { passed, type ScenarioResult } from './fault-harness';
import { CI_SIZES } from './fault-sizes';
import { databaseOutage } from './database-outage.scenario';
import { fullDisk } from './full-disk.scenario';
import { leaderKill } from './leader-kill.scenario';
import { sigkillUnderLoad } from './sigkill-under-load.scenario';
import { watchGone } from './watch-gone.scenario';

/**
 * The fault scenarios at a size that fits CI (`npm run bench:faults` runs them at full size and prints a table).
 * Each asserts its checks (by waiting for what must happen, never on timings); figures are printed.
 */
function expectPassed(result: ScenarioResult) {
  process.stdout.write(`      (${result.size}: ${JSON.stringify(result.figures)})\n`);
  const failed = result.checks.filter((c) => !c.ok);
  expect(failed, JSON.stringify(failed, null, 1)).to.deep.equal([]);
  expect(passed(result)).to.equal(true);
}

describe('faults at load', function () {
  this.timeout(300_000);
  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    await getTestCluster();
  });

  it('SIGKILL of the API replica under live heartbeating connections: nothing lost, no wrongful hibernation, clients move by themselves', async () => {
    expectPassed(await sigkillUnderLoad(CI_SIZES.sigkill));
  });

  it('PostgreSQL stopped: typed SERVICE_UNAVAILABLE, never a hang, no acknowledged write lost, recovery without a restart', async () => {
    expectPassed(await databaseOutage(CI_SIZES.outage));
  });

  it('API server restarted and watches answered 410 Gone: every informer re-lists, subscribers converge', async () => {
    expectPassed(await watchGone(CI_SIZES.watchGone));
  });

  it('leader killed while the reaper, hibernation timers and a catalog sync are due: each runs once', async () => {
    expectPassed(await leaderKill(CI_SIZES.leaderKill));
  });

  it('a full disk under the catalog cache: the sync fails saying so and the last good catalog stays', async () => {
    expectPassed(await fullDisk(CI_SIZES.fullDisk));
  });
});
