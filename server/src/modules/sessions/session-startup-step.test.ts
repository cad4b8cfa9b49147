import 'reflect-metadata';
import { expect } from 'chai';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { notReadyReason, startupStep } from './session-startup-step';

const T0 = new Date('2030-01-01T10:00:00.000Z');

describe('sessions: pure rules', () => {
  describe('start-up steps and why a pod is not ready', () => {
    const pod = (status: V1Pod['status'], spec: V1Pod['spec'] = { containers: [{ name: 'app', image: 'img:1' }] }): V1Pod => ({ metadata: { name: 's-abc' }, spec, status });
    const ev = (reason: string, message: string): CoreV1Event => ({ metadata: {}, involvedObject: { name: 's-abc' }, reason, message, lastTimestamp: T0 });

    it('reports each step from pod status and event messages', () => {
      expect(startupStep([], []).phase).to.equal('WAITING');
      expect(startupStep([pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }, { nodeName: 'n1', containers: [{ name: 'app', image: 'img:1' }] })], [ev('Scheduled', 'Successfully assigned ns/s-abc to n1')])).to.deep.include({
        phase: 'SCHEDULED',
        message: 'Successfully assigned ns/s-abc to n1',
      });
      expect(startupStep([pod({ phase: 'Pending', containerStatuses: [{ name: 'app', image: 'img:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }, { nodeName: 'n1', containers: [{ name: 'app', image: 'img:1' }] })], [ev('Pulling', 'Pulling image "img:1"')])).to.deep.include({ phase: 'PULLING_IMAGE', message: 'Pulling image "img:1"' });
      expect(startupStep([pod({ phase: 'Running', containerStatuses: [{ name: 'app', image: 'img:1', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] }, { nodeName: 'n1', containers: [] })], []).phase).to.equal('STARTING');
      expect(startupStep([pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })], []).phase).to.equal('READY');
    });

    it('names unschedulable pods, image pull failures and crash loops', () => {
      expect(notReadyReason([pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] })], [])).to.deep.equal({
        reason: 'Unschedulable',
        message: 'Pod s-abc cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.',
      });
      expect(notReadyReason([pod({ containerStatuses: [{ name: 'app', image: 'img:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }] })], []).reason).to.equal('ImagePullFailed');
      const crash = notReadyReason([pod({ containerStatuses: [{ name: 'app', image: 'img:1', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] })], []);
      expect(crash).to.deep.equal({ reason: 'CrashLoop', message: 'Container app keeps crashing (5 restarts, last exit code 137 OOMKilled)' });
      expect(notReadyReason([], []).reason).to.equal('NoPod');
    });
  });
});
