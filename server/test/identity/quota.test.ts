import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { refusal } from '../support/errors';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type TestUser } from '../support/auth';

const GiB = 2 ** 30;

describe('identity: quotas', () => {
  let app: TestApp;
  let user: TestUser;
  before(async () => {
    app = await startTestApp({
      STREAMSPACE_QUOTA_MAX_SESSIONS: '3',
      STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '2',
      STREAMSPACE_QUOTA_CPU: '2',
      STREAMSPACE_QUOTA_MEMORY: '4Gi',
    });
    user = await createUserAndToken(app);
  });
  after(async () => {
    await app?.stop();
  });

  async function addSession(state: string, cpu: string, memory: string) {
    const id = randomUUID();
    await app.services.database.dataSource.getRepository(SessionEntity).insert({
      id,
      name: `s-${id.slice(0, 8)}`,
      namespace: 'streamspace',
      userId: user.id,
      username: user.username,
      template: 'firefox',
      state,
      spec: { resources: { requests: { cpu, memory }, limits: { memory } } },
    });
    return id;
  }

  it('shows the configured defaults as the effective quota', async () => {
    const me = await app.gql<{ me: { quota: unknown } }>('{ me { quota { maxSessions maxRunningSessions cpu memory overridden } } }', undefined, user.headers);
    expect(me.body.data?.me.quota).to.deep.equal({ maxSessions: 3, maxRunningSessions: 2, cpu: 2, memory: 4 * GiB, overridden: [] });
  });

  it('allows within quota and refuses beyond it with the numbers', async () => {
    const quotas = app.services.quotas;
    await quotas.check(user.id, { sessions: 1, runningSessions: 1, cpu: 1, memory: GiB });
    await addSession('running', '1500m', '1Gi');
    // CPU: 1.5 used + 1 asked > 2
    const cpu = await refusal(quotas.check(user.id, { sessions: 1, runningSessions: 1, cpu: 1, memory: GiB }));
    expect(cpu.code).to.equal('QUOTA_EXCEEDED');
    expect(cpu.details).to.deep.equal({ resource: 'cpu', limit: 2, used: 1.5, requested: 1 });
    expect(cpu.message).to.match(/1\.5 CPU cores in use \+ 1 CPU cores requested > limit of 2 CPU cores/);
    // Memory: 1 GiB used + 4 GiB asked > 4 GiB
    const mem = await refusal(quotas.check(user.id, { sessions: 1, runningSessions: 1, cpu: 0.25, memory: 4 * GiB }));
    expect(mem.details).to.include({ resource: 'memory', limit: 4 * GiB, used: GiB });

    await addSession('running', '250m', '512Mi');
    const running = await refusal(quotas.check(user.id, { sessions: 1, runningSessions: 1, cpu: 0.1, memory: 1 }));
    expect(running.details).to.deep.equal({ resource: 'maxRunningSessions', limit: 2, used: 2, requested: 1 });

    const hibernated = await addSession('hibernated', '1', '1Gi');
    const count = await refusal(quotas.check(user.id, { sessions: 1, runningSessions: 0, cpu: 0, memory: 0 }));
    expect(count.details).to.deep.equal({ resource: 'maxSessions', limit: 3, used: 3, requested: 1 });
    // Waking the hibernated one needs a running slot, not a new session.
    const wake = await refusal(quotas.check(user.id, { sessions: 0, runningSessions: 1, cpu: 1, memory: GiB, excludeSessionId: hibernated }));
    expect(wake.details).to.include({ resource: 'maxRunningSessions' });
  });

  it('lets an admin override a user\'s quota through updateUser (null restores the default)', async () => {
    const admin = await signInAsAdmin(app);
    const set = await app.gql<{ updateUser: { quota: Record<string, unknown> } }>(
      'mutation($id: ID!) { updateUser(id: $id, input: { quota: { maxRunningSessions: 5, cpu: 8 } }) { quota { maxSessions maxRunningSessions cpu overridden } } }',
      { id: user.id },
      admin.headers,
    );
    expect(set.body.data?.updateUser.quota).to.deep.equal({ maxSessions: 3, maxRunningSessions: 5, cpu: 8, overridden: ['maxRunningSessions', 'cpu'] });
    await app.services.quotas.check(user.id, { sessions: 0, runningSessions: 1, cpu: 1, memory: GiB });
    const cleared = await app.gql<{ updateUser: { quota: Record<string, unknown> } }>(
      'mutation($id: ID!) { updateUser(id: $id, input: { quota: { cpu: null } }) { quota { cpu overridden } } }',
      { id: user.id },
      admin.headers,
    );
    expect(cleared.body.data?.updateUser.quota).to.deep.equal({ cpu: 2, overridden: ['maxRunningSessions'] });
    const bad = await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { quota: { cpu: -1 } }) { id } }', { id: user.id }, admin.headers);
    expect(bad.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
  });
});
