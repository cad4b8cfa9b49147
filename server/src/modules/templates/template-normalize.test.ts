import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseQuantity } from './quantity';
import {
  ORIGINAL_NAME_ANNOTATION,
  normalizeTemplate,
  normalizeTemplateYaml,
  toDnsLabel,
} from './template-normalize';
import { FIXTURE_DIR, fixtureTemplateFiles } from '../../../test/templates/template-fixtures';

const ours = () => ({
  apiVersion: 'stream.streamspace.io/v1alpha1',
  kind: 'Template',
  metadata: { name: 'firefox', labels: { team: 'a' } },
  spec: {
    displayName: 'Firefox',
    baseImage: 'lscr.io/linuxserver/firefox:latest',
    appType: 'desktop',
    vnc: { enabled: true, port: 3000, protocol: 'http' },
    ports: [{ name: 'vnc', containerPort: 3000 }],
    defaultResources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
  },
});

const legacy = () => ({
  apiVersion: 'stream.space/v1alpha1',
  kind: 'Template',
  metadata: { name: 'brave-browser', namespace: 'workspaces' },
  spec: {
    displayName: 'Brave Browser',
    baseImage: 'lscr.io/linuxserver/brave:latest',
    defaultResources: { memory: '2Gi', cpu: '1000m' },
    ports: [{ name: 'vnc', containerPort: 3000, protocol: 'TCP' }],
    env: [{ name: 'PUID', value: '1000' }],
    volumeMounts: [{ name: 'user-home', mountPath: '/config' }],
    kasmvnc: { enabled: true, port: 3000 },
    capabilities: ['Network'],
    tags: ['browser'],
  },
});

function errorsOf(input: unknown): string[] {
  const r = normalizeTemplate(input);
  expect(r.ok, 'expected the manifest to be rejected').to.equal(false);
  return r.ok ? [] : r.errors;
}

