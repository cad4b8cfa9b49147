import { expect } from 'chai';
import { Access, isAdmin, operatesAll, readsAll, RoleAuthChecker, ROLES } from './authorization';
import type { GraphQLContext } from './context';

const caller = (role: string) => ({ id: 'id', username: 'name', role });

describe('graphql: roles and role sets', () => {
  it('knows four roles; admins are in every role set, auditors in no set that changes anything', () => {
    expect([...ROLES].sort()).to.deep.equal(['admin', 'auditor', 'operator', 'user']);
    for (const set of Object.values(Access)) expect(set).to.include('admin');
    expect(Access.ADMIN).to.deep.equal(['admin']);
    expect(Access.OPERATE).not.to.include('auditor');
    expect(Access.ACT).not.to.include('auditor');
    expect(Access.AUDIT_READ).not.to.include('operator');
  });

  it('lets admins and operators change every session, and auditors too read them; users only their own', () => {
    expect(['admin', 'operator', 'auditor', 'user'].map((r) => operatesAll(caller(r)))).to.deep.equal([true, true, false, false]);
    expect(['admin', 'operator', 'auditor', 'user'].map((r) => readsAll(caller(r)))).to.deep.equal([true, true, true, false]);
    expect(readsAll(null)).to.equal(false);
    expect(isAdmin(caller('operator'))).to.equal(false);
  });

  it('answers FORBIDDEN for a role outside the set and UNAUTHENTICATED without a caller', () => {
    const checker = new RoleAuthChecker();
    const data = (role: string | null) => ({ context: { caller: role ? caller(role) : null } as unknown as GraphQLContext }) as never;
    expect(checker.check(data('operator'), [...Access.OPERATE])).to.equal(true);
    expect(() => checker.check(data('auditor'), [...Access.OPERATE])).to.throw().with.property('code', 'FORBIDDEN');
    expect(() => checker.check(data(null), [...Access.OPERATE])).to.throw().with.property('code', 'UNAUTHENTICATED');
  });
});
