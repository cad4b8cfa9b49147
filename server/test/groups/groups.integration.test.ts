import { expect } from 'chai';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { Api } from '../connections/support';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';

interface Group {
  id: string;
  name: string;
  description: string | null;
  memberCount: number;
  members: { username: string; addedBy: string | null }[];
}
const GROUP = 'id name description memberCount members { username addedBy }';
type Body = { errors?: { extensions?: Record<string, unknown> }[] };
const code = (body: Body) => body.errors?.[0]?.extensions?.code;
const reason = (body: Body) => (body.errors?.[0]?.extensions?.details as { reason?: string } | undefined)?.reason;

describe('groups: the admin API (create, rename, members, delete), typed errors, audit', function () {
  this.timeout(120_000);
  let app: TestApp;
  let admin: SignedIn;
  let alice: TestUser;
  let bob: TestUser;
  let Admin: Api;
  let A: Api;

  const create = (api: Api, name: string, description?: string | null) =>
    api.raw<{ createGroup: Group }>(`mutation C($input: CreateGroupInput!) { createGroup(input: $input) { ${GROUP} } }`, { input: { name, description } });
  const update = (api: Api, id: string, input: Record<string, unknown>) =>
    api.raw<{ updateGroup: Group }>(`mutation U($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { ${GROUP} } }`, { id, input });
  const addMember = (api: Api, groupId: string, username: string) =>
    api.raw<{ addGroupMember: Group }>(`mutation A($g: ID!, $u: String!) { addGroupMember(groupId: $g, username: $u) { ${GROUP} } }`, { g: groupId, u: username });
  const removeMember = (api: Api, groupId: string, username: string) =>
    api.raw<{ removeGroupMember: Group }>(`mutation R($g: ID!, $u: String!) { removeGroupMember(groupId: $g, username: $u) { ${GROUP} } }`, { g: groupId, u: username });
  const remove = (api: Api, id: string) => api.raw<{ deleteGroup: Group }>(`mutation D($id: ID!) { deleteGroup(id: $id) { ${GROUP} } }`, { id });
  const list = (api: Api) => api.raw<{ groups: Group[] }>(`{ groups { ${GROUP} } }`);
  const audit = (resourceId: string) => app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { resourceId }, order: { id: 'ASC' } });

  before(async () => {
    app = await startTestApp();
    admin = await signInAsAdmin(app);
    alice = await createUserAndToken(app);
    bob = await createUserAndToken(app);
    Admin = new Api(app, admin);
    A = new Api(app, alice);
  });
  after(async () => {
    await app?.stop();
  });

  it('an admin creates, renames and describes groups, adds and removes members; each change is audited', async () => {
    const created = await create(Admin, '  Design Team ', 'The people who draw');
    expect(created.errors).to.equal(undefined);
    const g = created.data!.createGroup;
    expect(g).to.deep.include({ name: 'design team', description: 'The people who draw', memberCount: 0, members: [] });

    expect((await addMember(Admin, g.id, alice.username.toUpperCase())).data!.addGroupMember.members).to.deep.equal([{ username: alice.username, addedBy: 'admin' }]);
    const two = (await addMember(Admin, g.id, bob.username)).data!.addGroupMember;
    expect(two.memberCount).to.equal(2);
    expect(two.members.map((m) => m.username)).to.deep.equal([alice.username, bob.username].sort());

    const renamed = await update(Admin, g.id, { name: 'designers', description: '' });
    expect(renamed.data!.updateGroup).to.deep.include({ name: 'designers', description: null, memberCount: 2 });

    // A member sees the groups they are in (to share with them); the admin sees every group with its members.
    expect((await A.ok<{ myGroups: { name: string }[] }>('{ myGroups { id name description } }')).myGroups.map((x) => x.name)).to.deep.equal(['designers']);
    expect((await list(Admin)).data!.groups.find((x) => x.id === g.id)?.memberCount).to.equal(2);

    expect((await removeMember(Admin, g.id, bob.username)).data!.removeGroupMember.members.map((m) => m.username)).to.deep.equal([alice.username]);
    const deleted = await remove(Admin, g.id);
    expect(deleted.data!.deleteGroup).to.deep.include({ name: 'designers', memberCount: 1 });
    expect((await list(Admin)).data!.groups.map((x) => x.id)).not.to.include(g.id);
    expect((await A.ok<{ myGroups: unknown[] }>('{ myGroups { id } }')).myGroups).to.deep.equal([]);

    const entries = await audit(g.id);
    expect(entries.map((e) => e.action)).to.deep.equal(['group.create', 'group.member.add', 'group.member.add', 'group.update', 'group.member.remove', 'group.delete']);
    expect(entries.every((e) => e.actorUsername === 'admin' && e.resourceType === 'group')).to.equal(true);
    expect(entries[0].changes).to.deep.include({ name: 'design team' });
    expect(entries[1].changes).to.deep.include({ user: alice.username });
    expect(entries[3].changes).to.deep.include({ name: { from: 'design team', to: 'designers' } });
    expect(entries[5].changes).to.deep.include({ name: 'designers', members: [alice.username] });
  });

  it('refuses with typed errors and writes nothing: bad or taken names, unknown users, twice, not a member, unknown group', async () => {
    const g = (await create(Admin, 'ops')).data!.createGroup;
    const other = (await create(Admin, 'support')).data!.createGroup;
    for (const bad of ['', '   ', '-starts-with-dash', 'x'.repeat(101), 'semi;colon']) {
      const res = await create(Admin, bad);
      expect([code(res), reason(res)], JSON.stringify(bad)).to.deep.equal(['BAD_USER_INPUT', 'INVALID_NAME']);
    }
    const long = await create(Admin, 'ok', 'd'.repeat(501));
    expect([code(long), reason(long)]).to.deep.equal(['BAD_USER_INPUT', 'INVALID_DESCRIPTION']);
    expect(code(await create(Admin, 'OPS'))).to.equal('CONFLICT');
    expect(code(await update(Admin, other.id, { name: 'ops' }))).to.equal('CONFLICT');
    const unknown = await addMember(Admin, g.id, 'nobody-by-that-name');
    expect([code(unknown), reason(unknown)]).to.deep.equal(['BAD_USER_INPUT', 'UNKNOWN_USER']);
    expect((await addMember(Admin, g.id, alice.username)).errors).to.equal(undefined);
    expect(code(await addMember(Admin, g.id, alice.username))).to.equal('CONFLICT');
    expect(code(await removeMember(Admin, g.id, bob.username))).to.equal('NOT_FOUND');
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const res of [await update(Admin, missing, { name: 'x' }), await remove(Admin, missing), await addMember(Admin, missing, alice.username), await update(Admin, 'not-a-uuid', {})]) {
      expect(code(res)).to.equal('NOT_FOUND');
    }
    // Nothing half-written: the refused changes left no rows and no audit entries.
    const rows = (await app.services.database.dataSource.query("SELECT name FROM groups WHERE name IN ('ok', '-starts-with-dash', 'semi;colon')")) as unknown[];
    expect(rows).to.deep.equal([]);
    expect((await audit(g.id)).map((e) => e.action)).to.deep.equal(['group.create', 'group.member.add']);
    expect((await audit(other.id)).map((e) => e.action)).to.deep.equal(['group.create']);
  });

  it('is admin-only: a user gets FORBIDDEN for every group operation and changes nothing', async () => {
    const g = (await create(Admin, 'admins-only')).data!.createGroup;
    const attempts = [await list(A), await create(A, 'mine'), await update(A, g.id, { name: 'taken-over' }), await addMember(A, g.id, alice.username), await removeMember(A, g.id, alice.username), await remove(A, g.id)];
    expect(attempts.map(code)).to.deep.equal(Array(attempts.length).fill('FORBIDDEN'));
    const after = (await list(Admin)).data!.groups.find((x) => x.id === g.id);
    expect(after).to.deep.include({ name: 'admins-only', memberCount: 0 });
    expect((await audit(g.id)).map((e) => e.action)).to.deep.equal(['group.create']);
  });
});
