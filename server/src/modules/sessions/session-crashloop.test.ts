import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { decideStatus } from './session-status';
import type { SessionManifest } from './session.crd';

const T0 = new Date('2026-01-01T00:00:00Z');
const session: SessionManifest = {
  apiVersion: 'stream.streamspace.io/v1alpha1',
  kind: 'Session',
  metadata: { name: 's', namespace: 'ns', uid: 'u', generation: 1 },
  spec: { user: 'alice', template: 'firefox', state: 'running' },
};

describe('session status: a container in CrashLoopBackOff (pure)', () => {
  it('says so in the start-up progress, with how the container last ended, and keeps Starting until the timeout', () => {
    const crashing: V1Pod = {
      metadata: { name: 's-abc' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'app',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
            lastState: { terminated: { exitCode: 2, reason: 'Error' } },
          },
        ],
      },
    };
    const { status } = decideStatus({ session, pods: [crashing], now: T0, startupTimeoutMs: 60_000 });
    expect(status.phase).to.equal('Pending');
    expect(status.message).to.equal('Container app of pod s-abc keeps crashing (CrashLoopBackOff, 3 restarts): it last exited with code 2 (Error)');
    expect(status.conditions![0]).to.include({ status: 'False', reason: 'Starting' });
  });
});
