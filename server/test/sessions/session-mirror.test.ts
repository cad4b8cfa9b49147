import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { SessionMirror } from '../../src/modules/sessions/session-mirror';
import { createDataSource } from '../../src/platform/database/data-source';
import { createAppPubSub } from '../../src/platform/graphql/pubsub';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase } from '../support/postgres';

describe('session mirror writes (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let mirror: SessionMirror;

  before(async () => {
    dataSource = createDataSource({ url: await createTestDatabase('mirror'), poolSize: 10 });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    // upsert() needs only the database; the cluster side of the mirror is not started here.
    mirror = new SessionMirror({ kubeConfig: new KubeConfig(), namespace: 'ns', dataSource, pubSub: createAppPubSub(), logger: createLogger('silent') });
  });

  after(async () => {
    await dataSource?.destroy();
  });

  it('lets the watch and the API write a new session at the same moment: one row, no unique violation', async () => {
    const uid = randomUUID();
    const obj = (rv: number) => ({
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Session',
      metadata: { name: 'alice-firefox-abcde', namespace: 'ns', uid, resourceVersion: String(rv), creationTimestamp: new Date().toISOString() },
      spec: { user: 'alice', template: 'firefox', state: 'running' as const },
    });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => mirror.upsert(obj(100 + i) as never)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).to.deep.equal([]);
    expect(await dataSource.getRepository(SessionEntity).countBy({ namespace: 'ns', name: 'alice-firefox-abcde' })).to.equal(1);
  });

  it('replaces the row of a Session re-created under the same name (new uid)', async () => {
    const base = { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', spec: { user: 'bob', template: 'gimp', state: 'running' as const } };
    const first = randomUUID();
    const second = randomUUID();
    await mirror.upsert({ ...base, metadata: { name: 'bob-gimp-x', namespace: 'ns', uid: first } } as never);
    await mirror.upsert({ ...base, metadata: { name: 'bob-gimp-x', namespace: 'ns', uid: second } } as never);
    const rows = await dataSource.getRepository(SessionEntity).findBy({ namespace: 'ns', name: 'bob-gimp-x' });
    expect(rows.map((r) => r.id)).to.deep.equal([second]);
  });
});
