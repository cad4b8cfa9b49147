import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { StreamSpaceApi } from '../../src/platform/kube/streamspace-api';
import { SESSION_UPDATED, sessionTopic, SessionTable, type SessionChange } from '../../src/modules/sessions/session-table';
import { ENTITIES } from '../../src/composition/entities';
import { createDataSource } from '../../src/platform/database/data-source';
import { createAppPubSub } from '../../src/platform/graphql/pubsub';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase } from '../support/postgres';

describe('session table writes (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let table: SessionTable;
  const pubSub = createAppPubSub();

  before(async () => {
    dataSource = createDataSource({ url: await createTestDatabase('mirror'), poolSize: 10, entities: ENTITIES });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    // upsert() needs only the database; the cluster side of the table is not started here.
    table = new SessionTable({ kube: new StreamSpaceApi(new KubeConfig(), 'ns'), dataSource, pubSub, logger: createLogger('silent') });
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
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => table.upsert(obj(100 + i) as never)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).to.deep.equal([]);
    expect(await dataSource.getRepository(SessionEntity).countBy({ namespace: 'ns', name: 'alice-firefox-abcde' })).to.equal(1);
  });

  it('never lets an older version overwrite a newer one (the API\'s own write arriving after the watch\'s)', async () => {
    const uid = randomUUID();
    const obj = (rv: string, phase: string) => ({
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Session',
      metadata: { name: 'carol-notes-fghij', namespace: 'ns', uid, resourceVersion: rv, creationTimestamp: new Date().toISOString() },
      spec: { user: 'carol', template: 'notes', state: 'running' as const },
      status: { phase },
    });
    const events: string[] = [];
    const changes = pubSub.subscribeTopic<SessionChange>(SESSION_UPDATED);
    const iterator = changes[Symbol.asyncIterator]();
    const collecting = (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) events.push(`${next.value.session.resourceVersion}:${next.value.session.phase}`);
    })();
    // The watch stored version 12 (Running); the API's create call returns version 10 (Pending) afterwards.
    await table.upsert(obj('12', 'Running') as never);
    const returned = await table.upsert(obj('10', 'Pending') as never);
    expect(returned.phase, 'the API gets the newer row back').to.equal('Running');
    const row = await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: uid });
    expect([row.resourceVersion, row.phase]).to.deep.equal(['12', 'Running']);
    // The same version again, and a newer one, are written.
    await table.upsert(obj('13', 'Hibernated') as never);
    expect((await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: uid })).phase).to.equal('Hibernated');
    await changes.return?.(undefined);
    await collecting;
    expect(events, 'no event carries the stale version').to.deep.equal(['12:Running', '13:Hibernated']);
  });

  it("publishes each change under the session's own topic too, so one session's followers wake for it alone", async () => {
    const uid = randomUUID();
    const other = randomUUID();
    const collect = (topic: string) => {
      const seen: string[] = [];
      const stream = pubSub.subscribeTopic<SessionChange>(topic);
      const iterator = stream[Symbol.asyncIterator]();
      const pending = iterator.next();
      const done = (async () => {
        for (let next = await pending; !next.done; next = await iterator.next()) seen.push(`${next.value.type}:${next.value.session.id}`);
      })();
      return { seen, stop: async () => (await stream.return?.(undefined), await done) };
    };
    const mine = collect(sessionTopic(uid));
    const all = collect(SESSION_UPDATED);
    const manifest = (id: string, name: string) => ({
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Session',
      metadata: { name, namespace: 'ns', uid: id, resourceVersion: '5', creationTimestamp: new Date().toISOString() },
      spec: { user: 'dave', template: 'notes', state: 'running' as const },
      status: { phase: 'Running' },
    });
    await table.upsert(manifest(other, 'dave-notes-other') as never);
    await table.upsert(manifest(uid, 'dave-notes-mine') as never);
    await mine.stop();
    await all.stop();
    expect(mine.seen).to.deep.equal([`UPSERTED:${uid}`]);
    expect(all.seen).to.deep.equal([`UPSERTED:${other}`, `UPSERTED:${uid}`]);
  });

  it("keeps the connections table's counters when a newer Session version carries an older copy of them", async () => {
    const uid = randomUUID();
    const obj = (rv: string, activeConnections: number, lastActivity: string) => ({
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Session',
      metadata: { name: 'dave-notes-klmno', namespace: 'ns', uid, resourceVersion: rv, creationTimestamp: new Date().toISOString() },
      spec: { user: 'dave', template: 'notes', state: 'running' as const },
      status: { phase: 'Running', activeConnections, totalConnections: activeConnections, lastActivity },
    });
    // A new row (a table rebuilt from the cluster) takes the counters from the status.
    const first = await table.upsert(obj('20', 1, '2026-01-01T10:00:00Z') as never);
    expect([first.activeConnections, first.totalConnections, first.lastActivityAt?.toISOString()]).to.deep.equal([1, 1, '2026-01-01T10:00:00.000Z']);
    // Two connects later the table says 3 (the connect statement writes it); the status copy of the first connect,
    // in a newer version of the object (the reconciler wrote its phase meanwhile), still says 1.
    await dataSource.query("UPDATE sessions SET active_connections = 3, total_connections = 3, last_activity_at = '2026-01-01T10:05:00Z' WHERE id = $1", [uid]);
    const later = await table.upsert(obj('21', 1, '2026-01-01T10:00:00Z') as never);
    expect(later.resourceVersion).to.equal('21');
    expect([later.activeConnections, later.totalConnections, later.lastActivityAt?.toISOString()]).to.deep.equal([3, 3, '2026-01-01T10:05:00.000Z']);
  });

  it('compares resourceVersions as numbers, and never calls an opaque or missing one older', async () => {
    const uid = randomUUID();
    const write = async (rv: string | undefined, phase: string) => {
      const obj = {
        apiVersion: 'stream.streamspace.io/v1alpha1',
        kind: 'Session',
        metadata: { name: 'erin-notes-pqrst', namespace: 'ns', uid, resourceVersion: rv, creationTimestamp: new Date().toISOString() },
        spec: { user: 'erin', template: 'notes', state: 'running' as const },
        status: { phase },
      };
      await table.upsert(obj as never);
      const row = await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: uid });
      return `${row.resourceVersion}:${row.phase}`;
    };
    expect(await write('10', 'Pending')).to.equal('10:Pending');
    expect(await write('9', 'Failed'), '9 < 10 as numbers (not as strings)').to.equal('10:Pending');
    expect(await write('10', 'Running'), 'the same version is written').to.equal('10:Running');
    expect(await write('123456789012345678901', 'Running')).to.equal('123456789012345678901:Running');
    expect(await write('123456789012345678900', 'Failed'), 'beyond 64-bit integers').to.equal('123456789012345678901:Running');
    expect(await write('abc', 'Hibernated'), 'an opaque version is never older').to.equal('abc:Hibernated');
    expect(await write('5', 'Running'), 'nor is a number compared with an opaque one').to.equal('5:Running');
    expect(await write(undefined, 'Pending'), 'nor a missing one').to.equal('null:Pending');
    expect(await write('4', 'Running'), 'a version after a missing one is written').to.equal('4:Running');
  });

  it("writes a newer version of a stored row in one statement; a new row and an older version take the locked path", async () => {
    const uid = randomUUID();
    const obj = (rv: string, phase: string) => ({
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Session',
      metadata: { name: 'frank-notes-uvwxy', namespace: 'ns', uid, resourceVersion: rv, creationTimestamp: new Date().toISOString() },
      spec: { user: 'frank', template: 'notes', state: 'running' as const },
      status: { phase, url: `https://apps.example/${rv}` },
    });
    /** The statements one upsert sends to PostgreSQL (every pool client's queries go through Client#query). */
    const statementsOf = async (rv: string, phase: string) => {
      const seen: string[] = [];
      const original = Client.prototype.query;
      Client.prototype.query = function (this: Client, ...args: unknown[]) {
        const q = args[0];
        seen.push(typeof q === 'string' ? q : ((q as { text?: string }).text ?? '?'));
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      try {
        await table.upsert(obj(rv, phase) as never);
      } finally {
        Client.prototype.query = original;
      }
      const row = await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: uid });
      // The owner's id is looked up by name (frank has no users row here, so it is not cached): not the write itself.
      const writes = seen.filter((q) => !/FROM "users"/i.test(q));
      return { statements: writes.map((q) => q.trim().split(/\s+/)[0]!.toUpperCase()), stored: `${row.resourceVersion}:${row.phase}:${row.url}` };
    };
    const created = await statementsOf('30', 'Pending');
    expect(created.stored).to.equal('30:Pending:https://apps.example/30');
    expect(created.statements, 'a new row: the update finds nothing, then the locked insert').to.include.members(['UPDATE', 'INSERT']);
    const newer = await statementsOf('31', 'Running');
    expect(newer).to.deep.equal({ statements: ['UPDATE'], stored: '31:Running:https://apps.example/31' });
    const older = await statementsOf('29', 'Failed');
    expect(older.stored, 'an older version changes nothing').to.equal('31:Running:https://apps.example/31');
    expect(older.statements.length, 'an older version is told apart on the locked path').to.be.greaterThan(1);
  });

  it('replaces the row of a Session re-created under the same name (new uid)', async () => {
    const base = { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', spec: { user: 'bob', template: 'gimp', state: 'running' as const } };
    const first = randomUUID();
    const second = randomUUID();
    await table.upsert({ ...base, metadata: { name: 'bob-gimp-x', namespace: 'ns', uid: first } } as never);
    await table.upsert({ ...base, metadata: { name: 'bob-gimp-x', namespace: 'ns', uid: second } } as never);
    const rows = await dataSource.getRepository(SessionEntity).findBy({ namespace: 'ns', name: 'bob-gimp-x' });
    expect(rows.map((r) => r.id)).to.deep.equal([second]);
  });
});
