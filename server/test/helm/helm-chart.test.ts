import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../../..');
const chart = path.join(repo, 'helm', 'streamspace');
const goldenDir = path.join(chart, 'tests', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

let helm: string;

async function template(values: Record<string, string>, namespace = 'streamspace'): Promise<string> {
  const set = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const { stdout } = await run(helm, ['template', 'streamspace', chart, '--namespace', namespace, '--kube-version', '1.35.0', ...set], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

async function templateFails(values: Record<string, string>): Promise<string> {
  try {
    await template(values);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`helm template succeeded with ${JSON.stringify(values)}`);
}

function objects(yamlText: string): KubernetesObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => Boolean(o));
}

function golden(name: string, rendered: string) {
  const file = path.join(goldenDir, `${name}.yaml`);
  if (update) fs.writeFileSync(file, rendered);
  expect(fs.existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).to.equal(true);
  expect(rendered, `${name}: rendering differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`).to.equal(fs.readFileSync(file, 'utf8'));
}

const CASES: Record<string, Record<string, string>> = {
  default: {},
  'external-db-ha': {
    replicaCount: '3',
    'database.url': 'postgres://streamspace:s3cret-db@db:5432/streamspace',
    'auth.adminPassword': 'correct-horse-battery',
    'auth.publicUrl': 'https://streamspace.example.com',
    'auth.oidc.enabled': 'true',
    'auth.oidc.issuer': 'https://idp.example.com/realms/main',
    'auth.oidc.clientId': 'streamspace',
    'auth.oidc.clientSecret': 'oidc-s3cret',
    'ingress.enabled': 'true',
    'ingress.host': 'streamspace.example.com',
    'rbac.clusterAdmin': 'false',
    'gateway.appsDomain': 'apps.example.com',
    'gateway.ingress.tlsSecret': 'apps-wildcard-tls',
  },
};

describe('Helm chart (helm template, golden files, real API server)', function () {
  before(async function () {
    this.timeout(20 * 60_000);
    helm = (await run('bash', [path.join(repo, 'scripts', 'helm', 'ensure-helm.sh')], { maxBuffer: 1024 * 1024 })).stdout.trim();
  });

  it('carries the same CRDs as crds/', () => {
    for (const file of fs.readdirSync(path.join(repo, 'crds'))) {
      expect(fs.readFileSync(path.join(chart, 'crds', file), 'utf8'), `helm/streamspace/crds/${file}`).to.equal(
        fs.readFileSync(path.join(repo, 'crds', file), 'utf8'),
      );
    }
  });

  for (const [name, values] of Object.entries(CASES)) {
    it(`renders "${name}" as its golden file`, async () => golden(name, await template(values)));
  }

  it('keeps secrets out of the pod spec (they are referenced from a Secret)', async () => {
    const rendered = objects(await template(CASES['external-db-ha']));
    const deployment = rendered.find((o) => o.kind === 'Deployment')!;
    const podSpec = JSON.stringify(deployment);
    for (const secret of ['s3cret-db', 'correct-horse-battery', 'oidc-s3cret']) expect(podSpec).not.to.contain(secret);
    const secret = rendered.find((o) => o.kind === 'Secret') as KubernetesObject & { stringData: Record<string, string> };
    expect(secret.stringData.DATABASE_URL).to.contain('s3cret-db');
    expect(deployment).to.have.nested.property('spec.replicas', 3);
  });

  it('routes the apps domain (every session host) to the gateway, and derives it from the Ingress host', async () => {
    const rendered = objects(await template(CASES['external-db-ha']));
    const apps = rendered.find((o) => o.kind === 'Ingress' && o.metadata?.name === 'streamspace-apps') as KubernetesObject & {
      spec: { tls: { hosts: string[]; secretName: string }[]; rules: { host: string; http: { paths: { backend: { service: { port: { name: string } } } }[] } }[] };
    };
    expect(apps, 'the apps Ingress').to.not.equal(undefined);
    expect(apps.spec.rules[0].host).to.equal('*.apps.example.com');
    expect(apps.spec.rules[0].http.paths[0].backend.service.port.name).to.equal('gateway');
    expect(apps.spec.tls[0]).to.deep.equal({ hosts: ['*.apps.example.com'], secretName: 'apps-wildcard-tls' });
    const derived = objects(await template({ 'ingress.enabled': 'true', 'ingress.host': 'ss.example.org', 'ingress.tlsSecret': 'ss-tls' }));
    const env = (derived.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0].env;
    const value = (name: string) => env.find((e) => e.name === name)?.value;
    expect(value('STREAMSPACE_GATEWAY_MODE')).to.equal('host');
    expect(value('STREAMSPACE_APPS_DOMAIN')).to.equal('apps.ss.example.org');
    expect(value('STREAMSPACE_PUBLIC_URL')).to.equal('https://ss.example.org');
    // No Ingress of the chart: no apps Ingress either (a port-forward reaches the gateway at apps.localhost:8081).
    expect(objects(await template({})).filter((o) => o.kind === 'Ingress')).to.have.length(0);
  });

  it('refuses bad values with clear messages', async () => {
    expect(await templateFails({ replicaCount: '2' })).to.match(/replicaCount > 1 needs an external PostgreSQL/);
    expect(await templateFails({ logLevel: 'loud' })).to.match(/logLevel/);
    expect(await templateFails({ 'database.url': 'mysql://x' })).to.match(/database\/url/);
    expect(await templateFails({ 'auth.oidc.enabled': 'true' })).to.match(/auth\.oidc\.enabled needs auth\.oidc\.issuer/);
    expect(await templateFails({ 'sessions.ingress': 'host' })).to.match(/sessions\.ingress=host needs sessions\.domain/);
    expect(await templateFails({ unknownKey: 'x' })).to.match(/unknownKey|additional properties/i);
    // The gateway (on by default) is the only way into sessions.
    expect(await templateFails({ 'sessions.ingress': 'host', 'sessions.domain': 'apps.example.com' })).to.match(/sessions\.ingress=host routes straight to sessions, around the session gateway/);
    expect(await templateFails({ 'ingress.enabled': 'true', 'ingress.host': 'ss.example.com', 'gateway.appsDomain': 'ss.example.com' })).to.match(/gateway\.appsDomain must differ from ingress\.host/);
    expect(await templateFails({ 'gateway.mode': 'open' })).to.match(/gateway\/mode|gateway\.mode/);
  });

  it('applies to a real API server (server-side dry run)', async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    const namespace = await createTestNamespace('helm');
    const client = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    for (const values of Object.values(CASES)) {
      for (const obj of objects(await template(values, namespace))) {
        obj.metadata = { ...obj.metadata, namespace: ['ClusterRoleBinding', 'ClusterRole'].includes(obj.kind!) ? undefined : namespace };
        try {
          await client.create(obj, undefined, 'All');
        } catch (err) {
          throw new Error(`${obj.kind} ${obj.metadata?.name} was refused: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  });
});
