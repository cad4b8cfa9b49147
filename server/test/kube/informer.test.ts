import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createInformer, type Informer } from '../../src/platform/kube/informer';
import { freePort } from '../../src/platform/kube/local-cluster/ports';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS, type LocalCluster } from '../support/kube';
import { waitUntil } from '../support/wait';

/** etcd's JSON gateway (the v3 gRPC API over HTTP): keys and values are base64. */
async function etcd<T>(cluster: LocalCluster, call: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${cluster.etcdUrl}/v3/${call}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${call}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Recorded {
  added: string[];
  updated: string[];
  deleted: string[];
  syncs: string[];
  errors: { message: string; retryInMs: number }[];
}

function record(informer: Informer<V1ConfigMap>): Recorded {
  const r: Recorded = { added: [], updated: [], deleted: [], syncs: [], errors: [] };
  informer
    .on('add', (o) => r.added.push(o.metadata!.name!))
    .on('update', (o) => r.updated.push(o.metadata!.name!))
    .on('delete', (o) => r.deleted.push(o.metadata!.name!))
    .on('synced', (info) => r.syncs.push(info.reason))
    .on('error', (err, info) => r.errors.push({ message: err.message, retryInMs: info.retryInMs }));
  return r;
}

describe('informer (list, watch, resume, re-list on 410, back off)', function () {
  let cluster: LocalCluster;
  let namespace: string;
  let core: CoreV1Api;
  const informers: Informer<V1ConfigMap>[] = [];

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    cluster = await getTestCluster();
    namespace = await createTestNamespace('informer');
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await Promise.all(informers.map((i) => i.stop()));
  });

  function configMapInformer(): Informer<V1ConfigMap> {
    const informer = createInformer<V1ConfigMap>({ kubeConfig: cluster.kubeConfig, path: `/api/v1/namespaces/${namespace}/configmaps`, pageSize: 2 });
    informers.push(informer);
    return informer;
  }

  it('lists what exists (across pages), then sees adds, updates and deletes', async () => {
    for (const name of ['pre-1', 'pre-2', 'pre-3']) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
    const informer = configMapInformer();
    const seen = record(informer);
    await informer.start();
    expect(seen.syncs).to.deep.equal(['initial']);
    // kube-root-ca.crt is published into every namespace by the controller manager.
    expect(informer.list().map((c) => c.metadata!.name)).to.include.members(['pre-1', 'pre-2', 'pre-3']);

    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'live' }, data: { v: '1' } } });
    await waitUntil(() => informer.get('live', namespace)?.data?.v === '1', 'the informer to see the new ConfigMap');
    await core.replaceNamespacedConfigMap({ name: 'live', namespace, body: { metadata: { name: 'live' }, data: { v: '2' } } });
    await waitUntil(() => informer.get('live', namespace)?.data?.v === '2', 'the informer to see the update');
    await core.deleteNamespacedConfigMap({ name: 'pre-1', namespace });
    await waitUntil(() => informer.get('pre-1', namespace) === undefined, 'the informer to see the deletion');

    expect(seen.added).to.include('live');
    expect(seen.updated).to.include('live');
    expect(seen.deleted).to.deep.equal(['pre-1']);
    await informer.stop();

    // Stopped, it misses nothing: started again, it resumes from its resourceVersion.
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'while-stopped' } } });
    await informer.start();
    await waitUntil(() => informer.get('while-stopped', namespace) !== undefined, 'the restarted informer to catch up');
    expect(seen.syncs).to.deep.equal(['initial']);
    await informer.stop();
  });

  it('continues after an apiserver restart and re-lists on 410 Gone, catching up with changes it missed', async function () {
    this.timeout(180_000);
    const informer = configMapInformer();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'doomed' } } });
    const seen = record(informer);
    await informer.start();
    expect(informer.get('doomed', namespace)).to.not.equal(undefined);
    const watchesBefore = informer.stats.watches;

    await cluster.restartApiServer({
      whileStopped: async () => {
        // While nobody watches: delete an object behind the apiserver's back, then compact etcd's history
        // up to now. The informer's resourceVersion is now older than anything etcd can replay: 410 Gone.
        const del = await etcd<{ header: { revision: string }; deleted?: string }>(cluster, 'kv/deleterange', {
          key: b64(`/registry/configmaps/${namespace}/doomed`),
        });
        expect(del.deleted).to.equal('1');
        await etcd(cluster, 'kv/compaction', { revision: del.header.revision, physical: true });
      },
    });

    await waitUntil(() => informer.stats.relists >= 1 && seen.deleted.includes('doomed'), 'the informer to re-list after 410 Gone', 120_000);
    expect(seen.syncs).to.deep.equal(['initial', 'gone']);
    expect(informer.get('doomed', namespace)).to.equal(undefined);

    // And it watches again: a change made now arrives as an event.
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-restart' } } });
    await waitUntil(() => informer.get('after-restart', namespace) !== undefined, 'the informer to see a ConfigMap created after the restart');
    expect(seen.added).to.include('after-restart');
    expect(informer.stats.watches).to.be.greaterThan(watchesBefore);
    // The apiserver was down for a while: those failed attempts were reported, each with a retry delay.
    expect(seen.errors.length).to.be.greaterThan(0);
    expect(seen.errors.every((e) => e.retryInMs > 0)).to.equal(true);
    await informer.stop();
  });
});

describe('informer backoff without a reachable API server', () => {
  it('reports each failure and retries with growing, capped delays until stopped', async () => {
    const port = await freePort(); // nothing listens there
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const informer = createInformer({ kubeConfig, path: '/api/v1/configmaps', initialBackoffMs: 5, maxBackoffMs: 40 });
    const errors: { message: string; retryInMs: number }[] = [];
    informer.on('error', (err, info) => errors.push({ message: err.message, retryInMs: info.retryInMs }));
    const started = informer.start();
    await waitUntil(() => errors.length >= 6, 'six failed attempts', 30_000);
    await informer.stop();
    let rejected: Error | undefined;
    await started.catch((err: Error) => (rejected = err));
    expect(rejected?.message).to.include('stopped before its first sync');

    expect(errors[0].message).to.match(/ECONNREFUSED/);
    // Attempt n waits between half and all of min(40, 5 * 2^n) ms (jitter): growing, then capped.
    const delays = errors.map((e) => e.retryInMs);
    const why = `delays ${delays.join(',')}`;
    for (let i = 1; i <= 3; i++) expect(delays[i], why).to.be.at.least(delays[i - 1]);
    for (const d of delays.slice(3)) expect(d, why).to.be.within(20, 40);
    expect(informer.stats.failures).to.equal(errors.length);
  });
});
