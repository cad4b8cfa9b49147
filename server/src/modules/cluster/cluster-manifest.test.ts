import { expect } from 'chai';
import { kindInfo, resourcePath } from './cluster-kinds';
import {
  LAST_APPLIED,
  ManifestError,
  parseManifest,
  prepareApply,
  sanitizeObject,
  scrubSecretMessage,
  SECRET_PLACEHOLDER,
  secretKeys,
  statusSummary,
  toYaml,
} from './cluster-manifest';

function problems(text: string): string[] {
  try {
    parseManifest(text);
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error('expected a ManifestError');
}

describe('cluster: manifest rules (pure)', () => {
  it('builds REST paths only for allow-listed kinds', () => {
    expect(resourcePath(kindInfo('Pod')!, 'ns1', 'p')).to.equal('/api/v1/namespaces/ns1/pods/p');
    expect(resourcePath(kindInfo('Pod')!)).to.equal('/api/v1/pods');
    expect(resourcePath(kindInfo('Deployment')!, 'a')).to.equal('/apis/apps/v1/namespaces/a/deployments');
    expect(resourcePath(kindInfo('Node')!, 'ignored', 'n1')).to.equal('/api/v1/nodes/n1');
    expect(resourcePath(kindInfo('Template')!, 'ss')).to.equal('/apis/stream.streamspace.io/v1alpha1/namespaces/ss/templates');
    expect(kindInfo('ClusterRole')).to.equal(undefined);
    expect(kindInfo('toString')).to.equal(undefined);
  });

  it('accepts one valid manifest', () => {
    const { info, object } = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: b\ndata:\n  k: v\n');
    expect(info.kind).to.equal('ConfigMap');
    expect(object.data).to.deep.equal({ k: 'v' });
  });

  it('lists every problem of an invalid manifest', () => {
    expect(problems('apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n')).to.deep.equal(['kind "ClusterRole" is not one the admin API manages']);
    expect(problems('apiVersion: v2\nkind: ConfigMap\nmetadata: {name: x}\n')).to.deep.equal([
      'apiVersion of ConfigMap must be "v1", not "v2"',
      'metadata.namespace is required for a ConfigMap',
    ]);
    expect(problems('apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: y}\n')).to.deep.equal(['Namespace is cluster-scoped: remove metadata.namespace']);
    expect(problems('kind: Pod\n')).to.include('apiVersion is required');
    expect(problems('a: 1\n---\nb: 2\n')[0]).to.match(/exactly one YAML document, found 2/);
    expect(problems('- 1\n- 2\n')).to.deep.equal(['the manifest must be a YAML mapping (an object)']);
    expect(problems('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "Bad_Name", namespace: a}\n')[0]).to.match(/DNS-1123/);
    expect(problems(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n${'a'.repeat(63)}}\n`)).to.deep.equal([
      'metadata.namespace must be a DNS-1123 label (at most 63 lower-case letters, digits and "-")',
    ]);
    expect(problems('key: [unclosed\n')[0]).to.match(/^YAML:/);
  });

  it('never lets a Secret value out: data, stringData and the last-applied annotation are redacted', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', annotations: { [LAST_APPLIED]: '{"stringData":{"password":"hunter2"}}', keep: 'me' }, managedFields: [{ manager: 'x' }] },
      data: { password: Buffer.from('hunter2').toString('base64'), empty: '' },
      stringData: { other: 'hunter2' },
    };
    const clean = sanitizeObject('Secret', secret);
    const text = JSON.stringify(clean) + toYaml(kindInfo('Secret')!, clean);
    expect(text).not.to.include('hunter2');
    expect(text).not.to.include(Buffer.from('hunter2').toString('base64'));
    expect(clean.data).to.deep.equal({ password: SECRET_PLACEHOLDER, empty: SECRET_PLACEHOLDER });
    expect(clean.metadata.annotations.keep).to.equal('me');
    expect(clean.metadata.managedFields).to.equal(undefined);
    expect(secret.data.password).not.to.equal(SECRET_PLACEHOLDER); // the input is not changed
    expect(secretKeys(secret)).to.deep.equal([
      { key: 'empty', size: 0 },
      { key: 'password', size: 7 },
    ]);
  });

  it('applies a redacted Secret with the stored values, and refuses placeholders it cannot fill', () => {
    const info = kindInfo('Secret')!;
    const stored = { data: { password: 'aHVudGVyMg==' } };
    const edited = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', annotations: { [LAST_APPLIED]: SECRET_PLACEHOLDER }, creationTimestamp: 'x', managedFields: [] },
      data: { password: SECRET_PLACEHOLDER, fresh: 'bmV3' },
      status: {},
    };
    const body = prepareApply(info, edited, stored);
    expect(body.data).to.deep.equal({ password: 'aHVudGVyMg==', fresh: 'bmV3' });
    expect(body.metadata).to.deep.equal({ name: 's', namespace: 'n', annotations: {} });
    expect(body.status).to.equal(undefined);
    expect(() => prepareApply(info, { ...edited, data: { gone: SECRET_PLACEHOLDER } }, stored)).to.throw(ManifestError, /data.gone/);
    expect(() => prepareApply(info, { ...edited, data: {}, stringData: { a: SECRET_PLACEHOLDER } }, stored)).to.throw(ManifestError, /stringData/);
  });

  it('cuts quoted values out of API server messages about Secrets', () => {
    expect(scrubSecretMessage('Secret "s" is invalid: data[a]: Invalid value: "hunter2": bad')).to.equal('Secret "s" is invalid: data[a]: Invalid value: [redacted]: bad');
  });

  it('summarises the state of each kind in one line', () => {
    expect(statusSummary('Pod', { status: { phase: 'Running' } })).to.equal('Running');
    expect(statusSummary('Deployment', { spec: { replicas: 3 }, status: { readyReplicas: 2 } })).to.equal('2/3 ready');
    expect(statusSummary('Node', { status: { conditions: [{ type: 'Ready', status: 'True' }] } })).to.equal('Ready');
    expect(statusSummary('Node', {})).to.equal('Unknown');
    expect(statusSummary('Event', { type: 'Warning', reason: 'BackOff' })).to.equal('Warning BackOff');
    expect(statusSummary('ConfigMap', {})).to.equal(null);
  });
});
