/**
 * Real node start-up benchmark: how long a desktop takes from "create" to the first noVNC frame, and
 * from "wake" to the first frame, on the local cluster's real node with the image cached. Prints, never asserts.
 *
 * Each run creates the pod a desktop session gets (the demo desktop image, the real node's placement, a TCP
 * readiness probe on websockify's port, the home claim mounted), then speaks noVNC's protocol to it (RFB over a
 * WebSocket to the pod's address: version, security None, ClientInit, a full FramebufferUpdateRequest) until the
 * first FramebufferUpdate arrives. "create" uses a fresh home claim; "wake" deletes the pod and creates it again
 * on the same, already bound claim, as hibernate and wake do. Phases, from the create call:
 *   scheduled  the scheduler bound the pod to the node
 *   started    the container is running (sandbox, network, volume mounts and container start done)
 *   ready      the kubelet's probe passed (the platform shows the session Running from here)
 *   frame      the first framebuffer update reached the client
 *
 * Run: npm run bench (all benches), or node -r @swc-node/register bench/real-node-start.bench.ts
 * (BENCH_RUNS, default 10). Needs what the real node needs (Linux, root); says why and exits otherwise.
 */
import os from 'node:os';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { REAL_NODE_PLACEMENT, REAL_NODE_STORAGE_CLASS, startLocalCluster } from '../src/platform/kube/local-cluster';
import { BenchReport, load1 } from './support/report';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const NAMESPACE = 'default';

interface Sample {
  scheduled: number;
  started: number;
  ready: number;
  frame: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Opens noVNC's WebSocket to the pod and resolves when the first FramebufferUpdate message starts arriving. */
function firstFrame(host: string, port: number, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}/websockify`, ['binary']);
    let buf = Buffer.alloc(0);
    let step: 'version' | 'security' | 'result' | 'init' | 'frame' = 'version';
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no frame within ${timeoutMs} ms (step ${step})`));
    }, timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      ws.terminate();
      if (err) reject(err);
      else resolve();
    };
    ws.on('error', (err) => done(err));
    ws.on('message', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        if (step === 'version' && buf.length >= 12) {
          buf = buf.subarray(12);
          ws.send(Buffer.from('RFB 003.008\n'));
          step = 'security';
        } else if (step === 'security' && buf.length >= 1 && buf.length >= 1 + buf[0]!) {
          const types = [...buf.subarray(1, 1 + buf[0]!)];
          buf = buf.subarray(1 + buf[0]!);
          if (!types.includes(1)) return done(new Error(`no security type None offered (${types.join(',')})`));
          ws.send(Buffer.from([1]));
          step = 'result';
        } else if (step === 'result' && buf.length >= 4) {
          if (buf.readUInt32BE(0) !== 0) return done(new Error('security handshake failed'));
          buf = buf.subarray(4);
          ws.send(Buffer.from([1])); // ClientInit: shared
          step = 'init';
        } else if (step === 'init' && buf.length >= 24 && buf.length >= 24 + buf.readUInt32BE(20)) {
          const width = buf.readUInt16BE(0);
          const height = buf.readUInt16BE(2);
          buf = buf.subarray(24 + buf.readUInt32BE(20));
          const req = Buffer.alloc(10);
          req.writeUInt8(3, 0); // FramebufferUpdateRequest, not incremental
          req.writeUInt16BE(width, 6);
          req.writeUInt16BE(height, 8);
          ws.send(req);
          step = 'frame';
        } else if (step === 'frame' && buf.length >= 1) {
          if (buf[0] === 0) return done();
          return done(new Error(`unexpected server message ${buf[0]}`));
        } else return;
      }
    });
  });
}

const CREATE_FIGURE = 'real node start: create -> first frame (p50)';
const CREATE_GOAL = '<= 3 s';
const WAKE_FIGURE = 'real node start: wake -> first frame (p50)';
const WAKE_GOAL = '<= 2 s';

