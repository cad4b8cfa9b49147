import { expect } from 'chai';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { ConfigurationEntity } from '../../src/modules/configuration/configuration.entity';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { refusal } from '../support/errors';
import { startTestApp, type TestApp } from '../support/app';
import { waitUntil } from '../support/wait';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestDatabase } from '../support/postgres';

const GiB = 2 ** 30;
const SETTING_FIELDS = 'key label kind rule envVariable value defaultValue source updatedAt updatedBy';

interface Setting {
  key: string;
  kind: string;
  rule: string;
  envVariable: string;
  value: unknown;
  defaultValue: unknown;
  source: 'ENVIRONMENT' | 'DATABASE';
  updatedAt: string | null;
  updatedBy: string | null;
}
type GqlError = { message: string; extensions?: Record<string, unknown> };


describe('configuration: runtime settings', () => {
  let databaseUrl: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  const env = {
    STREAMSPACE_QUOTA_MAX_SESSIONS: '3',
    STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '2',
    STREAMSPACE_QUOTA_CPU: '2',
    STREAMSPACE_QUOTA_MEMORY: '4Gi',
    STREAMSPACE_PORTAL_ANNOUNCEMENT: 'Maintenance on Sunday',
  };

  before(async () => {
    databaseUrl = await createTestDatabase('settings');
    app = await startTestApp({ ...env, DATABASE_URL: databaseUrl });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
  });
  after(async () => {
    await app?.stop();
  });

  async function settings(headers = admin.headers): Promise<Record<string, Setting>> {
    const res = await app.gql<{ settings: Setting[] }>(`{ settings { ${SETTING_FIELDS} } }`, undefined, headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return Object.fromEntries(res.body.data!.settings.map((s) => [s.key, s]));
  }

  function update(key: string, value: unknown, headers = admin.headers) {
    return app.gql<{ updateSetting: Setting }>(
      `mutation($key: String!, $value: JSON!) { updateSetting(key: $key, value: $value) { ${SETTING_FIELDS} } }`,
      { key, value },
      headers,
    );
  }

  function reset(key: string, headers = admin.headers) {
    return app.gql<{ resetSetting: Setting }>(`mutation($key: String!) { resetSetting(key: $key) { ${SETTING_FIELDS} } }`, { key }, headers);
  }

  async function announcement(headers: Record<string, string>) {
    return app.gql<{ announcement: string | null }>('{ announcement }', undefined, headers);
  }

  async function auditRows(action: string) {
    return app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action }, order: { id: 'ASC' } });
  }

  async function addSession(state: string) {
    const id = randomUUID();
    await app.services.database.dataSource.getRepository(SessionEntity).insert({
      id,
      name: `s-${id.slice(0, 8)}`,
      namespace: 'streamspace',
      userId: user.id,
      username: user.username,
      template: 'firefox',
      state,
      spec: { resources: { requests: { cpu: '250m', memory: '256Mi' } } },
    });
    return id;
  }

  const newSession = { sessions: 1, runningSessions: 0, cpu: 0, memory: 0 };

  it('lists every setting with its default from the configuration (source ENVIRONMENT)', async () => {
    const s = await settings();
    expect(Object.keys(s)).to.include.members(['quota.maxSessions', 'quota.maxRunningSessions', 'quota.cpu', 'quota.memory', 'portal.announcement']);
    expect(Object.keys(s)).to.include.members(['routing.mode', 'storage.homeSize', 'resources.maxCpu', 'sessions.idleTimeout', 'features.sharing']);
    expect(s['quota.maxSessions']).to.include({ value: 3, defaultValue: 3, source: 'ENVIRONMENT', updatedAt: null, updatedBy: null, kind: 'INTEGER' });
    expect(s['quota.maxSessions'].envVariable).to.equal('STREAMSPACE_QUOTA_MAX_SESSIONS');
    expect(s['quota.maxRunningSessions']).to.include({ value: 2, source: 'ENVIRONMENT' });
    expect(s['quota.cpu']).to.include({ value: 2, defaultValue: 2, kind: 'CPU' });
    expect(s['quota.memory']).to.include({ value: 4 * GiB, defaultValue: 4 * GiB, kind: 'MEMORY' });
    expect(s['portal.announcement']).to.include({ value: 'Maintenance on Sunday', source: 'ENVIRONMENT', kind: 'TEXT' });
    expect((await announcement(user.headers)).body.data?.announcement).to.equal('Maintenance on Sunday');
  });

  it('lowering the default max sessions refuses a user at once (QUOTA_EXCEEDED), without a restart', async () => {
    await addSession('running');
    await addSession('hibernated');
    // 2 sessions, limit 3: one more fits.
    await app.services.quotas.check(user.id, newSession);

    const res = await update('quota.maxSessions', 2);
    expect(res.body.errors).to.equal(undefined);
    const saved = res.body.data!.updateSetting;
    expect(saved).to.include({ key: 'quota.maxSessions', value: 2, defaultValue: 3, source: 'DATABASE', updatedBy: 'admin' });
    expect(new Date(saved.updatedAt!).getTime()).to.be.closeTo(Date.now(), 60_000);

    const refused = await refusal(app.services.quotas.check(user.id, newSession));
    expect(refused.code).to.equal('QUOTA_EXCEEDED');
    expect(refused.details).to.deep.equal({ resource: 'maxSessions', limit: 2, used: 2, requested: 1 });
    const me = await app.gql<{ me: { quota: { maxSessions: number; overridden: string[] } } }>('{ me { quota { maxSessions overridden } } }', undefined, user.headers);
    expect(me.body.data?.me.quota).to.deep.equal({ maxSessions: 2, overridden: [] });
  });

  it('leaves users with their own quota alone', async () => {
    const other = await createUserAndToken(app);
    await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { quota: { maxSessions: 7 } }) { id } }', { id: other.id }, admin.headers);
    expect((await app.services.quotas.limitsFor(other.id)).maxSessions).to.equal(7);
    await update('quota.maxRunningSessions', 0);
    const limits = await app.services.quotas.limitsFor(other.id);
    expect(limits).to.include({ maxSessions: 7, maxRunningSessions: 0 });
    await reset('quota.maxRunningSessions');
  });

  it('accepts quantities for CPU and memory and stores them in cores and bytes', async () => {
    const cpu = await update('quota.cpu', '500m');
    expect(cpu.body.data?.updateSetting).to.include({ value: 0.5, source: 'DATABASE' });
    const memory = await update('quota.memory', '1Gi');
    expect(memory.body.data?.updateSetting).to.include({ value: GiB });
    const bytes = await update('quota.memory', 3 * GiB);
    expect(bytes.body.data?.updateSetting).to.include({ value: 3 * GiB });
    // The running session asks for 250m; 250m more fits in 500m, 300m does not.
    await app.services.quotas.check(user.id, { sessions: 0, runningSessions: 0, cpu: 0.25, memory: 0 });
    const refused = await refusal(app.services.quotas.check(user.id, { sessions: 0, runningSessions: 0, cpu: 0.3, memory: 0 }));
    expect(refused.details).to.include({ resource: 'cpu', limit: 0.5 });
    await reset('quota.cpu');
    await reset('quota.memory');
  });

  it('refuses bad values with BAD_USER_INPUT naming the rule, and changes nothing', async () => {
    const rowsBefore = await app.services.database.dataSource.getRepository(ConfigurationEntity).find({ order: { key: 'ASC' } });
    const auditBefore = (await auditRows('setting.update')).length;
    const cases: [string, unknown, RegExp][] = [
      ['quota.maxSessions', -1, /quota\.maxSessions must be a whole number from 0 to 10000/],
      ['quota.maxSessions', 1.5, /whole number/],
      ['quota.maxSessions', 'many', /whole number/],
      ['quota.maxSessions', 10_001, /from 0 to 10000/],
      ['quota.maxRunningSessions', true, /whole number/],
      ['quota.cpu', '-1', /quota\.cpu must be a CPU quantity of at least 0/],
      ['quota.cpu', '2 cores', /CPU quantity/],
      ['quota.memory', '16GB', /quota\.memory must be a memory quantity of at least 0/],
      ['quota.memory', { bytes: 1 }, /memory quantity/],
      ['portal.announcement', 'x'.repeat(501), /portal\.announcement must be a text of at most 500 characters/],
      ['portal.announcement', 42, /text of at most 500/],
    ];
    for (const [key, value, message] of cases) {
      const res = await update(key, value);
      const error = res.body.errors?.[0];
      expect(error?.extensions?.code, `${key}=${JSON.stringify(value)}`).to.equal('BAD_USER_INPUT');
      expect(error?.message).to.match(message);
      expect(error?.extensions?.details).to.include({ key });
      expect(res.body.data?.updateSetting ?? null).to.equal(null);
    }
    // null never reaches the setting: JSON! refuses it first.
    expect((await update('quota.maxSessions', null)).body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    const rowsAfter = await app.services.database.dataSource.getRepository(ConfigurationEntity).find({ order: { key: 'ASC' } });
    expect(rowsAfter).to.deep.equal(rowsBefore);
    expect((await auditRows('setting.update')).length).to.equal(auditBefore);
    expect((await settings())['quota.maxSessions'].value).to.equal(2);
  });

  it('answers NOT_FOUND with the known keys for an unknown setting', async () => {
    for (const res of [await update('quota.nope', 1), await reset('quota.nope')]) {
      const error = res.body.errors?.[0] as GqlError;
      expect(error.extensions?.code).to.equal('NOT_FOUND');
      expect(error.message).to.match(/There is no setting "quota\.nope"; known settings: .*quota\.maxSessions/);
    }
    expect(await app.services.database.dataSource.getRepository(ConfigurationEntity).existsBy({ key: 'quota.nope' })).to.equal(false);
  });

  it('writes an audit row with before and after for every update and reset', async () => {
    const updates = await auditRows('setting.update');
    const first = updates.find((r) => r.resourceId === 'quota.maxSessions')!;
    expect(first).to.include({ resourceType: 'setting', actorUsername: 'admin', outcome: 'success' });
    expect(first.changes).to.deep.equal({ before: { value: 3, source: 'ENVIRONMENT' }, after: { value: 2, source: 'DATABASE' } });
    const resets = await auditRows('setting.reset');
    const cpuReset = resets.find((r) => r.resourceId === 'quota.cpu')!;
    expect(cpuReset.changes).to.deep.equal({ before: { value: 0.5, source: 'DATABASE' }, after: { value: 2, source: 'ENVIRONMENT' } });
  });

  it('sets and clears the portal announcement any signed-in user reads', async () => {
    const set = await update('portal.announcement', '  New apps in the catalog!  ');
    expect(set.body.data?.updateSetting.value).to.equal('New apps in the catalog!');
    expect((await announcement(user.headers)).body.data?.announcement).to.equal('New apps in the catalog!');
    await update('portal.announcement', '');
    expect((await announcement(user.headers)).body.data?.announcement).to.equal(null);
    await update('portal.announcement', 'y'.repeat(500));
    expect((await announcement(user.headers)).body.data?.announcement).to.have.length(500);
  });

  it('reset goes back to the default and the quota follows', async () => {
    const res = await reset('quota.maxSessions');
    expect(res.body.data?.resetSetting).to.include({ value: 3, source: 'ENVIRONMENT', updatedAt: null, updatedBy: null });
    expect(await app.services.database.dataSource.getRepository(ConfigurationEntity).existsBy({ key: 'quota.maxSessions' })).to.equal(false);
    await app.services.quotas.check(user.id, newSession);
    const again = await reset('portal.announcement');
    expect(again.body.data?.resetSetting.value).to.equal('Maintenance on Sunday');
    expect((await announcement(user.headers)).body.data?.announcement).to.equal('Maintenance on Sunday');
  });

  it('refuses non-admins (FORBIDDEN) and anonymous callers (UNAUTHENTICATED)', async () => {
    const cases = [
      await app.gql('{ settings { key } }', undefined, user.headers),
      await update('quota.maxSessions', 100, user.headers),
      await reset('quota.maxSessions', user.headers),
    ];
    for (const res of cases) expect(res.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    expect((await settings())['quota.maxSessions'].source).to.equal('ENVIRONMENT');
    expect((await app.gql('{ settings { key } }')).body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
    expect((await announcement({})).body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
  });

  it('serves reads from memory: a row changed behind its back is seen only after an invalidation', async () => {
    const service = app.services.settings;
    const loads = service.loads;
    for (let i = 0; i < 5; i++) {
      await settings();
      await announcement(user.headers);
      await app.services.quotas.check(user.id, newSession);
    }
    expect(service.loads).to.equal(loads);
    await app.services.database.dataSource.query(
      `INSERT INTO configuration (key, value, updated_by) VALUES ('quota.maxSessions', '1'::jsonb, 'sql')`,
    );
    expect((await settings())['quota.maxSessions'].value).to.equal(3);
    await service.invalidate();
    expect(service.loads).to.equal(loads + 1);
    expect((await settings())['quota.maxSessions']).to.include({ value: 1, source: 'DATABASE', updatedBy: 'sql' });
    await reset('quota.maxSessions');
  });

  it('ignores a stored value that breaks the rule (the default applies)', async () => {
    await app.services.database.dataSource.query(`INSERT INTO configuration (key, value) VALUES ('quota.maxRunningSessions', '"lots"'::jsonb)`);
    await app.services.settings.invalidate();
    expect((await settings())['quota.maxRunningSessions']).to.include({ value: 2, source: 'ENVIRONMENT' });
    await app.services.database.dataSource.query(`DELETE FROM configuration WHERE key = 'quota.maxRunningSessions'`);
  });

  it('announcementChanged: the text now, then each change, live on another replica too (no polling)', async () => {
    await update('portal.announcement', 'First words');
    const two = await startTestApp({ ...env, DATABASE_URL: databaseUrl });
    const client = createClient({ url: two.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: user.headers.authorization } });
    const seen: (string | null)[] = [];
    try {
      const stop = client.subscribe<{ announcementChanged: string | null }>(
        { query: 'subscription { announcementChanged }' },
        { next: (m) => void (m.data && seen.push(m.data.announcementChanged)), error: () => undefined, complete: () => undefined },
      );
      await waitUntil(async () => seen.length === 1, 'the current announcement first', 10_000);
      expect(seen).to.deep.equal(['First words']);
      // Changed on replica one: replica two reloads (LISTEN/NOTIFY) and its subscriber gets the new text.
      await update('portal.announcement', 'Second words');
      await waitUntil(async () => seen.length === 2, 'the changed announcement', 10_000);
      // A change of another setting sends nothing; clearing the announcement sends null.
      await update('quota.maxSessions', 5);
      await update('portal.announcement', '');
      await waitUntil(async () => seen.length === 3, 'the cleared announcement', 10_000);
      expect(seen).to.deep.equal(['First words', 'Second words', null]);
      stop();
      // Anonymous sockets get nothing.
      const anonymous = createClient({ url: two.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      const refused = await new Promise<string>((resolve) => {
        anonymous.subscribe({ query: 'subscription { announcementChanged }' }, {
          next: (m) => resolve(JSON.stringify(m.errors ?? m.data)),
          error: (e) => resolve(JSON.stringify(e)),
          complete: () => resolve('complete'),
        });
      });
      expect(refused).to.match(/UNAUTHENTICATED|4401|4403|Unauthorized|Forbidden/i);
      await anonymous.dispose();
    } finally {
      await reset('quota.maxSessions');
      await reset('portal.announcement');
      await client.dispose();
      await two.stop();
    }
  });

  it('invalidates the cache of another replica on the same database (LISTEN/NOTIFY)', async () => {
    const two = await startTestApp({ ...env, DATABASE_URL: databaseUrl });
    try {
      const adminTwo = await signInAsAdmin(two);
      const readOnTwo = async () =>
        (await two.gql<{ settings: Setting[] }>('{ settings { key value source } }', undefined, adminTwo.headers)).body.data!.settings.find((s) => s.key === 'quota.maxSessions')!;
      expect(await readOnTwo()).to.include({ value: 3, source: 'ENVIRONMENT' });
      await update('quota.maxSessions', 1);
      await waitUntil(async () => (await readOnTwo()).value === 1, 'replica two to see the new value', 10_000);
      await refusal(two.services.quotas.check(user.id, newSession));
      await reset('quota.maxSessions');
      await waitUntil(async () => (await readOnTwo()).source === 'ENVIRONMENT', 'replica two to see the reset', 10_000);
      await two.services.quotas.check(user.id, newSession);
    } finally {
      await two.stop();
    }
  });
});
