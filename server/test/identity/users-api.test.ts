import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signIn, signInAsAdmin, type SignedIn } from '../support/auth';

interface AuditNode {
  action: string;
  actorUsername: string | null;
  resourceId: string | null;
  outcome: string;
  changes: Record<string, unknown> | null;
  requestId: string | null;
}

describe('identity: users API and audit log', () => {
  let app: TestApp;
  let admin: SignedIn;
  before(async () => {
    app = await startTestApp();
    admin = await signInAsAdmin(app);
  });
  after(async () => {
    await app?.stop();
  });

  async function lastAudit(action: string): Promise<AuditNode> {
    const res = await app.gql<{ auditLog: { edges: { node: AuditNode }[] } }>(
      'query($f: AuditLogFilterInput) { auditLog(filter: $f, first: 1) { edges { node { action actorUsername resourceId outcome changes requestId } } } }',
      { f: { action } },
      admin.headers,
    );
    expect(res.body.errors).to.equal(undefined);
    return res.body.data!.auditLog.edges[0].node;
  }

  it('creates a user (role defaults to user) and audits it with the password redacted', async () => {
    const res = await app.gql<{ createUser: { id: string; username: string; role: string; authProvider: string } }>(
      'mutation { createUser(input: { username: "Carol", password: "carol-password-1", email: "carol@example.test" }) { id username role authProvider } }',
      undefined,
      { ...admin.headers, 'x-request-id': 'create-carol' },
    );
    expect(res.body.data?.createUser).to.include({ username: 'carol', role: 'user', authProvider: 'local' });
    const row = await lastAudit('user.create');
    expect(row).to.include({ actorUsername: 'admin', resourceId: res.body.data!.createUser.id, outcome: 'success', requestId: 'create-carol' });
    expect(row.changes).to.deep.include({ username: 'carol', role: 'user', password: '[REDACTED]' });
    await signIn(app, 'carol', 'carol-password-1');
  });

  it('refuses duplicates, bad names, short passwords and unknown roles with coded errors', async () => {
    const cases: [string, string][] = [
      ['{ username: "carol", password: "long-enough-1" }', 'CONFLICT'],
      ['{ username: "bad name", password: "long-enough-1" }', 'BAD_USER_INPUT'],
      ['{ username: "dave", password: "short" }', 'BAD_USER_INPUT'],
      ['{ username: "dave", password: "long-enough-1", role: "root" }', 'BAD_USER_INPUT'],
      // Longer than the column (found by the fuzz test: it was a database error, masked as INTERNAL_SERVER_ERROR).
      [`{ username: "dave", password: "long-enough-1", displayName: "${'d'.repeat(201)}" }`, 'BAD_USER_INPUT'],
      ['{ username: "dave", password: "long-enough-1", displayName: "two\\nlines" }', 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const res = await app.gql<unknown>(`mutation { createUser(input: ${input}) { id } }`, undefined, admin.headers);
      expect(res.body.errors?.[0].extensions?.code, input.slice(0, 120)).to.equal(code);
    }
    const long = await app.gql(`mutation { createUser(input: { username: "dave", password: "long-enough-1", displayName: "${'d'.repeat(201)}" }) { id } }`, undefined, admin.headers);
    expect(long.body.errors?.[0].message).to.equal('The display name must be at most 200 characters');
    expect(long.body.errors?.[0].extensions?.details).to.deep.equal({ field: 'displayName' });
    // 200 characters fit, even when each is two UTF-16 units; and an update is held to the same rule.
    const fits = await app.gql<{ createUser: { id: string; displayName: string } }>(
      `mutation { createUser(input: { username: "dave", password: "long-enough-1", displayName: "${'👩'.repeat(200)}" }) { id displayName } }`,
      undefined,
      admin.headers,
    );
    expect(fits.body.errors).to.equal(undefined);
    expect([...fits.body.data!.createUser.displayName]).to.have.length(200);
    const tooLong = await app.gql('mutation($id: ID!, $n: String) { updateUser(id: $id, input: { displayName: $n }) { id } }', { id: fits.body.data!.createUser.id, n: 'x'.repeat(201) }, admin.headers);
    expect(tooLong.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
  });

  it('updates role and profile with a before/after audit row', async () => {
    const u = await createUserAndToken(app);
    const res = await app.gql<{ updateUser: { role: string; displayName: string } }>(
      'mutation($id: ID!) { updateUser(id: $id, input: { role: "admin", displayName: "Promoted" }) { role displayName } }',
      { id: u.id },
      admin.headers,
    );
    expect(res.body.data?.updateUser).to.deep.equal({ role: 'admin', displayName: 'Promoted' });
    const row = await lastAudit('user.update');
    expect(row.changes).to.deep.equal({ before: { role: 'user', displayName: null }, after: { role: 'admin', displayName: 'Promoted' } });
    // The new role applies to the existing token at once (the role is read per request).
    const users = await app.gql<{ users: { totalCount: number } }>('{ users { totalCount } }', undefined, u.headers);
    expect(users.body.data?.users.totalCount).to.be.a('number');
  });

  it('never leaves the platform without an enabled admin', async () => {
    const fresh = await startTestApp();
    try {
      const a = await signInAsAdmin(fresh);
      const res = await fresh.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: "user" }) { role } }', { id: a.user.id }, a.headers);
      expect(res.body.errors?.[0].extensions?.code).to.equal('CONFLICT');
      const disable = await fresh.gql('mutation($id: ID!) { updateUser(id: $id, input: { disabled: true }) { role } }', { id: a.user.id }, a.headers);
      expect(disable.body.errors?.[0].extensions?.code).to.equal('CONFLICT');
    } finally {
      await fresh.stop();
    }
  });

  it('pages through users as a Relay connection and answers NOT_FOUND for an unknown id', async () => {
    const page1 = await app.gql<{ users: { totalCount: number; edges: { node: { username: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      '{ users(first: 2) { totalCount edges { node { username } } pageInfo { hasNextPage endCursor } } }',
      undefined,
      admin.headers,
    );
    const first = page1.body.data!.users;
    expect(first.edges).to.have.length(2);
    expect(first.pageInfo.hasNextPage).to.equal(first.totalCount > 2);
    const page2 = await app.gql<{ users: { edges: { node: { username: string } }[] } }>(
      'query($after: String) { users(first: 100, after: $after) { edges { node { username } } } }',
      { after: first.pageInfo.endCursor },
      admin.headers,
    );
    const all = [...first.edges, ...page2.body.data!.users.edges].map((e) => e.node.username);
    expect(all).to.have.length(first.totalCount);
    expect([...all].sort()).to.deep.equal(all);
    const missing = await app.gql('query($id: ID!) { user(id: $id) { id } }', { id: randomUUID() }, admin.headers);
    expect(missing.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
  });

  it('filters and pages the audit log through GraphQL', async () => {
    const res = await app.gql<{ auditLog: { totalCount: number; edges: { node: AuditNode }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } }>(
      '{ auditLog(first: 2, filter: { action: "user." }) { totalCount edges { node { action } } pageInfo { endCursor hasNextPage } } }',
      undefined,
      admin.headers,
    );
    const log = res.body.data!.auditLog;
    expect(log.totalCount).to.be.greaterThan(2);
    expect(log.edges.every((e) => e.node.action.startsWith('user.'))).to.equal(true);
    expect(log.pageInfo.hasNextPage).to.equal(true);
    const next = await app.gql<{ auditLog: { edges: unknown[] } }>('query($a: String) { auditLog(first: 2, after: $a, filter: { action: "user." }) { edges { node { id } } } }', { a: log.pageInfo.endCursor }, admin.headers);
    expect(next.body.data!.auditLog.edges.length).to.be.greaterThan(0);
    const failures = await app.gql<{ auditLog: { edges: { node: AuditNode }[] } }>('{ auditLog(filter: { outcome: "failure" }) { edges { node { action outcome } } } }', undefined, admin.headers);
    expect(failures.body.data!.auditLog.edges.every((e) => e.node.outcome === 'failure')).to.equal(true);
  });
});
