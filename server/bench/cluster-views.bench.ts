/**
 * Cluster views at scale: BENCH_PODS (10,000) pods on BENCH_NODES (100) kwok nodes of a real control plane, and the
 * admin console's first pages through the API (`clusterResources(kind: Pod, first: 50)` over every namespace, and
 * `clusterNodes`), beside the same page as a direct API-server LIST (limit=50) from this process. Sequential
 * requests (one at a time) from a worker thread; prints figures, never asserts; the last line is BENCH_RESULT.
 *
 * Run: npm run bench -- cluster-views, or node --expose-gc -r @swc-node/register bench/cluster-views.bench.ts
 */
import 'reflect-metadata';
import os from 'node:os';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeGetJson } from '../src/platform/kube/kube-http';
import { startTestApp } from '../test/support/app';
import { signInAsAdmin } from '../test/support/auth';
import { createTestNamespace, getTestCluster, stopTestCluster } from '../test/support/kube';
import { stopTestPostgres } from '../test/support/postgres';
import { startLoadWorker } from './support/load-worker';
import { BenchReport, fmtInt, fmtMs, load1, percentile } from './support/report';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const NODES = Number(process.env.BENCH_NODES ?? 100);
const REQUESTS = Number(process.env.BENCH_VIEW_REQUESTS ?? 200);

const PODS_PAGE = 'query BenchPods { clusterResources(kind: Pod, first: 50) { totalCount edges { node { name namespace labels createdAt } } pageInfo { hasNextPage endCursor } } }';
const NODES_VIEW = 'query BenchNodes { clusterNodes { name ready unschedulable } }';

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(report: BenchReport) {
  const started = Date.now();
  const cluster = await getTestCluster({ nodes: NODES });
  const nodeNames = cluster.nodeNames.filter((n) => !n.includes('real'));
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const namespaces = await Promise.all(Array.from({ length: 10 }, (_, i) => createTestNamespace(`bench-views-${i}`)));
  console.log(`cluster-views bench: ${os.cpus().length} cores, ${nodeNames.length} kwok nodes ready in ${((Date.now() - started) / 1000).toFixed(1)} s, load ${load1().toFixed(1)}`);

  // Pods bound to the kwok nodes directly (nodeName set: the scheduler is not what this measures).
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= PODS) return;
        await core.createNamespacedPod({
          namespace: namespaces[i % namespaces.length]!,
          body: {
            metadata: { name: `pod-${i}`, labels: { app: `bench-${i % 50}`, 'stream.streamspace.io/bench': 'views' } },
            spec: { nodeName: nodeNames[i % nodeNames.length], containers: [{ name: 'app', image: 'ghcr.io/example/bench:1.0' }] },
          },
        });
      }
    }),
  );
  console.log(`  created ${PODS} pods in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Let kwok's status writes for them settle (they would compete with the measurement).
  for (let i = 0; i < 24; i++) {
    const pending = await kubeGetJson<{ items?: unknown[] }>(cluster.kubeConfig, '/api/v1/pods', { query: { fieldSelector: 'status.phase!=Running', limit: 1 } });
    if (!pending.items?.length) break;
    await sleep(5000);
  }
  console.log(`  pods Running after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const app = await startTestApp({ STREAMSPACE_CLUSTER: 'kubeconfig', KUBECONFIG: cluster.kubeconfigPath, STREAMSPACE_NAMESPACE: namespaces[0]! }, { logLevel: 'warn' });
  const load = startLoadWorker();
  try {
    const admin = await signInAsAdmin(app);
    const url = `${app.url}/graphql`;
    // The caches start with the first list of their kind; measure a warm cache (what every list after the first
    // few seconds gets), and print what the very first list cost beside it.
    const cold = performance.now();
    await app.gql(PODS_PAGE, undefined, admin.headers);
    const coldMs = performance.now() - cold;
    const warmStarted = performance.now();
    const warmed = (await Promise.all([app.services.clusterAdmin.warmCache('Pod'), app.services.clusterAdmin.warmCache('Node')])).every(Boolean);
    console.log(`  first list (starts the cache, answered by the API server): ${fmtMs(coldMs)}; caches synced ${fmtMs(performance.now() - warmStarted)} later (${warmed ? 'both' : 'NOT both'})`);
    const page = await load.call({ op: 'gql', url, token: admin.accessToken, bodies: [JSON.stringify({ query: PODS_PAGE })], concurrency: 1, total: REQUESTS });
    const pageLoad = load1();
    const nodes = await load.call({ op: 'gql', url, token: admin.accessToken, bodies: [JSON.stringify({ query: NODES_VIEW })], concurrency: 1, total: Math.round(REQUESTS / 2) });
    const nodesLoad = load1();
    // The direct LISTs (the server is idle meanwhile: one request at a time from this thread is what it measures).
    const direct = async (path: string, query: Record<string, string | number>, n: number) => {
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = performance.now();
        await kubeGetJson(cluster.kubeConfig, path, { query });
        lat.push(performance.now() - a);
      }
      return lat;
    };
    const directPage = await direct('/api/v1/pods', { limit: 50 }, REQUESTS);
    const directNodes = await direct('/api/v1/nodes', {}, Math.round(REQUESTS / 2));
    const full = await direct('/api/v1/pods', {}, 5);
    console.log(`  full LIST of every pod: p50 ${fmtMs(percentile(full, 50))}`);
    const p99 = percentile(page.latencies, 99);
    report.add({
      figure: `cluster views at ${fmtInt(PODS)} pods on ${NODES} kwok nodes: first page of pods (50, every namespace)`,
      goal: 'first page p99 <= 50 ms, from a watch cache',
      value: `p50 ${fmtMs(percentile(page.latencies, 50))}, p99 ${fmtMs(p99)} (${REQUESTS} requests, one at a time, warm cache; the first list ${fmtMs(coldMs)})`,
      baseline: `direct API-server LIST limit=50: p50 ${fmtMs(percentile(directPage, 50))}, p99 ${fmtMs(percentile(directPage, 99))}`,
      ratio: p99 / percentile(directPage, 99),
      met: p99 <= 50,
      load: pageLoad,
    });
    const np99 = percentile(nodes.latencies, 99);
    report.add({
      figure: `cluster views at ${fmtInt(PODS)} pods on ${NODES} kwok nodes: nodes view`,
      goal: 'p99 <= 50 ms',
      value: `p50 ${fmtMs(percentile(nodes.latencies, 50))}, p99 ${fmtMs(np99)}`,
      baseline: `direct API-server LIST of nodes: p50 ${fmtMs(percentile(directNodes, 50))}, p99 ${fmtMs(percentile(directNodes, 99))}`,
      ratio: np99 / percentile(directNodes, 99),
      met: np99 <= 50,
      load: nodesLoad,
    });
  } finally {
    await load.stop();
    await app.stop();
    await stopTestCluster();
    await stopTestPostgres();
  }
}

const report = new BenchReport();
main(report).then(
  () => {
    report.print();
    process.exit(0);
  },
  (err: Error) => {
    console.error(err.stack ?? err.message);
    if (report.rows.length === 0) report.failed(`cluster views at ${fmtInt(PODS)} pods on ${NODES} kwok nodes`, 'first page p99 <= 50 ms, from a watch cache', err);
    report.print();
    process.exit(1);
  },
);
