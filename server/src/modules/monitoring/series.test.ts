import { expect } from 'chai';
import { MAX_SERIES_NAME, nodeSeriesName, seriesDefinition } from './series';

describe('monitoring series: per-node usage series', () => {
  it('names one series per node and figure, for any node name Kubernetes allows, and none for a name it does not', () => {
    expect(nodeSeriesName('node_cpu_millicores', 'kwok-node-0')).to.equal('node_cpu_millicores/kwok-node-0');
    expect(nodeSeriesName('node_memory_bytes', 'ip-10-0-1-23.eu-west-1.compute.internal')).to.equal('node_memory_bytes/ip-10-0-1-23.eu-west-1.compute.internal');
    // The longest node name (253 characters) still fits the column, with the longest family before it.
    const longest = `${'n'.repeat(63)}.${'n'.repeat(63)}.${'n'.repeat(63)}.${'n'.repeat(61)}`;
    expect(longest).to.have.length(253);
    const name = nodeSeriesName('node_cpu_millicores', longest);
    expect(name).to.equal(`node_cpu_millicores/${longest}`);
    expect(name!.length).to.be.at.most(MAX_SERIES_NAME);
    expect(seriesDefinition(name!)).to.include({ unit: 'millicores' });
    expect(nodeSeriesName('node_memory_bytes', 'n'.repeat(254))).to.equal(undefined);
    expect(nodeSeriesName('node_memory_bytes', 'Not_A_Node')).to.equal(undefined);
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
    for (const bad of ['node_cpu_millicores/', 'node_cpu_millicores/Upper', 'node_disk_bytes/kwok-node-0', 'nodes_total/x', 'node_cpu_millicores/a/b', `node_cpu_millicores/${'n'.repeat(254)}`]) {
      expect(seriesDefinition(bad), bad).to.equal(undefined);
    }
  });
});
