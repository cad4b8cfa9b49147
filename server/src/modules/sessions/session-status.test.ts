import { expect } from 'chai';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { decideStatus, reconcileNeeded, statusChanged } from './session-status';
import type { SessionManifest, SessionStatus } from './session.crd';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function session(state: 'running' | 'hibernated' | 'terminated' = 'running', status?: SessionStatus, generation = 1): SessionManifest {
  return {
    apiVersion: 'stream.streamspace.io/v1alpha1',
    kind: 'Session',
    metadata: { name: 's', namespace: 'ns', uid: 'u', generation },
    spec: { user: 'alice', template: 'firefox', state },
    status,
  };
}
const pod = (ready: boolean, extra: Partial<V1Pod['status']> = {}): V1Pod => ({
  metadata: { name: 's-abc' },
  status: { phase: ready ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
});
const deployment = (replicas: number): V1Deployment => ({ spec: { replicas, selector: {}, template: {} } });
const base = { now: T0, startupTimeoutMs: 60_000, url: 'http://x/' };

describe('session status decisions (pure)', () => {
  it('is Pending while the Deployment exists but no pod is Ready, with a startup deadline', () => {
    const d = decideStatus({ ...base, session: session(), deployment: deployment(1), pods: [pod(false)] });
    expect(d.status.phase).to.equal('Pending');
    expect(d.status.url).to.equal(undefined);
    expect(d.requeueAt).to.deep.equal(at(60));
  });

  it('is Running with URL and pod name only once a pod is Ready', () => {
    const d = decideStatus({ ...base, session: session(), deployment: deployment(1), pods: [pod(true)] });
    expect(d.status).to.deep.include({ phase: 'Running', url: 'http://x/', podName: 's-abc' });
    expect(d.status.conditions![0]).to.deep.include({ type: 'Ready', status: 'True', reason: 'PodReady' });
  });

  it('fails after startupTimeout counted from when starting began, and stays Failed for that generation', () => {
    const first = decideStatus({ ...base, session: session(), deployment: deployment(1), pods: [pod(false)] });
    const later = decideStatus({ ...base, now: at(61), session: session('running', first.status), deployment: deployment(1), pods: [pod(false)] });
    expect(later.status.phase).to.equal('Failed');
    expect(later.status.conditions![0].reason).to.equal('StartupTimeout');
    expect(later.status.message).to.match(/not Ready within the startup timeout \(60s\)/);
    const sticky = decideStatus({ ...base, now: at(62), session: session('running', later.status), deployment: deployment(1), pods: [pod(false)] });
    expect(sticky.status.phase).to.equal('Failed');
    // A spec change (e.g. wake, new generation) starts a new attempt.
    const retried = decideStatus({ ...base, now: at(63), session: session('running', later.status, 2), deployment: deployment(1), pods: [pod(false)] });
    expect(retried.status.phase).to.equal('Pending');
  });

  it('reports an image pull failure as Failed with the kubelet message', () => {
    const p = pod(false, { containerStatuses: [{ name: 'app', image: 'nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'back-off pulling' } } }] });
    const d = decideStatus({ ...base, session: session(), deployment: deployment(1), pods: [p] });
    expect(d.status.phase).to.equal('Failed');
    expect(d.status.message).to.equal('Image nope:1 cannot be pulled (ImagePullBackOff): back-off pulling');
  });

  it('is Hibernated only at 0 replicas with no pod left', () => {
    const running: SessionStatus = { phase: 'Running' };
    expect(decideStatus({ ...base, session: session('hibernated', running), deployment: deployment(0), pods: [pod(true)] }).status.phase).to.equal('Running');
    expect(decideStatus({ ...base, session: session('hibernated', running), deployment: deployment(1), pods: [] }).status.phase).to.equal('Running');
    expect(decideStatus({ ...base, session: session('hibernated', running), deployment: deployment(0), pods: [] }).status.phase).to.equal('Hibernated');
  });

  it('is Failed for a missing template and Terminated once the workload is gone', () => {
    const missing = decideStatus({ ...base, session: session(), templateProblem: { reason: 'TemplateNotFound', message: 'Template "x" does not exist' }, pods: [] });
    expect(missing.status).to.deep.include({ phase: 'Failed', message: 'Template "x" does not exist' });
    expect(decideStatus({ ...base, session: session('terminated', { phase: 'Running' }), deployment: deployment(1), pods: [] }).status.phase).to.equal('Running');
    expect(decideStatus({ ...base, session: session('terminated', { phase: 'Running' }), pods: [] }).status.phase).to.equal('Terminated');
  });

  it('keeps connection counters and detects no change on a repeated decision (idempotent reconcile)', () => {
    const prev: SessionStatus = { phase: 'Pending', activeConnections: 2, totalConnections: 7 };
    const d1 = decideStatus({ ...base, session: session('running', prev), deployment: deployment(1), pods: [pod(true)] });
    expect(d1.status).to.deep.include({ activeConnections: 2, totalConnections: 7 });
    const d2 = decideStatus({ ...base, now: at(30), session: session('running', d1.status), deployment: deployment(1), pods: [pod(true)] });
    expect(statusChanged(d1.status, d2.status)).to.equal(false);
  });

  it('asks for a reconcile on any change but the connection counters the platform copies into the status', () => {
    const running: SessionStatus = { phase: 'Running', url: 'http://x/', podName: 's-abc', observedGeneration: 1, activeConnections: 0, totalConnections: 3 };
    const old = session('running', running);
    expect(reconcileNeeded(old, undefined), 'a first sight').to.equal(true);
    // A connect's copy of the counters (and activity, usage): no work for the reconciler.
    const counted = session('running', { ...running, activeConnections: 1, totalConnections: 4, lastConnection: T0.toISOString(), lastActivity: T0.toISOString(), resourceUsage: { cpu: '10m' } });
    expect(reconcileNeeded(counted, old)).to.equal(false);
    // Everything else is.
    expect(reconcileNeeded(session('hibernated', running, 2), old), 'a new spec (generation)').to.equal(true);
    expect(reconcileNeeded({ ...old, spec: { ...old.spec, state: 'hibernated' } }, old), 'a new spec without a generation change').to.equal(true);
    expect(reconcileNeeded({ ...old, metadata: { ...old.metadata, deletionTimestamp: T0.toISOString() } }, old), 'being deleted').to.equal(true);
    expect(reconcileNeeded({ ...old, metadata: { ...old.metadata, finalizers: [] } }, old), 'finalizers').to.equal(true);
    expect(reconcileNeeded({ ...old, metadata: { ...old.metadata, annotations: { a: 'b' } } }, old), 'annotations').to.equal(true);
    expect(reconcileNeeded({ ...old, metadata: { ...old.metadata, labels: { a: 'b' } } }, old), 'labels').to.equal(true);
    expect(reconcileNeeded(session('running', { ...running, phase: 'Failed' }), old), 'a status field the reconciler owns, changed by someone else').to.equal(true);
    expect(reconcileNeeded(session('running', { ...running, url: undefined }), old), 'its url').to.equal(true);
  });
});
