import { expect } from 'chai';
import { oidcReturnPath } from './oidc.routes';

describe('OIDC return path (?return= on /auth/oidc)', () => {
  it('keeps plain paths on this server', () => {
    for (const path of ['/admin/', '/admin', '/', '/readyz', '/admin/users']) expect(oidcReturnPath(path), path).to.equal(path);
  });

  it('ignores anything that could leave this server or is not a plain path', () => {
    for (const value of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'admin/', '/admin/../x', '/admin?x=1', '/a b', `/${'a'.repeat(200)}`, '', undefined, ['/admin/'], 42]) {
      expect(oidcReturnPath(value), JSON.stringify(value)).to.equal(null);
    }
  });
});
