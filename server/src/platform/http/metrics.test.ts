import { expect } from 'chai';
import { AppMetrics, MAX_OPERATION_NAMES } from './metrics';

describe('metrics: GraphQL operation names', () => {
  it('labels at most MAX_OPERATION_NAMES distinct client-chosen names; later new ones count as (other)', async () => {
    const metrics = new AppMetrics();
    for (let i = 0; i < MAX_OPERATION_NAMES + 50; i++) metrics.recordWsOperation(`Op${i}`, 'query', 'success', 0.001);
    metrics.recordWsOperation('Op0', 'query', 'success', 0.001);
    const { values } = await metrics.graphqlOperations.get();
    const names = new Set(values.map((v) => v.labels.operation_name));
    expect(names.size).to.equal(MAX_OPERATION_NAMES + 1);
    expect(values.find((v) => v.labels.operation_name === '(other)')?.value).to.equal(50);
    expect(values.find((v) => v.labels.operation_name === 'Op0')?.value).to.equal(2);
  });
});
