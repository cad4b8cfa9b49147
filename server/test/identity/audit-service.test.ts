import 'reflect-metadata';
import { expect } from 'chai';
import { AuditService, redactSecrets } from '../../src/modules/audit/audit.service';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { ENTITIES } from '../../src/composition/entities';
import { createDataSource } from '../../src/platform/database/data-source';
import { createTestDatabase } from '../support/postgres';
import type { DataSource } from 'typeorm';

describe('identity: AuditService', () => {
  let ds: DataSource;
  let audit: AuditService;
  before(async () => {
    ds = createDataSource({ url: await createTestDatabase('audit'), entities: ENTITIES });
    await ds.initialize();
    await ds.runMigrations();
    audit = new AuditService(ds);
  });
  after(async () => {
    await ds?.destroy();
  });

  it('redacts password, token, secret and key fields at any depth', () => {
    const out = redactSecrets({
      username: 'ann',
      password: 'hunter2',
      nested: { apiToken: 't', clientSecret: 's', sshKey: 'k', keep: 1, list: [{ newPassword: 'x', name: 'n' }] },
      accessKey: null,
    });
    expect(out).to.deep.equal({
      username: 'ann',
      password: '[REDACTED]',
      nested: { apiToken: '[REDACTED]', clientSecret: '[REDACTED]', sshKey: '[REDACTED]', keep: 1, list: [{ newPassword: '[REDACTED]', name: 'n' }] },
      accessKey: null,
    });
  });

  it('records a row with actor, request id and IP from the source, secrets redacted', async () => {
    const row = await audit.record({
      action: 'user.create',
      resourceType: 'user',
      resourceId: 'u-1',
      changes: { username: 'bob', password: 'plain' },
      source: { caller: { id: '00000000-0000-4000-8000-000000000001', username: 'admin' }, requestId: 'req-1', clientIp: '10.0.0.1' },
    });
    expect(row.id).to.be.a('string');
    const stored = await ds.getRepository(AuditLogEntity).findOneByOrFail({ id: row.id });
    expect(stored).to.include({ action: 'user.create', actorUsername: 'admin', requestId: 'req-1', clientIp: '10.0.0.1', outcome: 'success' });
    expect(stored.changes).to.deep.equal({ username: 'bob', password: '[REDACTED]' });
  });

  it('writes in the caller transaction: a rollback removes the audit row too', async () => {
    const before = await ds.getRepository(AuditLogEntity).count();
    await ds
      .transaction(async (manager) => {
        await audit.record({ action: 'user.update', resourceType: 'user', resourceId: 'u-2' }, manager);
        throw new Error('change failed');
      })
      .catch(() => undefined);
    expect(await ds.getRepository(AuditLogEntity).count()).to.equal(before);
  });

  it('lists newest first with filters and keyset pages', async () => {
    for (let i = 0; i < 5; i++) await audit.record({ action: 'session.create', resourceType: 'session', resourceId: `s-${i}` });
    await audit.record({ action: 'auth.login', resourceType: 'user', outcome: 'failure', actor: { id: null, username: 'mallory' } });
    const page1 = await audit.list({ action: 'session.' }, 2);
    expect(page1.totalCount).to.equal(5);
    expect(page1.edges.map((e) => e.node.resourceId)).to.deep.equal(['s-4', 's-3']);
    expect(page1.pageInfo.hasNextPage).to.equal(true);
    const page2 = await audit.list({ action: 'session.' }, 2, page1.pageInfo.endCursor!);
    expect(page2.edges.map((e) => e.node.resourceId)).to.deep.equal(['s-2', 's-1']);
    const failures = await audit.list({ outcome: 'failure' });
    expect(failures.edges.map((e) => e.node.actorUsername)).to.deep.equal(['mallory']);
  });

  it('recordOnceSince writes a row only when none of the same action on the resource was written since', async () => {
    const id = '6f1c1b7e-0000-4000-8000-000000000001';
    const since = new Date(Date.now() - 60_000);
    const entry = { action: 'session.hibernate', resourceType: 'session', resourceId: id, actor: null, changes: { reason: 'idle', token: 'x' } };
    expect(await audit.recordOnceSince(entry, since)).to.equal(true);
    expect(await audit.recordOnceSince(entry, since)).to.equal(false);
    const rows = await ds.getRepository(AuditLogEntity).findBy({ action: 'session.hibernate', resourceId: id });
    expect(rows.map((r) => [r.actorId, r.outcome, r.changes])).to.deep.equal([[null, 'success', { reason: 'idle', token: '[REDACTED]' }]]);
    // A later episode (its own `since`) gets its own row.
    expect(await audit.recordOnceSince({ ...entry, source: { caller: { id: '6f1c1b7e-0000-4000-8000-000000000002', username: 'ann' } }, actor: undefined }, new Date(Date.now() + 1000))).to.equal(true);
    expect(await ds.getRepository(AuditLogEntity).countBy({ action: 'session.hibernate', resourceId: id })).to.equal(2);
  });
});
