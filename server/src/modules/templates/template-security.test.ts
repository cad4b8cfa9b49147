import { expect } from 'chai';
import {
  APPROVAL_ANNOTATION,
  envReferences,
  isSecurityApproved,
  referenceProblem,
  SESSION_VISIBLE_LABEL,
  securityExceptions,
  securityFingerprint,
  specForUser,
} from './template-security';

describe('template security (pure)', () => {
  const lsio = { security: { runAsRoot: true, addCapabilities: ['SETUID', 'CHOWN'] } };

  it('lists exceptions in words, and fingerprints them independently of order', () => {
    expect(securityExceptions(lsio)).to.deep.equal(["runs as root (the image's user)", 'adds capability CHOWN', 'adds capability SETUID']);
    expect(securityFingerprint(lsio)).to.equal(securityFingerprint({ security: { runAsRoot: true, addCapabilities: ['CHOWN', 'SETUID'] } }));
    expect(securityFingerprint({ security: { runAsUser: 2000 } })).to.equal(null);
    expect(securityFingerprint({})).to.equal(null);
  });

  it('counts a template as approved only without exceptions or with an approval of exactly these', () => {
    expect(isSecurityApproved({ metadata: {}, spec: {} })).to.equal(true);
    expect(isSecurityApproved({ metadata: {}, spec: lsio })).to.equal(false);
    const approval = { [APPROVAL_ANNOTATION]: securityFingerprint(lsio)! };
    expect(isSecurityApproved({ metadata: { annotations: approval }, spec: lsio })).to.equal(true);
    expect(isSecurityApproved({ metadata: { annotations: approval }, spec: { security: { ...lsio.security, addCapabilities: ['CHOWN', 'SETUID', 'KILL'] } } })).to.equal(false);
  });

  it('finds every Secret and ConfigMap env reads, and allows only labelled ones (or optional missing ones)', () => {
    const refs = envReferences({
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'platform', key: 'k' } } },
      ],
      envFrom: [{ configMapRef: { name: 'cm', optional: true } }],
    });
    expect(refs.map((r) => [r.kind, r.name, r.path])).to.deep.equal([
      ['Secret', 'platform', 'spec.env[1].valueFrom.secretKeyRef'],
      ['ConfigMap', 'cm', 'spec.envFrom[0].configMapRef'],
    ]);
    expect(referenceProblem(refs[0]!, {}, 'ns')).to.match(/Secret "platform" is not labelled stream\.streamspace\.io\/session-visible=true/);
    expect(referenceProblem(refs[0]!, { [SESSION_VISIBLE_LABEL]: 'false' }, 'ns')).to.match(/is not labelled/);
    expect(referenceProblem(refs[0]!, { [SESSION_VISIBLE_LABEL]: 'true' }, 'ns')).to.equal(null);
    expect(referenceProblem(refs[0]!, null, 'ns')).to.match(/does not exist in namespace ns/);
    expect(referenceProblem(refs[1]!, null, 'ns')).to.equal(null);
  });

  it('shows a non-admin env names only', () => {
    const spec = { displayName: 'x', env: [{ name: 'TOKEN', value: 's3cret' }, { name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }], envFrom: [{ secretRef: { name: 'x' } }] };
    expect(specForUser(spec)).to.deep.equal({ displayName: 'x', env: [{ name: 'TOKEN' }, { name: 'DB' }] });
    expect(spec.env[0]).to.deep.equal({ name: 'TOKEN', value: 's3cret' });
  });
});
