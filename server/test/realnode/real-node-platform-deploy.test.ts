import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { findRepoRoot, type LocalCluster } from '../../src/platform/kube/local-cluster';
import {
  buildPlatformImages,
  helmCommand,
  importIntoRealNode,
  realNodeValuesFile,
  relayApiServerToPods,
  type BuiltImage,
} from '../../src/platform/kube/local-cluster/deploy';
import { createTestNamespace, KUBE_START_TIMEOUT_MS, requireRealNode } from '../support/kube';
import { waitUntil } from '../support/wait';

const RELEASE = 'streamspace';
const chart = path.join(findRepoRoot(), 'helm', 'streamspace');

/**
 * The chart on the local cluster's real node, as an operator runs it: the platform and PostgreSQL images built by
 * `npm run image` and imported into the node's containerd, `helm install` until the platform's readiness probe
 * passes, a sign-in with the bootstrap admin whose password the chart keeps in a Secret, then day two: an upgrade
 * to a new build keeps the database's rows, a rollback returns to the first build, and an uninstall keeps the
 * database's claim and the generated passwords.
 */
describe('Helm install on the real node (platform image, bundled PostgreSQL)', function () {
  this.timeout(KUBE_START_TIMEOUT_MS);
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let ns: string;
  let helm: (...args: string[]) => Promise<string>;
  let stopRelay: (() => Promise<void>) | undefined;
  let tmp: string;
  let first: { streamspace: BuiltImage; postgres: BuiltImage };
  let second: { streamspace: BuiltImage };
  const log = (msg: string) => process.stderr.write(`      [deploy] ${msg}\n`);

  before(async () => {
    cluster = (await requireRealNode()).cluster;
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    helm = await helmCommand();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'streamspace-deploy-'));
    const built = await buildPlatformImages();
    first = built;
    log(`images: ${built.streamspace.ref} ${(built.streamspace.bytes / 1e6).toFixed(0)} MB, ${built.postgres.ref} ${(built.postgres.bytes / 1e6).toFixed(0)} MB (${built.seconds.toFixed(1)} s)`);
    // The same code recorded under another commit: a distinct image for the upgrade.
    second = await buildPlatformImages({ commit: 'upgrade-test' });
    const started = Date.now();
    const images = [built.streamspace, built.postgres, second.streamspace];
    await importIntoRealNode(cluster, images);
    log(`imported into the node's containerd in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    stopRelay = await relayApiServerToPods(cluster);
    ns = await createTestNamespace('deploy');
  });

  after(async () => {
    if (ns) {
      await helm('uninstall', RELEASE, '--namespace', ns, '--kubeconfig', cluster.kubeconfigPath, '--wait').catch(() => undefined);
      await core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    await stopRelay?.();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const valuesFile = (image: BuiltImage) => realNodeValuesFile(path.join(tmp, `values-${image.ref.split(':').pop()}.yaml`), image, first.postgres);

  const helmIn = (...args: string[]) => helm(...args, '--namespace', ns, '--kubeconfig', cluster.kubeconfigPath);

  async function serverPods(): Promise<V1Pod[]> {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=server' });
    return list.items.filter((p) => !p.metadata?.deletionTimestamp);
  }

  /** A Ready platform pod's address from the host (the node's bridge routes the pod network). */
  async function platformUrl(): Promise<string> {
    const pods = await serverPods();
    const ready = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready, 'a Ready platform pod').to.not.equal(undefined);
    return `http://${ready!.status!.podIP}:8080`;
  }

  async function signIn(base: string, username: string, password: string): Promise<string> {
    const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    expect(res.status, `sign-in as ${username}: ${await res.clone().text()}`).to.equal(200);
    return ((await res.json()) as { accessToken: string }).accessToken;
  }

  async function gql<T>(base: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
    return body.data!;
  }

  async function adminPassword(): Promise<string> {
    const secret = await core.readNamespacedSecret({ name: `${RELEASE}-generated`, namespace: ns });
    return Buffer.from(secret.data!.STREAMSPACE_ADMIN_PASSWORD, 'base64').toString();
  }

  async function runningCommit(): Promise<string> {
    const base = await platformUrl();
    const token = await signIn(base, 'admin', await adminPassword());
    return (await gql<{ version: { commit: string } }>(base, token, '{ version { version commit buildDate } }')).version.commit;
  }

  /** Every platform pod runs `ref` and is Ready (helm --wait returns once the Deployment is available). */
  async function allServersRun(ref: string) {
    await waitUntil(async () => {
      const pods = await serverPods();
      return pods.length === 2 && pods.every((p) => p.spec?.containers[0].image === ref && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, `two Ready platform pods running ${ref}`, 5 * 60_000);
  }

  it('installs: the platform (two replicas) and its PostgreSQL become Ready through their probes', async () => {
    const started = Date.now();
    await helmIn('install', RELEASE, chart, '-f', await valuesFile(first.streamspace), '--wait', '--timeout', '8m');
    await allServersRun(first.streamspace.ref);
    log(`helm install to Ready: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Migrations ran once: one replica applied them, the other waited for the lock and found the schema current;
    // neither crashed racing the other.
    const pods = await serverPods();
    for (const pod of pods) expect(pod.status?.containerStatuses?.[0].restartCount, pod.metadata!.name).to.equal(0);
    const logs = await Promise.all(pods.map((p) => core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns })));
    expect(logs.filter((l) => l.includes('"msg":"migrations applied"')).length, 'pods that applied the migrations').to.equal(1);
    expect(logs.filter((l) => l.includes('"msg":"database schema is up to date"')).length).to.equal(1);
    const db = await cluster.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: `${RELEASE}-postgresql`, namespace: ns });
    expect(db.status?.readyReplicas).to.equal(1);
  });

  it("signs in with the bootstrap admin from the chart's Secret; Query.version names the image's commit", async () => {
    const commit = await runningCommit();
    expect(commit).to.not.equal('unknown');
    expect(first.streamspace.ref).to.match(/streamspace:0\.1\.0-/);
  });

  it('upgrades to a new build: rows survive, both replicas run the new image', async () => {
    const base = await platformUrl();
    const token = await signIn(base, 'admin', await adminPassword());
    await gql(base, token, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', {
      input: { username: 'dayone', password: 'day-one-password' },
    });
    const started = Date.now();
    await helmIn('upgrade', RELEASE, chart, '-f', await valuesFile(second.streamspace), '--wait', '--timeout', '8m');
    await allServersRun(second.streamspace.ref);
    log(`helm upgrade to Ready: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(await runningCommit()).to.match(/^upgrade-/);
    await signIn(await platformUrl(), 'dayone', 'day-one-password');
  });

  it('rolls back to the first build', async () => {
    await helmIn('rollback', RELEASE, '1', '--wait', '--timeout', '8m');
    await allServersRun(first.streamspace.ref);
    expect(await runningCommit()).to.not.match(/^upgrade-/);
    await signIn(await platformUrl(), 'dayone', 'day-one-password');
  });

  it("uninstalls the platform but keeps the database's claim and the generated passwords", async () => {
    await helmIn('uninstall', RELEASE, '--wait');
    await waitUntil(async () => (await serverPods()).length === 0, 'the platform pods gone');
    const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => c.metadata!.name);
    expect(claims).to.include(`${RELEASE}-postgresql`);
    await core.readNamespacedSecret({ name: `${RELEASE}-generated`, namespace: ns });
  });
});
