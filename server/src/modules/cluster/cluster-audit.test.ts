import { expect } from 'chai';
import { AUDIT_REDACTED as R, MAX_AUDITED_MANIFEST_BYTES, auditedCommand, auditedManifest } from './cluster-audit';
import { LAST_APPLIED } from './cluster-manifest';

describe('cluster: what the audit log keeps of commands and manifests (pure)', () => {
  it('keeps the program and the argument count, and redacts values of secret flags, KEY=VALUE and URL passwords', () => {
    expect(auditedCommand(['cat', '/etc/hostname'])).to.deep.equal({ program: 'cat', argCount: 1, args: ['/etc/hostname'] });
    expect(auditedCommand(['mysql', '-u', 'root', '-p', 'hunter2', 'db']).args).to.deep.equal(['-u', 'root', '-p', R, 'db']);
    expect(auditedCommand(['mysql', '-phunter2']).args).to.deep.equal([`-p${R}`]);
    expect(auditedCommand(['app', '--password', 'hunter2', '--db-token=abc', '--api-key', 'k1', '--verbose']).args).to.deep.equal(['--password', R, `--db-token=${R}`, '--api-key', R, '--verbose']);
    expect(auditedCommand(['env', 'AWS_SECRET_ACCESS_KEY=abc', 'HOME=/root', 'run']).args).to.deep.equal([`AWS_SECRET_ACCESS_KEY=${R}`, `HOME=${R}`, 'run']);
    expect(auditedCommand(['git', 'clone', 'https://bob:s3cr3t@example.test/r.git']).args).to.deep.equal(['clone', `https://bob:${R}@example.test/r.git`]);
    expect(auditedCommand(['redis-cli', '-a', 'pw', 'ping']).args).to.deep.equal(['-a', R, 'ping']);
  });

  it('redacts inside a shell script word by word, and whole header values', () => {
    const cmd = auditedCommand(['sh', '-c', 'mysql -u root -p hunter2 && TOKEN=xyz ./run --secret s1']);
    expect(cmd.args).to.deep.equal(['-c', `mysql -u root -p ${R} && TOKEN=${R} ./run --secret ${R}`]);
    expect(JSON.stringify(cmd)).not.to.match(/hunter2|xyz|s1/);
    const curl = auditedCommand(['curl', '-H', 'Authorization: Bearer abc.def', 'http://x']);
    expect(curl.args).to.deep.equal(['-H', `Authorization: ${R} ${R}`, 'http://x']);
    expect(auditedCommand(['curl', '--token', 'Bearer', 'zzz']).args).to.deep.equal(['--token', 'Bearer', R]);
  });

  it('redacts the values of a Secret manifest (data, stringData, last-applied), keeping the keys', () => {
    const m = auditedManifest('Secret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', annotations: { [LAST_APPLIED]: '{"data":{"a":"eA=="}}', note: 'kept' } },
      data: { a: 'eA==', b: 'eQ==' },
      stringData: { c: 'plain' },
      type: 'Opaque',
    });
    expect(m.data).to.deep.equal({ a: R, b: R });
    expect(m.stringData).to.deep.equal({ c: R });
    expect((m.metadata as { annotations: Record<string, string> }).annotations).to.deep.equal({ [LAST_APPLIED]: R, note: 'kept' });
    expect(m.type).to.equal('Opaque');
  });

  it('redacts secret-named container env values and container args in any kind, and omits huge manifests', () => {
    const m = auditedManifest('Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'n' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'i', args: ['--password', 'pw1'], env: [{ name: 'DB_PASSWORD', value: 'pw2' }, { name: 'LOG_LEVEL', value: 'debug' }] }] } } },
    });
    const text = JSON.stringify(m);
    expect(text).not.to.match(/pw1|pw2/);
    expect(text).to.include('debug');
    const big = auditedManifest('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { x: 'a'.repeat(MAX_AUDITED_MANIFEST_BYTES) } });
    expect(big).to.have.property('omitted').that.matches(/more than/);
  });
});
