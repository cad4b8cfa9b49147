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

/** The passwords the chart generates (random on every render without a live Secret to read back). */
function withoutGenerated(rendered: string): string {
  return rendered.replace(/^(\s+(?:STREAMSPACE_ADMIN_PASSWORD|POSTGRES_PASSWORD): )"[A-Za-z0-9]{32}"$/gm, '$1"<generated>"');
}

function golden(name: string, raw: string) {
  const rendered = withoutGenerated(raw);
  const file = path.join(goldenDir, `${name}.yaml`);
  if (update) fs.writeFileSync(file, rendered);
  expect(fs.existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).to.equal(true);
  expect(rendered, `${name}: rendering differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`).to.equal(fs.readFileSync(file, 'utf8'));
}

const CASES: Record<string, Record<string, string>> = {
  default: {},
  'shared-namespace-no-internet': {
    sessionNamespace: 'streamspace',
    'sessions.networkPolicy.internetEgress': 'false',
    'sessions.networkPolicy.apiServerCIDRs[0]': '203.0.113.10/32',
  },
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

const CLUSTER_SCOPED = ['ClusterRoleBinding', 'ClusterRole', 'Namespace', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];

type Policy = KubernetesObject & {
  spec: { podSelector: Record<string, unknown>; policyTypes: string[]; egress?: { to: { ipBlock?: { cidr: string; except?: string[] } }[] }[] };
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

  it('passes the OIDC operator and auditor groups to the server', async () => {
    const rendered = objects(
      await template({ ...CASES['external-db-ha'], 'auth.oidc.operatorGroups[0]': 'ops', 'auth.oidc.operatorGroups[1]': 'support', 'auth.oidc.auditorGroups[0]': 'audit' }),
    );
    const env = JSON.stringify(rendered.find((o) => o.kind === 'Deployment'));
    expect(env).to.contain('{"name":"STREAMSPACE_OIDC_OPERATOR_GROUPS","value":"ops,support"}');
    expect(env).to.contain('{"name":"STREAMSPACE_OIDC_AUDITOR_GROUPS","value":"audit"}');
    expect(JSON.stringify(objects(await template(CASES['external-db-ha'])))).not.to.contain('STREAMSPACE_OIDC_OPERATOR_GROUPS');
  });

  it('keeps secrets out of the pod spec (they are referenced from a Secret)', async () => {
    const rendered = objects(await template(CASES['external-db-ha']));
    const deployment = rendered.find((o) => o.kind === 'Deployment')!;
    const podSpec = JSON.stringify(deployment);
    for (const secret of ['s3cret-db', 'correct-horse-battery', 'oidc-s3cret']) expect(podSpec).not.to.contain(secret);
    const secret = rendered.find((o) => o.kind === 'Secret') as KubernetesObject & { stringData: Record<string, string> };
    expect(secret.stringData.DATABASE_URL).to.contain('s3cret-db');
    expect(deployment).to.have.nested.property('spec.replicas', 3);
  });

  it('mounts extra volumes (a private CA bundle) and pauses before a platform pod drains', async () => {
    const rendered = objects(
      await template({
        'extraVolumes[0].name': 'ca-bundle',
        'extraVolumes[0].configMap.name': 'ca-bundle',
        'extraVolumeMounts[0].name': 'ca-bundle',
        'extraVolumeMounts[0].mountPath': '/etc/ssl/certs/ca-certificates.crt',
        'extraVolumeMounts[0].subPath': 'ca-certificates.crt',
      }),
    );
    const pod = (rendered.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { volumes: { name: string; configMap?: { name: string } }[]; containers: { volumeMounts: { name: string; mountPath: string; subPath?: string }[]; lifecycle: unknown }[] } } };
    }).spec.template.spec;
    expect(pod.volumes.map((v) => v.name)).to.deep.equal(['data', 'tmp', 'ca-bundle']);
    expect(pod.volumes[2].configMap).to.deep.equal({ name: 'ca-bundle' });
    expect(pod.containers[0].volumeMounts[2]).to.deep.equal({ name: 'ca-bundle', mountPath: '/etc/ssl/certs/ca-certificates.crt', subPath: 'ca-certificates.crt' });
    expect(pod.containers[0].lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 5 } } });
    expect(await templateFails({ 'extraVolumeMounts[0].name': 'x' })).to.match(/mountPath/);
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

  it('runs sessions in a namespace of their own, labelled for Pod Security, with a LimitRange, network and admission policies', async () => {
    const rendered = objects(await template({}));
    const ns = rendered.find((o) => o.kind === 'Namespace')!;
    expect(ns.metadata!.name).to.equal('streamspace-sessions');
    expect(ns.metadata!.labels).to.include({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const env = (rendered.find((o) => o.kind === 'Deployment') as KubernetesObject & { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'STREAMSPACE_NAMESPACE')!.value).to.equal('streamspace-sessions');
    expect(env.find((e) => e.name === 'STREAMSPACE_PLATFORM_NAMESPACE')!.value).to.equal('streamspace');
    for (const kind of ['LimitRange', 'NetworkPolicy', 'Role']) {
      expect(rendered.filter((o) => o.kind === kind).map((o) => o.metadata!.namespace), kind).to.satisfy((nss: string[]) => nss.length > 0 && nss.every((n) => n === 'streamspace-sessions'));
    }
    const egress = rendered.find((o) => o.metadata!.name === 'streamspace-sessions-egress') as Policy;
    expect(egress.spec.podSelector).to.deep.equal({});
    const blocks = egress.spec.egress!.flatMap((r) => r.to).flatMap((t) => (t.ipBlock ? [t.ipBlock] : []));
    expect(blocks[0]).to.deep.equal({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'] });
    expect(blocks[1]).to.deep.equal({ cidr: '::/0', except: ['fc00::/7', 'fe80::/10'] });
    expect(rendered.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')).to.have.nested.property('spec.matchResources.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name', 'streamspace-sessions');

    // The older layout (sessions beside the platform): no namespace of its own, policies only for session pods;
    // internet egress off leaves DNS only; the API server's address is blocked where it is given.
    const shared = objects(await template(CASES['shared-namespace-no-internet']));
    expect(shared.filter((o) => o.kind === 'Namespace')).to.deep.equal([]);
    const sharedEgress = shared.find((o) => o.metadata!.name === 'streamspace-sessions-egress') as Policy;
    expect(sharedEgress.spec.podSelector).to.deep.equal({ matchExpressions: [{ key: 'stream.streamspace.io/session', operator: 'Exists' }] });
    expect(JSON.stringify(sharedEgress.spec.egress)).not.to.contain('ipBlock');
    expect(sharedEgress.spec.egress).to.have.length(1);
    const withApi = objects(await template({ 'sessions.networkPolicy.apiServerCIDRs[0]': '203.0.113.10/32' }));
    const apiBlocked = (withApi.find((o) => o.metadata!.name === 'streamspace-sessions-egress') as Policy).spec.egress!.flatMap((r) => r.to);
    expect(apiBlocked[1]!.ipBlock!.except).to.include('203.0.113.10/32');
  });

  it('switches the GraphQL IDE and introspection off by default; values switch them on', async () => {
    const envOf = (yamlText: string) => {
      const deployment = objects(yamlText).find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
      const env = deployment.spec.template.spec.containers[0].env;
      return (name: string) => env.find((e) => e.name === name)?.value;
    };
    const production = envOf(await template({}));
    expect(production('STREAMSPACE_GRAPHQL_IDE')).to.equal('false');
    expect(production('STREAMSPACE_GRAPHQL_INTROSPECTION')).to.equal('false');
    const development = envOf(await template({ 'graphql.ide': 'true', 'graphql.introspection': 'true' }));
    expect(development('STREAMSPACE_GRAPHQL_IDE')).to.equal('true');
    expect(development('STREAMSPACE_GRAPHQL_INTROSPECTION')).to.equal('true');
    expect(await templateFails({ 'graphql.ide': 'yes-please' })).to.match(/graphql\/ide.*boolean/is);
  });

  it('takes the /metrics token from a Secret when one is named, never as a plain value', async () => {
    const containerEnv = (yamlText: string) =>
      (objects(yamlText).find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } })
        .spec.template.spec.containers[0].env;
    expect(containerEnv(await template({})).map((e) => e.name)).not.to.include('STREAMSPACE_METRICS_TOKEN');
    const env = containerEnv(await template({ 'metrics.tokenSecret.name': 'prometheus-scrape' }));
    expect(env.find((e) => e.name === 'STREAMSPACE_METRICS_TOKEN')).to.deep.equal({
      name: 'STREAMSPACE_METRICS_TOKEN',
      valueFrom: { secretKeyRef: { name: 'prometheus-scrape', key: 'token' } },
    });
    expect(await templateFails({ 'metrics.tokenSecret.token': 'x' })).to.match(/metrics\/tokenSecret.*additional properties/is);
  });

  it('refuses bad values with clear messages', async () => {
    // A wrong type, a wrong nested type, an unknown key: refused by values.schema.json, naming the value.
    expect(await templateFails({ replicaCount: 'two' })).to.match(/replicaCount.*(integer|number)/is);
    expect(await templateFails({ 'podDisruptionBudget.enabled': 'maybe' })).to.match(/podDisruptionBudget\/enabled.*boolean/is);
    expect(await templateFails({ 'database.bundled.disk': '1Gi' })).to.match(/database\/bundled.*additional properties 'disk'/is);
    expect(await templateFails({ logLevel: 'loud' })).to.match(/logLevel/);
    expect(await templateFails({ 'database.url': 'mysql://x' })).to.match(/database\/url/);
    expect(await templateFails({ 'auth.oidc.enabled': 'true' })).to.match(/auth\.oidc\.enabled needs auth\.oidc\.issuer/);
    expect(await templateFails({ 'sessions.ingress': 'host' })).to.match(/sessions\.ingress=host needs sessions\.domain/);
    expect(await templateFails({ unknownKey: 'x' })).to.match(/unknownKey|additional properties/i);
    // The gateway (on by default) is the only way into sessions.
    expect(await templateFails({ 'sessions.ingress': 'host', 'sessions.domain': 'apps.example.com' })).to.match(/sessions\.ingress=host routes straight to sessions, around the session gateway/);
    expect(await templateFails({ 'ingress.enabled': 'true', 'ingress.host': 'ss.example.com', 'gateway.appsDomain': 'ss.example.com' })).to.match(/gateway\.appsDomain must differ from ingress\.host/);
    expect(await templateFails({ 'gateway.mode': 'open' })).to.match(/gateway\/mode|gateway\.mode/);
    expect(await templateFails({ 'sessions.networkPolicy.blockedCIDRs[0]': 'everything' })).to.match(/blockedCIDRs/);
    expect(await templateFails({ 'sessions.podSecurity.enforce': 'lenient' })).to.match(/podSecurity/);
  });

  it('applies to a real API server (server-side dry run)', async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    const namespace = await createTestNamespace('helm');
    const client = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    for (const values of Object.values(CASES)) {
      for (const obj of objects(await template(values, namespace))) {
        obj.metadata = { ...obj.metadata, namespace: CLUSTER_SCOPED.includes(obj.kind!) ? undefined : namespace };
        // The chart's session namespace may exist already (a real install in the same cluster keeps it): a unique name.
        if (obj.kind === 'Namespace') obj.metadata.name = `${namespace}-${obj.metadata.name}`.slice(0, 63);
        try {
          await client.create(obj, undefined, 'All');
        } catch (err) {
          throw new Error(`${obj.kind} ${obj.metadata?.name} was refused: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  });
});
