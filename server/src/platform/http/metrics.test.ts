import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { AppMetrics, MAX_OPERATION_NAME_LABELS } from './metrics';

/** Distinct operation_name values the operation counter holds. */
async function labelValues(metrics: AppMetrics): Promise<Set<string>> {
  const { values } = await metrics.graphqlOperations.get();
  return new Set(values.map((v) => String(v.labels.operation_name)));
}

describe('AppMetrics operation-name labels', () => {
  it('never makes a series from an anonymous caller’s name: 1,000 random names give `other`', async () => {
    const metrics = new AppMetrics();
    for (let i = 0; i < 1000; i++) metrics.recordOperation(`Probe${randomBytes(8).toString('hex')}`, 'query', 'success', 0.001, false);
    expect([...(await labelValues(metrics))]).to.deep.equal(['other']);
  });

  it('admits authenticated callers’ names up to a fixed number; then `other`; admitted names keep their label for anyone', async () => {
    const metrics = new AppMetrics();
    metrics.recordOperation('MySessions', 'query', 'success', 0.001, true);
    for (let i = 0; i < 1000; i++) metrics.recordOperation(`Flood${randomBytes(8).toString('hex')}`, 'query', 'success', 0.001, true);
    const values = await labelValues(metrics);
    // MySessions, the first 199 names of the flood, and `other` for the rest...
    expect(values.size).to.equal(MAX_OPERATION_NAME_LABELS + 1);
    expect(values.has('MySessions') && values.has('other')).to.equal(true);
    expect(metrics.operationLabel('NewAfterTheFlood', true)).to.equal('other'); // ...and nothing more
    expect(metrics.operationLabel('MySessions', false)).to.equal('MySessions');
  });

  it('labels operations without a name `anonymous` and names that are not GraphQL names `other`', () => {
    const metrics = new AppMetrics();
    expect(metrics.operationLabel(undefined, true)).to.equal('anonymous');
    expect(metrics.operationLabel('', false)).to.equal('anonymous');
    expect(metrics.operationLabel('bad name"}', true)).to.equal('other');
    expect(metrics.operationLabel('x'.repeat(65), true)).to.equal('other');
  });
});
