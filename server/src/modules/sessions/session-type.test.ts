import 'reflect-metadata';
import { expect } from 'chai';
import { SessionType } from './dto/session.type';
import type { SessionEntity } from './session.entity';
import { sessionRowOf, toSessionType } from './session.service';

/** A row whose every column differs from SessionType's placeholders (its constructor's values). */
function row(): SessionEntity {
  return {
    id: '6f1c2b9e-3d4a-4b5c-8d6e-7f8091a2b3c4',
    name: 'alice-firefox-abcde',
    namespace: 'streamspace',
    userId: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
    username: 'alice',
    template: 'firefox',
    state: 'hibernated',
    phase: 'Hibernated',
    appType: 'desktop',
    url: 'http://alice-firefox-abcde.streamspace.svc:3000/',
    podName: 'alice-firefox-abcde-7d9f-xyz',
    activeConnections: 2,
    totalConnections: 7,
    lastConnectionAt: new Date('2030-01-01T10:00:00Z'),
    lastDisconnectAt: new Date('2030-01-01T11:00:00Z'),
    lastActivityAt: new Date('2030-01-01T12:00:00Z'),
    resourceVersion: '4711',
    spec: { persistentHome: true, idleTimeout: '45m', maxSessionDuration: '8h', resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } } },
    status: { message: 'Hibernated after 45m idle', conditions: [{ type: 'Ready', status: 'False', reason: 'Hibernated', message: 'scaled to zero', lastTransitionTime: '2030-01-01T12:45:00Z' }] },
    createdAt: new Date('2029-12-31T09:00:00Z'),
    updatedAt: new Date('2030-01-01T12:45:01Z'),
  };
}

describe('sessions: a SessionType made from a table row', () => {
  it('sets every field its constructor gives a placeholder (none is left as the placeholder)', () => {
    const placeholders = new SessionType() as unknown as Record<string, unknown>;
    const fields = Object.keys(placeholders);
    // The constructor names every field (a field added to the class and not to it would be set one by one again).
    expect(fields).to.include.members(['id', 'user', 'templateName', 'phase', 'resources', 'createdAt', 'updatedAt']);
    const made = toSessionType(row()) as unknown as Record<string, unknown>;
    for (const field of fields) expect(made[field], field).to.not.deep.equal(placeholders[field]);
    expect(made.resources).to.deep.equal({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: null, memory: '2Gi' } });
    expect((made as unknown as SessionType).conditions).to.deep.equal([
      { type: 'Ready', status: 'False', reason: 'Hibernated', message: 'scaled to zero', lastTransitionTime: new Date('2030-01-01T12:45:00Z') },
    ]);
    expect(sessionRowOf(made as unknown as SessionType)?.id).to.equal(row().id);
  });

  it('declares in its constructor every GraphQL field of the class that is data (not a getter or a resolver)', () => {
    const declared = Object.keys(new SessionType());
    const data = Object.keys(toSessionType(row()));
    expect(data.sort()).to.deep.equal([...declared].sort());
  });
});
