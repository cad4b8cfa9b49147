import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { buildDeployment } from '../../src/modules/sessions/session-manifests';
import type { SessionManifest } from '../../src/modules/sessions/session.crd';
import { normalizeTemplate } from '../../src/modules/templates/template-normalize';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../../..');
const chart = path.join(repo, 'helm', 'streamspace');

/** The pod spec the reconciler would run for a template (the real manifest builder). */
function sessionPod(spec: Record<string, unknown>): V1PodSpec {
  const r = normalizeTemplate({
    apiVersion: 'stream.streamspace.io/v1alpha1',
    kind: 'Template',
    metadata: { name: 'notes' },
    spec: { displayName: 'Notes', baseImage: 'ghcr.io/example/notes:1.0', appType: 'webapp', webapp: { port: 8080 }, ...spec },
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  const session: SessionManifest = { apiVersion: 'stream.streamspace.io/v1alpha1', kind: 'Session', metadata: { name: 'alice-notes-a1b2c', uid: 'u1' }, spec: { user: 'alice', template: 'notes' } };
  return buildDeployment(session, r.template, { ingress: { mode: 'none' }, home: { size: '1Gi' } }).spec!.template.spec!;
}

/**
 * Issue 13 item 5 (namespace): the chart's session namespace, applied for real to the test harness's kube-apiserver
 * (v1.35: ValidatingAdmissionPolicy is GA at admissionregistration.k8s.io/v1, Pod Security admission built in).
 * Pods are created with dryRun=All: admission (Pod Security, the policy, the LimitRange) runs exactly as for a
 * real create, and nothing is scheduled.
 */
describe('Helm chart: the session namespace on the real API server (Pod Security, LimitRange, admission policy)', function () {
  this.timeout(120_000);
  const release = `iso-${process.pid}`;
  const sessionsNs = `${release}-sessions`;
  let releaseNs: string;
  let otherNs: string;
  let core: CoreV1Api;
  let client: KubernetesObjectApi;
  const created: KubernetesObject[] = [];

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const helm = (await run('bash', [path.join(repo, 'scripts', 'helm', 'ensure-helm.sh')], { maxBuffer: 1024 * 1024 })).stdout.trim();
    const cluster = await getTestCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    client = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    releaseNs = await createTestNamespace('iso');
    otherNs = await createTestNamespace('iso-other');
    const { stdout } = await run(helm, ['template', release, chart, '--namespace', releaseNs, '--kube-version', '1.35.0', '--show-only', 'templates/sessions-namespace.yaml'], {
      maxBuffer: 8 * 1024 * 1024,
    });
    const objects = parseAllDocuments(stdout)
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => Boolean(o));
    expect(objects.map((o) => o.kind).sort()).to.deep.equal(['LimitRange', 'Namespace', 'NetworkPolicy', 'NetworkPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    for (const obj of objects) {
      // client-node serializes a LimitRange item's `default` from its `_default` property (a reserved word in its
      // generated models), so the chart's plain `default` would be dropped on the way.
      if (obj.kind === 'LimitRange') for (const item of (obj as unknown as { spec: { limits: Record<string, unknown>[] } }).spec.limits) item._default = item.default;
      await client.create(obj);
      created.push(obj);
    }
    // Pods need the namespace's default ServiceAccount, which the controller manager creates.
    await waitUntil(async () => (await core.listNamespacedServiceAccount({ namespace: sessionsNs })).items.some((sa) => sa.metadata?.name === 'default'), 'the default ServiceAccount');
  });

  after(async () => {
    for (const obj of created.reverse()) await client.delete(obj).catch(() => undefined);
  });

  async function tryCreate(namespace: string, spec: V1PodSpec, name = 'probe'): Promise<{ ok: true; pod: V1Pod } | { ok: false; status: number; message: string }> {
    try {
      const pod = await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec }, dryRun: 'All' });
      return { ok: true, pod };
    } catch (err) {
      const e = err as { code?: number; body?: string };
      const body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : {};
      return { ok: false, status: e.code ?? 0, message: body.message ?? String(err) };
    }
  }

  const plain = (extra: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [{ name: 'app', image: 'busybox' }], ...extra });
  const HOSTILE: Record<string, V1PodSpec> = {
    'a privileged container': plain({ containers: [{ name: 'app', image: 'busybox', securityContext: { privileged: true } }] }),
    'a privileged init container': plain({ initContainers: [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }] }),
    'a hostPath volume': plain({ volumes: [{ name: 'root', hostPath: { path: '/' } }] }),
    hostNetwork: plain({ hostNetwork: true }),
    hostPID: plain({ hostPID: true }),
    hostIPC: plain({ hostIPC: true }),
  };

  it('labels the namespace for Pod Security (enforce baseline, warn and audit restricted) and refuses a privileged pod', async () => {
    const ns = await core.readNamespace({ name: sessionsNs });
    expect(ns.metadata!.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' });
    // Refused, whichever of Pod Security and the admission policy answers first.
    await waitUntil(async () => !(await tryCreate(sessionsNs, HOSTILE['a privileged container']!)).ok, 'a privileged pod to be refused');
    const r = await tryCreate(sessionsNs, HOSTILE['a privileged container']!);
    expect(r).to.deep.include({ ok: false, status: 403 });
    expect((r as { message: string }).message).to.match(/privileged/);
  });

  it('has the admission policy refuse privileged containers, hostPath volumes and host namespaces even without Pod Security', async () => {
    // Take Pod Security's enforce label off: what is left refusing is the ValidatingAdmissionPolicy alone.
    const ns = await core.readNamespace({ name: sessionsNs });
    delete ns.metadata!.labels!['pod-security.kubernetes.io/enforce'];
    await core.replaceNamespace({ name: sessionsNs, body: ns });
    try {
      // The policy is type-checked and loaded asynchronously after it is created.
      await waitUntil(async () => {
        const r = await tryCreate(sessionsNs, HOSTILE['a privileged container']!);
        return !r.ok && /ValidatingAdmissionPolicy/.test(r.message);
      }, 'the admission policy to be active', 30_000);
      for (const [what, spec] of Object.entries(HOSTILE)) {
        const r = await tryCreate(sessionsNs, spec);
        expect(r, what).to.deep.include({ ok: false, status: 403 });
        const message = (r as { message: string }).message;
        expect(message, what).to.contain(`ValidatingAdmissionPolicy '${release}-streamspace-session-pods'`);
        expect(message, what).to.match(/(privileged|hostPath|hostNetwork|hostPID|hostIPC)[a-z ]* (containers |volumes |init containers )?(are|is) not allowed in the session namespace/);
      }
      // Only in the session namespace: the same pod elsewhere is not the policy's business.
      expect((await tryCreate(otherNs, HOSTILE['a hostPath volume']!)).ok).to.equal(true);
    } finally {
      const now = await core.readNamespace({ name: sessionsNs });
      now.metadata!.labels!['pod-security.kubernetes.io/enforce'] = 'baseline';
      await core.replaceNamespace({ name: sessionsNs, body: now });
    }
  });

  it('admits a normal session pod and an admin-approved root template with baseline capabilities, with the LimitRange\'s defaults', async () => {
    const restricted = await tryCreate(sessionsNs, sessionPod({}), 'restricted');
    expect(restricted.ok, JSON.stringify(restricted)).to.equal(true);
    const container = (restricted as { pod: V1Pod }).pod.spec!.containers[0]!;
    expect(container.resources).to.deep.equal({ limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '100m', memory: '128Mi' } });
    expect(container.securityContext).to.deep.include({ allowPrivilegeEscalation: false, runAsNonRoot: true });

    const lsio = await tryCreate(sessionsNs, sessionPod({ security: { runAsRoot: true, addCapabilities: ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER'] } }), 'lsio');
    expect(lsio.ok, JSON.stringify(lsio)).to.equal(true);

    // A container asking for more than the LimitRange's ceiling is refused.
    const huge = sessionPod({ defaultResources: { limits: { memory: '64Gi' } } });
    const r = await tryCreate(sessionsNs, huge, 'huge');
    expect(r).to.deep.include({ ok: false, status: 403 });
    expect((r as { message: string }).message).to.match(/maximum memory usage per Container is 16Gi/);
  });
});
