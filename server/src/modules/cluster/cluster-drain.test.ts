import { expect } from 'chai';
import { skipReason } from './cluster-drain';

/** Which pods a drain leaves alone (kubectl drain --ignore-daemonsets rules). */
describe('cluster drain: skipReason', () => {
  const owned = (kind: string) => ({ metadata: { ownerReferences: [{ kind, name: 'x', controller: true }] } });

  it('evicts pods of ReplicaSets, StatefulSets and Jobs', () => {
    for (const kind of ['ReplicaSet', 'StatefulSet', 'Job']) expect(skipReason(owned(kind), false), kind).to.equal(null);
  });

  it('leaves DaemonSet pods and mirror pods, even with force', () => {
    expect(skipReason(owned('DaemonSet'), true)).to.contain('DaemonSet x');
    expect(skipReason({ metadata: { annotations: { 'kubernetes.io/config.mirror': 'abc' } } }, true)).to.contain('mirror pod');
  });

  it('leaves a pod no controller manages unless forced; an owner that is not its controller does not count', () => {
    expect(skipReason({ metadata: {} }, false)).to.contain('not managed by a controller');
    expect(skipReason({ metadata: { ownerReferences: [{ kind: 'ReplicaSet', name: 'x' }] } }, false)).to.contain('not managed by a controller');
    expect(skipReason({ metadata: {} }, true)).to.equal(null);
  });
});
