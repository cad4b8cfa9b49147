import fs from 'node:fs';
import { expect } from 'chai';
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../../src/platform/kube/crds';
import { normalizeTemplateYaml } from '../../src/modules/templates/template-normalize';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { fixtureTemplateFiles } from './template-fixtures';

const group = 'stream.streamspace.io';
const version = 'v1alpha1';

/** The API server's answer to a create: null when accepted, else its message. */
async function tryCreate(kc: KubeConfig, namespace: string, plural: string, body: object, dryRun = true): Promise<string | null> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    await api.createNamespacedCustomObject({ group, version, namespace, plural, body, ...(dryRun ? { dryRun: 'All' } : {}) });
    return null;
  } catch (err) {
    const body = (err as { body?: string }).body;
    const message = typeof body === 'string' ? (JSON.parse(body) as { message?: string }).message : String(err);
    return message ?? String(err);
  }
}

const session = (spec: Record<string, unknown>) => ({
  apiVersion: `${group}/${version}`,
  kind: 'Session',
  metadata: { name: 's1' },
  spec: { user: 'alice', template: 'firefox', ...spec },
});
const template = (spec: Record<string, unknown>) => ({
  apiVersion: `${group}/${version}`,
  kind: 'Template',
  metadata: { name: 't1' },
  spec: { displayName: 'T', baseImage: 'nginx:1', appType: 'webapp', webapp: { port: 80 }, ...spec },
});

describe('CRDs on the real API server', function () {
  let kc: KubeConfig;
  let ns: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    kc = (await getTestCluster()).kubeConfig;
    await installCrds(kc);
    ns = await createTestNamespace('crds');
  });

  it('installs all four CRDs with status subresource, printer columns and short names (idempotently)', async () => {
    const names = await installCrds(kc); // second install updates in place
    expect(names).to.have.members([
      'connections.stream.streamspace.io',
      'sessions.stream.streamspace.io',
      'templaterepositories.stream.streamspace.io',
      'templates.stream.streamspace.io',
    ]);
    const api = kc.makeApiClient(ApiextensionsV1Api);
    for (const name of names) {
      const crd = await api.readCustomResourceDefinition({ name });
      expect(crd.spec.versions[0].subresources?.status, name).to.deep.equal({});
      expect(crd.spec.names.shortNames, name).to.not.be.empty;
      expect(crd.spec.versions[0].additionalPrinterColumns, name).to.not.be.empty;
    }
    const sessions = await api.readCustomResourceDefinition({ name: 'sessions.stream.streamspace.io' });
    expect(sessions.spec.versions[0].additionalPrinterColumns!.map((c) => c.name)).to.deep.equal([
      'User',
      'Template',
      'State',
      'Phase',
      'Connections',
      'URL',
      'Age',
    ]);
  });

  it('accepts every fixture template, normalized (server-side dry run)', async function () {
    this.timeout(300_000);
    const rejected: string[] = [];
    const files = fixtureTemplateFiles();
    expect(files).to.have.length(195);
    for (const file of files) {
      const r = normalizeTemplateYaml(fs.readFileSync(file, 'utf8'));
      if (!r.ok) {
        rejected.push(`${file}: normalize: ${r.errors.join('; ')}`);
        continue;
      }
      const message = await tryCreate(kc, ns, 'templates', r.template);
      if (message) rejected.push(`${file}: ${message}`);
    }
    expect(rejected).to.deep.equal([]);
  });

  it('accepts a valid Session and applies the state default', async () => {
    expect(await tryCreate(kc, ns, 'sessions', session({ idleTimeout: '30m', resources: { requests: { cpu: '500m' } } }))).to.equal(null);
  });

  it('rejects invalid Templates', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ baseImage: '' }, /baseImage/],
      [{ appType: 'game' }, /appType/],
      [{ webapp: { port: 70000 } }, /webapp\.port/],
      [{ ports: [{ containerPort: 0 }] }, /containerPort/],
      [{ defaultResources: { requests: { memory: '1GB' } } }, /defaultResources\.requests/],
      [{ autoScaling: { minReplicas: 3, maxReplicas: 1 } }, /minReplicas must not exceed/],
    ];
    for (const [spec, pattern] of cases) expect(await tryCreate(kc, ns, 'templates', template(spec)), JSON.stringify(spec)).to.match(pattern);
    const missing = template({});
    delete (missing.spec as Record<string, unknown>).displayName;
    expect(await tryCreate(kc, ns, 'templates', missing)).to.match(/displayName/);
  });

  it('rejects invalid Sessions', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ state: 'paused' }, /spec\.state/],
      [{ appType: 'vm' }, /spec\.appType/],
      [{ idleTimeout: '30 minutes' }, /spec\.idleTimeout/],
      [{ maxSessionDuration: '1d' }, /spec\.maxSessionDuration/],
      [{ startupTimeout: '5' }, /spec\.startupTimeout/],
      [{ resources: { limits: { cpu: 'two' } } }, /spec\.resources\.limits/],
      [{ minConnections: 3, maxConnections: 1 }, /minConnections must not exceed/],
      [{ template: 'Not_A_Name' }, /spec\.template/],
    ];
    for (const [spec, pattern] of cases) expect(await tryCreate(kc, ns, 'sessions', session(spec)), JSON.stringify(spec)).to.match(pattern);
    const noUser = session({});
    delete (noUser.spec as Record<string, unknown>).user;
    expect(await tryCreate(kc, ns, 'sessions', noUser)).to.match(/spec\.user/);
  });

  it('keeps spec.user immutable and forbids reviving a terminated Session', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    expect(await tryCreate(kc, ns, 'sessions', { ...session({ state: 'terminated' }), metadata: { name: 'immutable' } }, false)).to.equal(null);
    const patch = async (spec: object) => {
      try {
        await api.patchNamespacedCustomObject(
          { group, version, namespace: ns, plural: 'sessions', name: 'immutable', body: { spec } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return null;
      } catch (err) {
        return String((err as { body?: string }).body ?? err);
      }
    };
    expect(await patch({ user: 'mallory' })).to.match(/spec\.user is immutable/);
    expect(await patch({ state: 'running' })).to.match(/terminated session cannot be started/);
  });

  it('rejects invalid Connections and TemplateRepositories', async () => {
    expect(
      await tryCreate(kc, ns, 'connections', {
        apiVersion: `${group}/${version}`,
        kind: 'Connection',
        metadata: { name: 'c1' },
        spec: { session: 's1', user: 'alice', connectedAt: '2026-01-01T00:00:00Z', clientIP: 'not-an-ip' },
      }),
    ).to.match(/clientIP/);
    expect(
      await tryCreate(kc, ns, 'templaterepositories', {
        apiVersion: `${group}/${version}`,
        kind: 'TemplateRepository',
        metadata: { name: 'r1' },
        spec: { url: 'https://github.com/example/templates', syncInterval: 'hourly' },
      }),
    ).to.match(/syncInterval/);
    expect(
      await tryCreate(kc, ns, 'templaterepositories', {
        apiVersion: `${group}/${version}`,
        kind: 'TemplateRepository',
        metadata: { name: 'r2' },
        spec: { url: 'https://github.com/example/templates', auth: { type: 'token' } },
      }),
    ).to.match(/secretRef is required/);
  });
});
