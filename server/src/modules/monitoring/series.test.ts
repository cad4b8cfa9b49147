import { expect } from 'chai';
import { nodeSeriesName, seriesDefinition } from './series';

describe('monitoring series: per-node usage series', () => {
  it('names one series per node and figure, and leaves out a name that would not fit the column', () => {
    expect(nodeSeriesName('node_cpu_millicores', 'kwok-node-0')).to.equal('node_cpu_millicores/kwok-node-0');
    expect(nodeSeriesName('node_memory_bytes', 'ip-10-0-1-23.eu-west-1.compute.internal')).to.equal('node_memory_bytes/ip-10-0-1-23.eu-west-1.compute.internal');
    expect(nodeSeriesName('node_memory_bytes', 'n'.repeat(47))).to.equal(undefined);
  });

  it('defines the fixed series and the per-node ones, and nothing else', () => {
    expect(seriesDefinition('nodes_total')).to.include({ kind: 'gauge', unit: 'nodes' });
    expect(seriesDefinition('node_cpu_millicores/streamspace-node')).to.deep.equal({
      name: 'node_cpu_millicores/streamspace-node',
      kind: 'gauge',
      unit: 'millicores',
      description: 'CPU in use on node streamspace-node, in millicores (metrics.k8s.io).',
    });
    expect(seriesDefinition('node_memory_bytes/kwok-node-1')).to.include({ unit: 'B' });
    for (const bad of ['node_cpu_millicores/', 'node_cpu_millicores/Upper', 'node_disk_bytes/kwok-node-0', 'nodes_total/x', 'node_cpu_millicores/a/b', `node_cpu_millicores/${'n'.repeat(50)}`]) {
      expect(seriesDefinition(bad), bad).to.equal(undefined);
    }
  });
});
