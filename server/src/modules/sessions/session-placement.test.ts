import { expect } from 'chai';
import { loadConfig } from '../../config/config';
import { buildDeployment } from './session-manifests';
import type { SessionManifest } from './session.crd';
import { normalizeTemplate } from '../templates/template-normalize';

const session: SessionManifest = {
  apiVersion: 'stream.streamspace.io/v1alpha1',
  kind: 'Session',
  metadata: { name: 's1', namespace: 'streamspace', uid: 'uid-s1' },
  spec: { user: 'alice', template: 'desk', state: 'running' },
};

function template() {
  const r = normalizeTemplate({
    apiVersion: 'stream.space/v1alpha1',
    kind: 'Template',
    metadata: { name: 'desk' },
    spec: { displayName: 'Desk', baseImage: 'docker.io/streamspace/desktop:1', vnc: { enabled: true, port: 6080 } },
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.template;
}

describe('session pods on dedicated nodes (STREAMSPACE_SESSION_NODE_SELECTOR)', () => {
  it('selects the labels and tolerates NoSchedule taints of the same key and value', () => {
    const d = buildDeployment(session, template(), {
      ingress: { mode: 'none' },
      home: { size: '1Gi' },
      nodeSelector: { 'streamspace.io/real-node': 'true', pool: 'a' },
    });
    expect(d.spec!.template.spec!.nodeSelector).to.deep.equal({ 'streamspace.io/real-node': 'true', pool: 'a' });
    expect(d.spec!.template.spec!.tolerations).to.deep.equal([
      { key: 'streamspace.io/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      { key: 'pool', operator: 'Equal', value: 'a', effect: 'NoSchedule' },
    ]);
  });

  it('leaves placement to the scheduler when unset', () => {
    const spec = buildDeployment(session, template(), { ingress: { mode: 'none' }, home: { size: '1Gi' } }).spec!.template.spec!;
    expect(spec).not.to.have.property('nodeSelector');
    expect(spec).not.to.have.property('tolerations');
  });

  it('parses the variable and refuses malformed values', () => {
    const base = { DATABASE_URL: 'postgres://x@localhost/x', STREAMSPACE_CLUSTER: 'none' };
    const cfg = loadConfig({ ...base, STREAMSPACE_SESSION_NODE_SELECTOR: 'streamspace.io/real-node=true,pool=a' } as NodeJS.ProcessEnv);
    expect(cfg.sessions.nodeSelector).to.deep.equal({ 'streamspace.io/real-node': 'true', pool: 'a' });
    expect(() => loadConfig({ ...base, STREAMSPACE_SESSION_NODE_SELECTOR: 'no-equals-sign' } as NodeJS.ProcessEnv)).to.throw(/STREAMSPACE_SESSION_NODE_SELECTOR/);
  });
});