async function main(report: BenchReport): Promise<void> {
  const cluster = await startLocalCluster({ nodes: 1, crdDir: null, realNode: true, log: (m) => process.stderr.write(`[cluster] ${m}\n`) });
  try {
    const node = cluster.realNode;
    if (node.status !== 'ready') {
      const reason = `real node unavailable: ${node.status === 'unavailable' ? node.reason : node.status}`;
      process.stdout.write(`${reason}, nothing to measure\n`);
      report.failed(CREATE_FIGURE, CREATE_GOAL, reason);
      report.failed(WAKE_FIGURE, WAKE_GOAL, reason);
      return;
    }
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const podSpec = (name: string, claim: string): V1Pod => ({
      metadata: { name, labels: { bench: 'real-node-start' } },
      spec: {
        ...REAL_NODE_PLACEMENT,
        hostname: name,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: node.images.desktop,
            ports: [{ containerPort: 6080 }],
            readinessProbe: { tcpSocket: { port: 6080 as never }, periodSeconds: 1, initialDelaySeconds: 0 },
            volumeMounts: [{ name: 'user-home', mountPath: '/home/streamspace' }],
          },
        ],
        volumes: [{ name: 'user-home', persistentVolumeClaim: { claimName: claim } }],
      },
    });
    const measure = async (name: string, claim: string): Promise<Sample> => {
      const t0 = Date.now();
      await core.createNamespacedPod({ namespace: NAMESPACE, body: podSpec(name, claim) });
      const s: Partial<Sample> = {};
      let ip: string;
      for (;;) {
        const pod = await core.readNamespacedPod({ name, namespace: NAMESPACE });
        const now = Date.now() - t0;
        if (s.scheduled === undefined && pod.spec?.nodeName) s.scheduled = now;
        if (s.started === undefined && pod.status?.containerStatuses?.[0]?.state?.running) s.started = now;
        if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
          s.ready = now;
          ip = pod.status.podIP!;
          break;
        }
        if (now > 120_000) throw new Error(`pod ${name} not Ready after 120 s`);
        await sleep(25);
      }
      s.scheduled ??= s.ready;
      s.started ??= s.ready;
      await firstFrame(ip, 6080);
      s.frame = Date.now() - t0;
      return s as Sample;
    };
    const remove = async (name: string) => {
      await core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
      for (;;) {
        try {
          await core.readNamespacedPod({ name, namespace: NAMESPACE });
          await sleep(100);
        } catch {
          return;
        }
      }
    };

    const create: Sample[] = [];
    const wake: Sample[] = [];
    let createLoad = 0;
    let wakeLoad = 0;
    for (let i = 0; i < RUNS; i++) {
      const claim = `home-${i}`;
      await core.createNamespacedPersistentVolumeClaim({
        namespace: NAMESPACE,
        body: { metadata: { name: claim }, spec: { storageClassName: REAL_NODE_STORAGE_CLASS, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      });
      create.push(await measure(`desk-${i}`, claim));
      createLoad += load1() / RUNS;
      await remove(`desk-${i}`);
      wake.push(await measure(`desk-${i}-w`, claim));
      wakeLoad += load1() / RUNS;
      await remove(`desk-${i}-w`);
      process.stderr.write(`run ${i + 1}/${RUNS}: create -> frame ${create[i]!.frame} ms, wake -> frame ${wake[i]!.frame} ms\n`);
    }
    const row = (label: string, samples: Sample[]) => {
      const cols = (['scheduled', 'started', 'ready', 'frame'] as const).map((k) => {
        const v = samples.map((x) => x[k]);
        return `${k} p50 ${percentile(v, 50)} / p95 ${percentile(v, 95)} ms`;
      });
      return `${label.padEnd(7)} ${cols.join(' | ')}`;
    };
    process.stdout.write(`real node start-up, ${RUNS} runs, desktop image cached, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}\n`);
    process.stdout.write(`${row('create', create)}\n${row('wake', wake)}\n`);
    process.stdout.write('(times from the create call; goal: first frame <= 3 s p50 on create, <= 2 s on wake)\n');
    const frames = (samples: Sample[]) => samples.map((x) => x.frame);
    const value = (samples: Sample[]) => `p50 ${(percentile(frames(samples), 50) / 1000).toFixed(2)} s, p95 ${(percentile(frames(samples), 95) / 1000).toFixed(2)} s (Ready p50 ${(percentile(samples.map((x) => x.ready), 50) / 1000).toFixed(2)} s; ${RUNS} runs, image cached)`;
    report.add({ figure: CREATE_FIGURE, goal: CREATE_GOAL, value: value(create), met: percentile(frames(create), 50) <= 3000, load: createLoad });
    report.add({ figure: WAKE_FIGURE, goal: WAKE_GOAL, value: value(wake), met: percentile(frames(wake), 50) <= 2000, load: wakeLoad });
  } finally {
    await cluster.stop();
  }
}

const report = new BenchReport();
main(report).then(
  () => report.print(),
  (err: Error) => {
    process.stderr.write(`real-node-start bench failed: ${err.stack ?? err.message}\n`);
    if (report.rows.length === 0) {
      report.failed(CREATE_FIGURE, CREATE_GOAL, err);
      report.failed(WAKE_FIGURE, WAKE_GOAL, err);
    }
    report.print();
    process.exit(1);
  },
);
