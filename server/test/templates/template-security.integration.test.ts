import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { APPROVAL_ANNOTATION, SESSION_VISIBLE_LABEL, securityFingerprint } from '../../src/modules/templates/template-security';
import { Api, applyTemplates } from '../connections/support';
import { TestGitRepo } from '../catalog/git-fixture';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const LSIO_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];

/** A linuxserver.io-style template from a catalog: starts as root and needs capabilities to drop to its user. */
function lsioTemplate(caps: string[], smuggledApproval?: string): string {
  return [
    'apiVersion: stream.streamspace.io/v1alpha1',
    'kind: Template',
    'metadata:',
    '  name: lsio-notes',
    ...(smuggledApproval ? ['  annotations:', `    ${APPROVAL_ANNOTATION}: "${smuggledApproval}"`] : []),
    'spec:',
    '  displayName: LSIO Notes',
    '  baseImage: lscr.io/linuxserver/notes:latest',
    '  appType: webapp',
    '  webapp:',
    '    port: 3000',
    '  env:',
    '    - name: PUID',
    '      value: "1000"',
    '  security:',
    '    runAsRoot: true',
    `    addCapabilities: ${JSON.stringify(caps)}`,
    '',
  ].join('\n');
}

const PLAIN_TEMPLATE = `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: plain-notes
spec:
  displayName: Plain notes
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
  env:
    - name: NOTES_API_TOKEN
      value: tok-visible-only-to-admins-51c2
`;

function envTemplate(name: string, env: string): string {
  return `apiVersion: stream.streamspace.io/v1alpha1
kind: Template
metadata:
  name: ${name}
spec:
  displayName: ${name}
  baseImage: ghcr.io/example/notes:1.0
  appType: webapp
  webapp:
    port: 8080
${env}`;
}

/**
 * Issue 13 item 5 (templates): sessions run with a restricted pod security unless an admin approved a template's
 * exceptions; catalog templates asking for exceptions start nothing before that; env may read only Secrets and
 * ConfigMaps labelled for sessions (never the platform's own); literal env values are for admins only.
 */
