import { expect } from 'chai';
import { KUBE_START_TIMEOUT_MS, getTestCluster } from '../support/kube';
import { passed, type ScenarioResult } from './fault-harness';
import { sigkillUnderLoad } from './sigkill-under-load.scenario';

/**
 * The fault scenarios at a size that fits CI (`npm run bench:faults` runs them at full size and prints a table).
 * Each asserts its checks; timings are printed, never asserted.
 */
function expectPassed(result: ScenarioResult) {
  process.stdout.write(`      (${result.size}: ${JSON.stringify(result.figures)})\n`);
  expect(result.checks.filter((c) => !c.ok), JSON.stringify(result.checks.filter((c) => !c.ok), null, 1)).to.deep.equal([]);
  expect(passed(result)).to.equal(true);
}

describe('faults at load', function () {
  this.timeout(300_000);
  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    await getTestCluster();
  });

  it('SIGKILL of the API replica under live heartbeating connections: nothing lost, no wrongful hibernation, clients move by themselves', async () => {
    expectPassed(await sigkillUnderLoad({ connections: 100, sessions: 4, intervalMs: 1000 }));
  });
});
