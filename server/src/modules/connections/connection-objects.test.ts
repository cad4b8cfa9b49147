import { expect } from 'chai';
import pLimit from 'p-limit';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { SessionEntity } from '../sessions/session.entity';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionObjects } from './connection-objects';

const logger = { warn: () => undefined } as unknown as Logger;
const tick = () => new Promise((r) => setTimeout(r, 2));

describe('ConnectionObjects: the Connection objects written in the background', () => {
  it('keeps the shared bound of writes in flight, creates each object once without a status write, in order per object', async () => {
    let inFlight = 0;
    let most = 0;
    const calls: string[] = [];
    const write = async (what: string) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      calls.push(what);
      inFlight--;
    };
    const kube = {
      namespace: 'apps',
      connections: {
        create: (body: { metadata: { name: string } }) => write(`create ${body.metadata.name}`),
        patchStatus: (name: string) => write(`status ${name}`),
        delete: (name: string) => write(`delete ${name}`),
      },
    } as unknown as StreamSpaceApi;
    const objects = new ConnectionObjects({ kube, logger, mirrorWrites: pLimit(4) });
    const session = { id: '6b1f3c1e-0000-4000-8000-000000000001', name: 's1' } as SessionEntity;
    for (let i = 0; i < 20; i++) {
      const c = { id: `c${i}`, connectedAt: new Date(), lastActivityAt: new Date(), clientIp: '127.0.0.1', userAgent: null } as unknown as ConnectionEntity;
      void objects.create(c, session, 'alice');
      if (i % 5 === 0) void objects.delete(c.id);
    }
    await objects.flush();
    expect(most).to.equal(4);
    expect(calls.filter((c) => c.startsWith('create'))).to.have.length(20);
    // A new object is Active by the CRD's default: no status write of its own.
    expect(calls.filter((c) => c.startsWith('status'))).to.deep.equal([]);
    // A delete never overtakes its object's create.
    for (const id of ['c0', 'c5', 'c10', 'c15']) expect(calls.indexOf(`delete ${id}`)).to.be.greaterThan(calls.indexOf(`create ${id}`));
  });
});