describe('template security on the real control plane', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let app: TestApp;
  let admin: SignedIn;
  let user: TestUser;
  let dataDir: string;
  const repo = new TestGitRepo('security');

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    kc = cluster.kubeConfig;
    ns = await createTestNamespace('tsec');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-tsec-'));
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_GIT_ALLOW_FILE: 'true',
      STREAMSPACE_DATA_DIR: dataDir,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
    });
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app);
    const core = kc.makeApiClient(CoreV1Api);
    // The platform's own Secret in the same namespace (the layout of older installs): no session-visible label.
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'streamspace' }, stringData: { DATABASE_URL: 'postgres://platform:pw@db/streamspace' } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'notes-token', labels: { [SESSION_VISIBLE_LABEL]: 'true' } }, stringData: { token: 'x' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'notes-settings', labels: { [SESSION_VISIBLE_LABEL]: 'true' } }, data: { MODE: 'dark' } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'unlabelled-settings' }, data: { MODE: 'dark' } } });
  });

  after(async () => {
    await app?.stop();
    repo.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const gql = <T>(query: string, variables: Record<string, unknown> = {}, as: { headers: Record<string, string> } = admin) => app.gql<T>(query, variables, as.headers);
  /** The session's Deployment, once the reconciler made it. */
  async function deployment(name: string): Promise<V1Deployment> {
    let found: V1Deployment | undefined;
    await waitUntil(async () => {
      found = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns }).catch(() => undefined);
      return found !== undefined;
    }, `the Deployment of session ${name}`);
    return found!;
  }

  it('runs a session of an ordinary template as non-root, without privilege escalation, capabilities or an unconfined seccomp profile', async () => {
    await applyTemplates(app, admin, [PLAIN_TEMPLATE]);
    const s = await new Api(app, user).createSession({ template: 'plain-notes' });
    const pod = (await deployment(s.name)).spec!.template.spec!;
    expect(pod.securityContext).to.deep.equal({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).to.deep.equal({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).to.equal(false);
  });

  it('shows a catalog template\'s exceptions to the admin, and starts no session of it until an admin approves them (audited)', async () => {
    // The repository also tries to approve itself: the annotation is never taken from a manifest.
    repo.write('templates/tools/lsio-notes/template.yaml', lsioTemplate(LSIO_CAPS, securityFingerprint({ security: { runAsRoot: true, addCapabilities: LSIO_CAPS } })!)).commit('lsio');
    const added = await gql<{ addRepository: { id: string } }>(`mutation { addRepository(input: { name: "sec", url: "${repo.url}", autoSync: false }) { id } }`);
    expect(added.body.errors, JSON.stringify(added.body.errors)).to.equal(undefined);
    const synced = await gql<{ syncRepository: { status: string } }>('mutation S($id: ID!) { syncRepository(id: $id) { status } }', { id: added.body.data!.addRepository.id });
    expect(synced.body.data!.syncRepository.status).to.equal('READY');
    const listed = await gql<{ catalogTemplates: { edges: { node: { name: string; securityExceptions: string[] } }[] } }>('{ catalogTemplates(first: 50) { edges { node { name securityExceptions } } } }');
    expect(listed.body.data!.catalogTemplates.edges.map((e) => e.node).find((n) => n.name === 'lsio-notes')!.securityExceptions).to.deep.equal([
      "runs as root (the image's user)",
      ...LSIO_CAPS.map((c) => `adds capability ${c}`),
    ]);

    const installed = await gql<{ installCatalogTemplate: { templateName: string } }>('mutation { installCatalogTemplate(repository: "sec", name: "lsio-notes") { templateName } }');
    expect(installed.body.errors, JSON.stringify(installed.body.errors)).to.equal(undefined);
    const t = await gql<{ template: { securityApproved: boolean; securityExceptions: string[] } }>('{ template(name: "lsio-notes") { securityApproved securityExceptions } }');
    expect(t.body.data!.template).to.deep.include({ securityApproved: false });
    expect(t.body.data!.template.securityExceptions).to.have.length(6);

    const U = new Api(app, user);
    const refused = await gql('mutation { createSession(input: { template: "lsio-notes" }) { id } }', {}, user);
    expect(refused.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    expect(refused.body.errors?.[0]?.message).to.match(/security exceptions an admin has not approved \(runs as root.*adds capability CHOWN/);
    // The status controller says so on the object too (kubectl get template).
    await waitUntil(async () => {
      const obj = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'templates', name: 'lsio-notes' })) as { status?: { valid?: boolean; message?: string } };
      return obj.status?.valid === false && /approve/.test(obj.status.message ?? '');
    }, 'the template status to say it needs approval');

    const notAdmin = await gql('mutation { approveTemplateSecurity(name: "lsio-notes") { securityApproved } }', {}, user);
    expect(notAdmin.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
    const approved = await gql<{ approveTemplateSecurity: { securityApproved: boolean } }>('mutation { approveTemplateSecurity(name: "lsio-notes") { securityApproved } }');
    expect(approved.body.errors, JSON.stringify(approved.body.errors)).to.equal(undefined);
    expect(approved.body.data!.approveTemplateSecurity.securityApproved).to.equal(true);
    const audit = await gql<{ auditLog: { edges: { node: { resourceId: string; changes: { exceptions: string[] } } }[] } }>('{ auditLog(filter: { action: "template.approve-security" }) { edges { node { resourceId changes } } } }');
    expect(audit.body.data!.auditLog.edges[0]!.node.resourceId).to.equal('lsio-notes');
    expect(audit.body.data!.auditLog.edges[0]!.node.changes.exceptions).to.include('adds capability SETUID');

    const s = await U.createSession({ template: 'lsio-notes' });
    const pod = (await deployment(s.name)).spec!.template.spec!;
    expect(pod.securityContext).to.deep.equal({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: LSIO_CAPS } });

    // The catalog asks for more later: the approval no longer covers it.
    repo.write('templates/tools/lsio-notes/template.yaml', lsioTemplate([...LSIO_CAPS, 'KILL'])).commit('more');
    await gql('mutation S($id: ID!) { syncRepository(id: $id) { status } }', { id: added.body.data!.addRepository.id });
    await gql('mutation { installCatalogTemplate(repository: "sec", name: "lsio-notes") { templateName } }');
    const again = await gql<{ template: { securityApproved: boolean } }>('{ template(name: "lsio-notes") { securityApproved } }');
    expect(again.body.data!.template.securityApproved).to.equal(false);
    const refusedAgain = await gql('mutation { createSession(input: { template: "lsio-notes" }) { id } }', {}, user);
    expect(refusedAgain.body.errors?.[0]?.extensions?.code).to.equal('FORBIDDEN');
  });

  it('refuses a capability outside the baseline set at once', async () => {
    const res = await gql('mutation A($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', {
      yaml: envTemplate('admin-caps', '  security:\n    addCapabilities: [SYS_ADMIN]\n'),
    });
    expect(res.body.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.message).to.match(/spec\.security\.addCapabilities\[0\]: must be one of AUDIT_WRITE/);
  });

  it('refuses env that names the platform\'s Secret or any Secret or ConfigMap not labelled for sessions, at create and update', async () => {
    const apply = (yaml: string) => gql<{ applyTemplateYaml: { name: string } }>('mutation A($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml });
    const platform = await apply(envTemplate('steal-db', '  env:\n    - name: DB\n      valueFrom:\n        secretKeyRef: { name: streamspace, key: DATABASE_URL }\n'));
    expect(platform.body.errors?.[0]?.extensions?.code).to.equal('BAD_USER_INPUT');
    expect(platform.body.errors?.[0]?.message).to.contain(
      `spec.env[0].valueFrom.secretKeyRef: Secret "streamspace" is not labelled ${SESSION_VISIBLE_LABEL}=true; sessions may only read Secrets and ConfigMaps labelled for them`,
    );
    const envFrom = await apply(envTemplate('steal-cm', '  envFrom:\n    - configMapRef: { name: unlabelled-settings }\n'));
    expect(envFrom.body.errors?.[0]?.message).to.match(/spec\.envFrom\[0\]\.configMapRef: ConfigMap "unlabelled-settings" is not labelled/);
    const missing = await apply(envTemplate('missing-ref', '  env:\n    - name: X\n      valueFrom:\n        configMapKeyRef: { name: nowhere, key: X }\n'));
    expect(missing.body.errors?.[0]?.message).to.match(/ConfigMap "nowhere" does not exist/);
    const templates = await gql<{ templates: { name: string }[] }>('{ templates { name } }');
    expect(templates.body.data!.templates.map((t) => t.name)).not.to.include.members(['steal-db', 'steal-cm', 'missing-ref']);

    const ok = await apply(
      envTemplate('labelled-env', '  env:\n    - name: TOKEN\n      valueFrom:\n        secretKeyRef: { name: notes-token, key: token }\n  envFrom:\n    - configMapRef: { name: notes-settings }\n'),
    );
    expect(ok.body.errors, JSON.stringify(ok.body.errors)).to.equal(undefined);
    const s = await new Api(app, user).createSession({ template: 'labelled-env' });
    const container = (await deployment(s.name)).spec!.template.spec!.containers[0]!;
    expect(container.envFrom).to.deep.equal([{ configMapRef: { name: 'notes-settings' } }]);
    expect(container.env!.find((e) => e.name === 'TOKEN')!.valueFrom).to.deep.equal({ secretKeyRef: { name: 'notes-token', key: 'token' } });

    // The Secret loses its label: the next update of the template is refused.
    const core = kc.makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({ name: 'notes-token', namespace: ns });
    delete secret.metadata!.labels![SESSION_VISIBLE_LABEL];
    await core.replaceNamespacedSecret({ name: 'notes-token', namespace: ns, body: secret });
    const update = await gql('mutation { updateTemplate(name: "labelled-env", input: { description: "changed" }) { name } }');
    expect(update.body.errors?.[0]?.message).to.match(/Secret "notes-token" is not labelled/);
  });

  it('has the reconciler refuse a Template made with kubectl that names the platform\'s Secret: no workload, the session fails saying why', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'stream.streamspace.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'templates',
      body: {
        apiVersion: 'stream.streamspace.io/v1alpha1',
        kind: 'Template',
        metadata: { name: 'kubectl-steal' },
        spec: { displayName: 'x', baseImage: 'busybox', appType: 'webapp', webapp: { port: 8080 }, env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'streamspace', key: 'DATABASE_URL' } } }] },
      },
    });
    const name = `steal-${process.pid}`;
    await custom.createNamespacedCustomObject({
      group: 'stream.streamspace.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'sessions',
      body: { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name }, spec: { user: user.username, template: 'kubectl-steal', state: 'running' } },
    });
    let ready: { reason?: string; message?: string } | undefined;
    await waitUntil(async () => {
      const obj = (await custom.getNamespacedCustomObject({ group: 'stream.streamspace.io', version: 'v1alpha1', namespace: ns, plural: 'sessions', name })) as {
        status?: { phase?: string; conditions?: { type: string; reason: string; message: string }[] };
      };
      ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
      return obj.status?.phase === 'Failed';
    }, 'the session to fail');
    expect(ready).to.deep.include({ reason: 'TemplateInvalid' });
    expect(ready!.message).to.match(/Secret "streamspace" is not labelled stream\.streamspace\.io\/session-visible=true/);
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns });
    expect(deployments.items.map((d) => d.metadata!.name)).not.to.include(name);
  });

  it('shows literal env values and the Secrets env reads only to admins', async () => {
    const q = '{ templates { name spec } }';
    const asUser = await gql<{ templates: { name: string; spec: { env?: Record<string, unknown>[]; envFrom?: unknown } }[] }>(q, {}, user);
    expect(asUser.body.errors).to.equal(undefined);
    const raw = JSON.stringify(asUser.body);
    expect(raw).not.to.contain('tok-visible-only-to-admins-51c2');
    expect(raw).not.to.contain('notes-token');
    expect(raw).not.to.contain('notes-settings');
    const plain = asUser.body.data!.templates.find((t) => t.name === 'plain-notes')!;
    expect(plain.spec.env).to.deep.equal([{ name: 'NOTES_API_TOKEN' }]);
    expect(asUser.body.data!.templates.find((t) => t.name === 'labelled-env')!.spec.envFrom).to.equal(undefined);
    const catalog = await gql<{ catalogTemplates: { edges: { node: { manifest: { spec: { env: unknown[] } } } }[] } }>('{ catalogTemplates(first: 50) { edges { node { manifest } } } }', {}, user);
    for (const edge of catalog.body.data!.catalogTemplates.edges) for (const e of edge.node.manifest.spec.env ?? []) expect(Object.keys(e as object)).to.deep.equal(['name']);

    const asAdmin = await gql<{ templates: { name: string; spec: { env?: { name: string; value?: string }[] } }[] }>(q);
    expect(asAdmin.body.data!.templates.find((t) => t.name === 'plain-notes')!.spec.env).to.deep.equal([{ name: 'NOTES_API_TOKEN', value: 'tok-visible-only-to-admins-51c2' }]);
  });
});
