import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import { UserEntity } from '../../src/modules/users/user.entity';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, postLogin, signIn, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

interface AuditNode {
  action: string;
  actorUsername: string | null;
  resourceId: string | null;
  changes: Record<string, unknown> | null;
}

const GROUP = { group: 'stream.streamspace.io', version: 'v1alpha1' } as const;

function isGone(err: unknown): boolean {
  const e = err as { code?: number };
  return e?.code === 404;
}

describe('identity: deleting users, resetting passwords, operator and auditor roles', function () {
  this.timeout(KUBE_START_TIMEOUT_MS);
  let app: TestApp;
  let admin: SignedIn;
  let ns: string;
  let kc: KubeConfig;

  before(async () => {
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('user-admin');
    app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: ns });
    admin = await signInAsAdmin(app);
  });
  after(async () => {
    await app?.stop();
  });

  async function audits(action: string, resourceId: string): Promise<AuditNode[]> {
    const res = await app.gql<{ auditLog: { edges: { node: AuditNode }[] } }>(
      'query($f: AuditLogFilterInput) { auditLog(filter: $f, first: 50) { edges { node { action actorUsername resourceId changes } } } }',
      { f: { action } },
      admin.headers,
    );
    expect(res.body.errors).to.equal(undefined);
    return res.body.data!.auditLog.edges.map((e) => e.node).filter((n) => n.resourceId === resourceId);
  }

  const me = (u: { headers: Record<string, string> }) => app.gql<{ me: { username: string; role: string } }>('{ me { username role } }', undefined, u.headers);

  describe('role changes', () => {
    it('makes a user an operator, then an auditor; each token acts with the new role at once, and every change is audited', async () => {
      const u = await createUserAndToken(app);
      const setRole = (role: string) => app.gql<{ updateUser: { role: string } }>('mutation($id: ID!, $r: String) { updateUser(id: $id, input: { role: $r }) { role } }', { id: u.id, r: role }, admin.headers);
      expect((await setRole('operator')).body.data?.updateUser.role).to.equal('operator');
      // The same access token: operators read repositories, not users.
      expect((await app.gql('{ repositories { id } }', undefined, u.headers)).body.errors).to.equal(undefined);
      expect((await app.gql('{ users { totalCount } }', undefined, u.headers)).body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
      expect((await setRole('auditor')).body.data?.updateUser.role).to.equal('auditor');
      expect((await app.gql('{ users { totalCount } }', undefined, u.headers)).body.errors).to.equal(undefined);
      expect((await app.gql('{ auditLog(first: 1) { totalCount } }', undefined, u.headers)).body.errors).to.equal(undefined);
      const write = await app.gql('mutation { createSession(input: { template: "x" }) { id } }', undefined, u.headers);
      expect(write.body.errors?.[0].extensions?.code, 'an auditor changes nothing').to.equal('FORBIDDEN');
      const rows = await audits('user.update', u.id);
      expect(rows.map((r) => (r.changes as { after?: { role?: string } }).after?.role)).to.include.members(['operator', 'auditor']);
      expect((await setRole('root')).body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    });

    it('edits the display name and e-mail address, audited with before and after', async () => {
      const u = await createUserAndToken(app);
      const res = await app.gql<{ updateUser: { displayName: string; email: string } }>(
        'mutation($id: ID!) { updateUser(id: $id, input: { displayName: "Erin Example", email: "erin@example.test" }) { displayName email } }',
        { id: u.id },
        admin.headers,
      );
      expect(res.body.data?.updateUser).to.deep.equal({ displayName: 'Erin Example', email: 'erin@example.test' });
      const [row] = await audits('user.update', u.id);
      expect(row.changes).to.deep.equal({ before: { displayName: null, email: null }, after: { displayName: 'Erin Example', email: 'erin@example.test' } });
      const bad = await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { email: "not an address" }) { id } }', { id: u.id }, admin.headers);
      expect(bad.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    });
  });

  describe('resetUserPassword', () => {
    it('sets the chosen password: the old password and every sign-in of the user stop working, the audit row has no password', async () => {
      const u = await createUserAndToken(app);
      const res = await app.gql<{ resetUserPassword: { user: { id: string }; generatedPassword: string | null } }>(
        'mutation($id: ID!) { resetUserPassword(id: $id, password: "a-new-password-1") { user { id } generatedPassword } }',
        { id: u.id },
        admin.headers,
      );
      expect(res.body.data?.resetUserPassword).to.deep.equal({ user: { id: u.id }, generatedPassword: null });
      expect((await me(u)).body.errors?.[0].extensions?.code, 'the old access token').to.equal('UNAUTHENTICATED');
      expect((await postLogin(app, u.username, u.password)).status, 'the old password').to.equal(401);
      const again = await signIn(app, u.username, 'a-new-password-1');
      expect((await me(again)).body.data?.me.username).to.equal(u.username);
      const [row] = await audits('user.reset_password', u.id);
      expect(row).to.include({ actorUsername: 'admin' });
      expect(row.changes).to.deep.equal({ password: '[REDACTED]', generated: false });
      expect(JSON.stringify(app.logs)).not.to.include('a-new-password-1');
    });

    it('generates a password shown once, which signs the user in; never in the log or the audit log', async () => {
      const u = await createUserAndToken(app);
      const res = await app.gql<{ resetUserPassword: { generatedPassword: string } }>('mutation($id: ID!) { resetUserPassword(id: $id) { generatedPassword } }', { id: u.id }, admin.headers);
      const generated = res.body.data!.resetUserPassword.generatedPassword;
      expect(generated).to.be.a('string').with.length.greaterThan(15);
      await signIn(app, u.username, generated);
      const [row] = await audits('user.reset_password', u.id);
      expect(row.changes).to.deep.equal({ password: '[REDACTED]', generated: true });
      expect(JSON.stringify(app.logs)).not.to.include(generated);
    });

    it('refuses single sign-on users, short passwords and unknown ids with coded errors', async () => {
      const sso = await app.services.database.dataSource
        .getRepository(UserEntity)
        .save({ username: `sso-${process.pid}`, authProvider: 'oidc', oidcIssuer: 'https://idp.test', oidcSubject: randomUUID(), role: 'user', passwordHash: null });
      const cases: [string, Record<string, unknown>, string][] = [
        ['mutation($id: ID!) { resetUserPassword(id: $id) { generatedPassword } }', { id: sso.id }, 'BAD_USER_INPUT'],
        ['mutation($id: ID!) { resetUserPassword(id: $id, password: "short") { generatedPassword } }', { id: admin.user.id }, 'BAD_USER_INPUT'],
        ['mutation($id: ID!) { resetUserPassword(id: $id) { generatedPassword } }', { id: randomUUID() }, 'NOT_FOUND'],
      ];
      for (const [query, vars, code] of cases) {
        const res = await app.gql(query, vars, admin.headers);
        expect(res.body.errors?.[0].extensions?.code, JSON.stringify(vars)).to.equal(code);
      }
      expect(await audits('user.reset_password', sso.id)).to.deep.equal([]);
    });
  });

  describe('deleteUser', () => {
    const custom = () => kc.makeApiClient(CustomObjectsApi);
    const core = () => kc.makeApiClient(CoreV1Api);

    /** A user with one live Session object (mirrored into the sessions table), one terminated session row and a home claim. */
    async function userWithSessionAndHome(): Promise<{ user: TestUser; sessionName: string; terminatedId: string }> {
      const user = await createUserAndToken(app);
      const sessionName = `del-${user.username.slice(-6)}`;
      await custom().createNamespacedCustomObject({
        ...GROUP,
        namespace: ns,
        plural: 'sessions',
        body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name: sessionName }, spec: { user: user.username, template: 'none', state: 'running' } },
      });
      const repo = app.services.database.dataSource.getRepository(SessionEntity);
      await waitUntil(async () => (await repo.countBy({ name: sessionName, namespace: ns })) > 0, 'the session in the sessions table');
      const terminatedId = randomUUID();
      await repo.insert({ id: terminatedId, name: `${sessionName}-old`, namespace: ns, userId: user.id, username: user.username, template: 'none', state: 'terminated', phase: 'Terminated', spec: {} });
      await core().createNamespacedPersistentVolumeClaim({
        namespace: ns,
        body: {
          metadata: { name: `home-${user.id}`, labels: { 'stream.streamspace.io/home-owner': user.id } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      });
      return { user, sessionName, terminatedId };
    }

    const sessionGone = async (name: string) => {
      try {
        const obj = (await custom().getNamespacedCustomObject({ ...GROUP, namespace: ns, plural: 'sessions', name })) as { metadata?: { deletionTimestamp?: string } };
        return Boolean(obj.metadata?.deletionTimestamp);
      } catch (err) {
        if (isGone(err)) return true;
        throw err;
      }
    };
    const claim = async (name: string) => {
      try {
        return await core().readNamespacedPersistentVolumeClaim({ name, namespace: ns });
      } catch (err) {
        if (isGone(err)) return null;
        throw err;
      }
    };

    const DELETE = 'mutation($id: ID!, $homes: HomeDisposition!) { deleteUser(id: $id, homes: $homes) { user { id username } terminatedSessionIds homeClaims homes } }';

    it('KEEP: terminates the user\'s sessions, keeps the home claim, removes the account; its token stops working; audited', async () => {
      const { user, sessionName } = await userWithSessionAndHome();
      // An open socket of the user, answering queries before the deletion.
      let closeCode: number | undefined;
      const answers: unknown[] = [];
      const socket = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: user.headers.authorization },
        on: { closed: (event) => (closeCode = (event as { code: number }).code) },
      });
      socket.subscribe({ query: '{ me { username } }' }, { next: (r) => void answers.push(r.data), error: () => undefined, complete: () => undefined });
      await waitUntil(() => answers.length === 1, 'an answer on the socket', 10_000);
      const res = await app.gql<{ deleteUser: { user: { id: string; username: string }; terminatedSessionIds: string[]; homeClaims: string[]; homes: string } }>(
        DELETE,
        { id: user.id, homes: 'KEEP' },
        admin.headers,
      );
      expect(res.body.errors).to.equal(undefined);
      const result = res.body.data!.deleteUser;
      expect(result.user).to.deep.equal({ id: user.id, username: user.username });
      expect(result.terminatedSessionIds).to.have.length(1);
      expect(result).to.deep.include({ homeClaims: [`home-${user.id}`], homes: 'KEEP' });
      expect(await sessionGone(sessionName), 'the Session object is deleted').to.equal(true);
      const kept = await claim(`home-${user.id}`);
      expect(kept?.metadata?.deletionTimestamp, 'the home claim is kept').to.equal(undefined);
      await waitUntil(() => closeCode !== undefined, 'the user\'s socket to be closed', 10_000);
      expect(closeCode).to.be.oneOf([4401, 4403]);
      await socket.dispose();
      expect((await me(user)).body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
      expect((await postLogin(app, user.username, user.password)).status).to.equal(401);
      expect((await app.gql('query($id: ID!) { user(id: $id) { id } }', { id: user.id }, admin.headers)).body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
      const [row] = await audits('user.delete', user.id);
      expect(row.changes).to.deep.include({ username: user.username, homes: 'kept', homeClaims: [`home-${user.id}`], terminatedSessions: [sessionName] });
      expect(await audits('session.delete', result.terminatedSessionIds[0])).to.have.length(1);
    });

    it('DELETE: deletes the home claim too', async () => {
      const { user, sessionName } = await userWithSessionAndHome();
      const res = await app.gql<{ deleteUser: { homeClaims: string[]; homes: string } }>(DELETE, { id: user.id, homes: 'DELETE' }, admin.headers);
      expect(res.body.errors).to.equal(undefined);
      expect(res.body.data?.deleteUser).to.deep.include({ homeClaims: [`home-${user.id}`], homes: 'DELETE' });
      expect(await sessionGone(sessionName)).to.equal(true);
      const left = await claim(`home-${user.id}`);
      // Gone, or going (the pvc-protection finalizer may hold it for a moment).
      expect(left === null || Boolean(left.metadata?.deletionTimestamp), 'the home claim is deleted').to.equal(true);
      const [row] = await audits('user.delete', user.id);
      expect(row.changes).to.deep.include({ homes: 'deleted' });
    });

    it('refuses your own account, unknown ids and a missing choice for the homes; the last admin is never deleted', async () => {
      const self = await app.gql(DELETE, { id: admin.user.id, homes: 'KEEP' }, admin.headers);
      expect(self.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
      const unknown = await app.gql(DELETE, { id: randomUUID(), homes: 'KEEP' }, admin.headers);
      expect(unknown.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
      const noChoice = await app.gql('mutation($id: ID!) { deleteUser(id: $id) { homes } }', { id: randomUUID() }, admin.headers);
      expect(noChoice.body.errors?.[0].message).to.match(/homes/);
      // Through the API the caller is always another enabled admin; the service still refuses the last one.
      let code: string | undefined;
      try {
        await app.services.users.assertDeletable(admin.user.id, { caller: null, requestId: 'test' });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).to.equal('CONFLICT');
      expect((await me(admin)).body.data?.me.username).to.equal('admin');
    });

    it('is for admins only: operators and auditors get FORBIDDEN and nothing changes', async () => {
      const target = await createUserAndToken(app);
      for (const role of ['operator', 'auditor'] as const) {
        const caller = await createUserAndToken(app, role);
        const res = await app.gql(DELETE, { id: target.id, homes: 'DELETE' }, caller.headers);
        expect(res.body.errors?.[0].extensions?.code, role).to.equal('FORBIDDEN');
        const reset = await app.gql('mutation($id: ID!) { resetUserPassword(id: $id) { generatedPassword } }', { id: target.id }, caller.headers);
        expect(reset.body.errors?.[0].extensions?.code, role).to.equal('FORBIDDEN');
      }
      expect((await me(target)).body.data?.me.username).to.equal(target.username);
    });
  });
});
