import { expect } from 'chai';
import { roleFromClaims } from './oidc.routes';

describe('auth: the role an OIDC sign-in gets from its groups', () => {
  const oidc = { groupsClaim: 'groups', adminGroups: ['admins'], operatorGroups: ['ops'], auditorGroups: ['/audit'] };

  it('takes the strongest role any group gives: admin, then operator, then auditor, else user', () => {
    expect(roleFromClaims({ groups: ['ops', 'admins', 'audit'] }, oidc).role).to.equal('admin');
    expect(roleFromClaims({ groups: ['audit', 'ops'] }, oidc).role).to.equal('operator');
    expect(roleFromClaims({ groups: '/audit' }, oidc).role).to.equal('auditor');
    expect(roleFromClaims({ groups: ['staff'] }, oidc).role).to.equal('user');
    expect(roleFromClaims({}, oidc).role).to.equal('user');
  });

  it('without operator or auditor groups configured, only admin and user', () => {
    expect(roleFromClaims({ groups: ['ops', 'audit'] }, { groupsClaim: 'groups', adminGroups: ['admins'] }).role).to.equal('user');
  });
});