describe('template normalization (pure)', () => {
  describe('parseQuantity', () => {
    it('parses Kubernetes quantities', () => {
      expect(parseQuantity('500m')).to.equal(0.5);
      expect(parseQuantity('2Gi')).to.equal(2 * 2 ** 30);
      expect(parseQuantity('1.5')).to.equal(1.5);
      expect(parseQuantity('1e3')).to.equal(1000);
      expect(parseQuantity('3k')).to.equal(3000);
      expect(parseQuantity(2)).to.equal(2);
    });
    it('rejects what the API server rejects', () => {
      for (const bad of ['', '2 Gi', '2GB', 'lots', '1.2.3', 'Gi', '-']) expect(parseQuantity(bad), bad).to.equal(null);
    });
  });

  it('keeps a valid manifest in our format as it is', () => {
    const r = normalizeTemplate(ours());
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.format).to.equal('streamspace');
    expect(r.template.metadata).to.deep.equal({ name: 'firefox', labels: { team: 'a' } });
    expect(r.template.spec).to.deep.include({ appType: 'desktop', baseImage: 'lscr.io/linuxserver/firefox:latest' });
    expect(r.template.spec.vnc).to.deep.equal({ enabled: true, port: 3000, protocol: 'http' });
    expect(r.template.spec.ports).to.deep.equal([{ name: 'vnc', containerPort: 3000, protocol: 'TCP' }]);
  });

  it('converts the original format: kasmvnc enabled -> VNC desktop, flat resources -> requests and memory limit', () => {
    const r = normalizeTemplate(legacy());
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.format).to.equal('legacy');
    expect(r.template.apiVersion).to.equal('stream.streamspace.io/v1alpha1');
    expect(r.template.metadata).to.deep.equal({ name: 'brave-browser' });
    expect(r.template.spec.appType).to.equal('desktop');
    expect(r.template.spec.vnc).to.deep.equal({ enabled: true, port: 3000, protocol: 'http' });
    expect(r.template.spec.webapp).to.equal(undefined);
    expect(r.template.spec.defaultResources).to.deep.equal({ requests: { memory: '2Gi', cpu: '1000m' }, limits: { memory: '2Gi' } });
    expect(r.template.spec).to.not.have.property('kasmvnc');
  });

  it('converts the original format: kasmvnc disabled -> web app on the http port', () => {
    const m = legacy();
    m.spec.kasmvnc = { enabled: false, port: 8080 };
    m.spec.ports = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];
    const r = normalizeTemplate(m);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.template.spec.appType).to.equal('webapp');
    expect(r.template.spec.webapp).to.deep.equal({ port: 8080, protocol: 'http', path: '/' });
    expect(r.template.spec.vnc).to.equal(undefined);
  });

  it('makes original-format names DNS labels and keeps the original in an annotation', () => {
    expect(toDnsLabel('your_spotify')).to.equal('your-spotify');
    expect(toDnsLabel('changedetection.io')).to.equal('changedetection-io');
    const m = legacy();
    m.metadata.name = 'your_spotify';
    const r = normalizeTemplate(m);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.template.metadata.name).to.equal('your-spotify');
    expect(r.template.metadata.annotations).to.deep.equal({ [ORIGINAL_NAME_ANNOTATION]: 'your_spotify' });
  });

  it('rejects a name that is not a DNS label in our format', () => {
    const m = ours();
    m.metadata.name = 'Fire_fox';
    expect(errorsOf(m).join()).to.match(/metadata\.name: "Fire_fox" is not a DNS label/);
  });

  it('rejects a missing image, ports out of range, bad quantities, unknown fields, all at once', () => {
    const m = ours() as unknown as { spec: Record<string, unknown> };
    delete m.spec.baseImage;
    m.spec.vnc = { enabled: true, port: 70000 };
    m.spec.ports = [{ containerPort: 0 }];
    m.spec.defaultResources = { requests: { cpu: 'lots', memory: '1GB' } };
    m.spec.colour = 'blue';
    const errors = errorsOf(m);
    expect(errors).to.include('spec.baseImage: is required');
    expect(errors).to.include('spec.vnc.port: must be between 1 and 65535');
    expect(errors).to.include('spec.ports[0].containerPort: must be between 1 and 65535');
    expect(errors.join('\n')).to.match(/spec\.defaultResources\.requests\.cpu: "lots" is not a resource quantity/);
    expect(errors.join('\n')).to.match(/spec\.defaultResources\.requests\.memory: "1GB" is not a resource quantity/);
    expect(errors).to.include('spec.colour: is not a known field');
  });

  it('rejects an image with spaces, inconsistent appType, wrong group and kind', () => {
    const m = ours();
    m.spec.baseImage = 'my image';
    m.spec.appType = 'webapp';
    expect(errorsOf(m)).to.include.members(['spec.baseImage: must be a container image reference without spaces', 'spec.webapp: is required for appType webapp']);
    expect(errorsOf({ ...ours(), apiVersion: 'apps/v1' })[0]).to.match(/^apiVersion:/);
    expect(errorsOf({ ...ours(), kind: 'Session' })[0]).to.match(/^kind:/);
    expect(errorsOf('text')).to.deep.equal(['the manifest must be a YAML/JSON object']);
  });

  it('rejects a template with neither a web port nor VNC', () => {
    const m = ours() as unknown as { spec: Record<string, unknown> };
    delete m.spec.vnc;
    delete m.spec.appType;
    expect(errorsOf(m).join()).to.match(/neither a web app port/);
  });

  it('accepts the seed catalog\'s string form `healthCheck: /api/health` as the health check path', () => {
    const yaml = [
      'apiVersion: stream.streamspace.io/v1alpha1',
      'kind: Template',
      'metadata: {name: web-tool}',
      'spec:',
      '  displayName: Web tool',
      '  baseImage: nginx:1.27',
      '  appType: webapp',
      '  webapp:',
      '    port: 8080',
      '    healthCheck: /api/health',
      '',
    ].join('\n');
    const r = normalizeTemplateYaml(yaml);
    expect(r.ok, r.ok ? '' : r.errors.join()).to.equal(true);
    if (r.ok) expect(r.template.spec.webapp?.healthCheck).to.deep.equal({ path: '/api/health' });
    const bad = normalizeTemplateYaml(yaml.replace('/api/health', 'api/health'));
    expect(bad.ok).to.equal(false);
    if (!bad.ok) expect(bad.errors.join()).to.match(/spec\.webapp\.healthCheck\.path: must start with \//);
  });

  it('parses YAML text, and reports YAML errors and multi-document input', () => {
    const r = normalizeTemplateYaml(fs.readFileSync(fixtureTemplateFiles()[0], 'utf8'));
    expect(r.ok).to.equal(true);
    const broken = normalizeTemplateYaml('apiVersion: [unclosed');
    expect(broken.ok).to.equal(false);
    if (!broken.ok) expect(broken.errors[0]).to.match(/^YAML:/);
    const two = normalizeTemplateYaml('a: 1\n---\nb: 2\n');
    expect(two.ok).to.equal(false);
    if (!two.ok) expect(two.errors[0]).to.match(/exactly one document, found 2/);
  });

  it('normalizes all 195 fixture templates of the original catalog as valid', () => {
    const files = fixtureTemplateFiles();
    expect(files).to.have.length(195);
    const failures: string[] = [];
    const names = new Set<string>();
    const appTypes: Record<string, number> = {};
    for (const file of files) {
      const r = normalizeTemplateYaml(fs.readFileSync(file, 'utf8'));
      if (!r.ok) failures.push(`${path.relative(FIXTURE_DIR, file)}: ${r.errors.join('; ')}`);
      else {
        expect(r.format).to.equal('legacy');
        names.add(r.template.metadata.name);
        appTypes[r.template.spec.appType] = (appTypes[r.template.spec.appType] ?? 0) + 1;
        expect(r.template.metadata.name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      }
    }
    expect(failures).to.deep.equal([]);
    // Eight apps (audacity, gimp, krita, ...) are listed in two categories under the same name.
    expect(names.size).to.equal(187);
    expect(appTypes).to.deep.equal({ desktop: 84, webapp: 111 });
  });

  describe('security exceptions and env references', () => {
    it('accepts baseline capabilities (upper-cased, CAP_ prefix dropped, duplicates removed) and refuses the others', () => {
      const r = normalizeTemplate({ ...ours(), spec: { ...ours().spec, security: { runAsRoot: true, addCapabilities: ['chown', 'CAP_SETUID', 'CHOWN'] } } });
      expect(r.ok && r.template.spec.security).to.deep.equal({ runAsRoot: true, addCapabilities: ['CHOWN', 'SETUID'] });
      const errors = errorsOf({ ...ours(), spec: { ...ours().spec, security: { addCapabilities: ['SYS_ADMIN', 'NET_RAW'], runAsUser: 0, privileged: true } } });
      expect(errors.join('\n')).to.match(/spec\.security\.addCapabilities\[0\]: must be one of AUDIT_WRITE/);
      expect(errors.join('\n')).to.match(/spec\.security\.addCapabilities\[1\]: must be one of/);
      expect(errors).to.include('spec.security.runAsUser: must be between 1 and 2147483647');
      expect(errors).to.include('spec.security.privileged: is not a known field');
      expect(errorsOf({ ...ours(), spec: { ...ours().spec, security: { runAsRoot: true, runAsUser: 5 } } })).to.include('spec.security: set runAsRoot or runAsUser, not both');
    });

    it('reads envFrom and refuses one that names both or neither kind', () => {
      const r = normalizeTemplate({ ...ours(), spec: { ...ours().spec, envFrom: [{ secretRef: { name: 'tok', optional: true } }] } });
      expect(r.ok && r.template.spec.envFrom).to.deep.equal([{ secretRef: { name: 'tok', optional: true } }]);
      expect(errorsOf({ ...ours(), spec: { ...ours().spec, envFrom: [{ secretRef: { name: 'a' }, configMapRef: { name: 'b' } }, { prefix: 'X_' }] } })).to.deep.equal([
        'spec.envFrom[0]: must name a Secret or a ConfigMap, not both',
        'spec.envFrom[1]: must name a Secret (secretRef) or a ConfigMap (configMapRef)',
      ]);
    });
  });
});
