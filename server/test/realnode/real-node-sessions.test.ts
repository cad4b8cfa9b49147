import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { REAL_NODE_STORAGE_CLASS } from '../../src/platform/kube/local-cluster';
import type { TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn } from '../support/auth';
import { KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { startRealNodeApp } from './support';

const SESSION_FIELDS = 'id name state phase message podName url';

interface Sess {
  id: string;
  name: string;
  state: string;
  phase: string;
  message: string | null;
  podName: string | null;
}

interface ExecEvent {
  podExec: { stream: 'STDOUT' | 'STDERR' | 'EXIT'; data: string; exitCode: number | null };
}

/**
 * Sessions whose pods really run: the local cluster's real node (containerd + kubelet), the images built by
 * scripts/images/build.sh, readiness from the template's real probe, a home on a static local volume.
 */
describe('sessions on the real node: real containers, probes, logs, exec and homes', function () {
  let app: TestApp;
  let admin: SignedIn;
  let user: SignedIn;
  let core: CoreV1Api;
  let ns: string;
  let nodeName: string;
  let ws: Client;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const started = await startRealNodeApp('realnode', { STREAMSPACE_HOME_STORAGE_CLASS: REAL_NODE_STORAGE_CLASS, STREAMSPACE_HOME_SIZE: '1Gi' });
    const real = started.real;
    ({ app, ns, core } = started);
    nodeName = real.nodeName;
    admin = await signInAsAdmin(app);
    user = await createUserAndToken(app, 'user');
    const webapp = (name: string, env: Record<string, string> = {}, image = real.images.webapp) => `
apiVersion: stream.space/v1alpha1
kind: Template
metadata: { name: ${name} }
spec:
  displayName: ${name}
  baseImage: ${image}
  appType: webapp
  webapp:
    port: 8080
    healthCheck: { path: /healthz, initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 1 }
  env: ${JSON.stringify(Object.entries(env).map(([n, value]) => ({ name: n, value })))}
  volumeMounts: [{ name: user-home, mountPath: /home/streamspace }]
`;
    for (const yaml of [
      webapp('real-web'),
      webapp('real-web-slow', { READY_AFTER_SECONDS: '8' }),
      webapp('real-missing-image', {}, 'docker.io/streamspace/not-built-anywhere:0'),
      // busybox httpd refuses the port and exits 1 at once: the kubelet restarts it with a growing back-off.
      webapp('real-crash', { PORT: 'not-a-port' }),
    ]) {
      const res = await app.gql('mutation Apply($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name valid } }', { yaml }, admin.headers);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    }
    ws = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: admin.headers.authorization }, retryAttempts: 0, lazy: true });
  });

  after(async () => {
    await ws?.dispose();
    await app?.stop();
  });

  async function gql<T>(who: SignedIn, query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await app.gql<T>(query, variables, who.headers);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return res.body.data!;
  }

  async function createSession(input: Record<string, unknown>): Promise<Sess> {
    return (await gql<{ createSession: Sess }>(user, `mutation C($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`, { input })).createSession;
  }

  async function readSession(id: string): Promise<Sess> {
    return (await gql<{ session: Sess }>(user, `query S($id: ID!) { session(id: $id) { ${SESSION_FIELDS} } }`, { id })).session;
  }

  async function waitPhase(id: string, phase: string, timeoutMs = 120_000): Promise<Sess> {
    let last: Sess | undefined;
    await waitUntil(async () => (last = await readSession(id)).phase === phase, `session ${id} to be ${phase}`, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
    return last!;
  }

  async function pod(name: string): Promise<V1Pod> {
    return core.readNamespacedPod({ name, namespace: ns });
  }

  /** podExec through the admin API: the whole output and the exit code. */
  async function exec(podName: string, command: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
    const out = { stdout: '', stderr: '', exitCode: null as number | null };
    await new Promise<void>((resolve, reject) => {
      ws.subscribe<ExecEvent>(
        {
          query: 'subscription X($ns: String!, $name: String!, $command: [String!]!) { podExec(namespace: $ns, name: $name, command: $command) { stream data exitCode } }',
          variables: { ns, name: podName, command },
        },
        {
          next: (value) => {
            if (value.errors) return reject(new Error(value.errors[0]!.message));
            const e = value.data!.podExec;
            if (e.stream === 'STDOUT') out.stdout += e.data;
            else if (e.stream === 'STDERR') out.stderr += e.data;
            else out.exitCode = e.exitCode;
          },
          error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
          complete: resolve,
        },
      );
    });
    return out;
  }

  it('a web app session runs in a real container and is Running only once its /healthz probe passes', async function () {
    this.timeout(180_000);
    const s = await createSession({ template: 'real-web-slow' });
    // The container starts at once, but /healthz answers only after 8 s: the session must wait for the probe.
    let podName = '';
    await waitUntil(async () => {
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `stream.streamspace.io/session=${s.name}` });
      const running = pods.items.find((p) => p.status?.containerStatuses?.[0]?.state?.running);
      podName = running?.metadata?.name ?? '';
      return !!running;
    }, 'the container to start', 90_000);
    const started = Date.now();
    const p = await pod(podName);
    expect(p.spec!.nodeName).to.equal(nodeName);
    expect(p.status!.podIP, 'an address on the node bridge').to.match(/^10\.245\.0\.\d+$/);
    expect((await readSession(s.id)).phase, 'not Running while the probe fails').to.equal('Pending');
    const running = await waitPhase(s.id, 'Running');
    expect(Date.now() - started, 'Running came from the probe, not from the container start').to.be.greaterThan(4000);
    expect(running.podName).to.equal(podName);
    await gql(user, 'mutation T($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('the admin API shows the pod\'s real log and runs a command in it (podLogs, podExec)', async function () {
    this.timeout(180_000);
    const s = await createSession({ template: 'real-web' });
    const { podName } = await waitPhase(s.id, 'Running');
    const logs = (await gql<{ podLogs: string }>(admin, 'query L($ns: String!, $name: String!) { podLogs(namespace: $ns, name: $name) }', { ns, name: podName })).podLogs;
    expect(logs).to.match(new RegExp(`^started \\S+ on ${s.name}, port 8080$`, 'm'));
    expect(logs).to.match(/^healthy$/m);

    const ok = await exec(podName!, ['cat', '/tmp/www/healthz']);
    expect(ok).to.deep.equal({ stdout: 'ok\n', stderr: '', exitCode: 0 });
    const failing = await exec(podName!, ['sh', '-c', 'echo to-stderr >&2; exit 3']);
    expect(failing).to.deep.include({ stderr: 'to-stderr\n', exitCode: 3 });
    await gql(user, 'mutation T($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('hibernate deletes the pod and keeps the home: a file written before is there after wake', async function () {
    this.timeout(240_000);
    const s = await createSession({ template: 'real-web', persistentHome: true });
    const first = await waitPhase(s.id, 'Running');
    const note = `written before hibernation ${Date.now()}`;
    const write = await exec(first.podName!, ['sh', '-c', `echo "${note}" > /home/streamspace/note.txt && sync`]);
    expect(write.exitCode, write.stderr).to.equal(0);

    await gql(user, 'mutation H($id: ID!) { hibernateSession(id: $id) { id } }', { id: s.id });
    await waitPhase(s.id, 'Hibernated');
    await waitUntil(async () => {
      try {
        await pod(first.podName!);
        return false;
      } catch {
        return true;
      }
    }, 'the pod to be deleted');
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: ns });
    expect(claims.items.map((c) => [c.spec!.storageClassName, c.status!.phase])).to.deep.equal([[REAL_NODE_STORAGE_CLASS, 'Bound']]);

    await gql(user, 'mutation W($id: ID!) { wakeSession(id: $id) { id } }', { id: s.id });
    const woken = await waitPhase(s.id, 'Running');
    expect(woken.podName).not.to.equal(first.podName);
    const read = await exec(woken.podName!, ['cat', '/home/streamspace/note.txt']);
    expect(read).to.deep.equal({ stdout: `${note}\n`, stderr: '', exitCode: 0 });
    await gql(user, 'mutation T($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('a container that keeps crashing shows the kubelet\'s CrashLoopBackOff, with its exit code, in the start-up progress', async function () {
    this.timeout(180_000);
    const s = await createSession({ template: 'real-crash' });
    let last: Sess | undefined;
    await waitUntil(async () => /CrashLoopBackOff/.test((last = await readSession(s.id)).message ?? ''), 'the session to report CrashLoopBackOff', 120_000).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
    expect(last!.phase).to.equal('Pending');
    expect(last!.message).to.match(/^Container app of pod \S+ keeps crashing \(CrashLoopBackOff, \d+ restarts\): it last exited with code 1 \(Error\)$/);
    const logs = (await gql<{ podLogs: string }>(admin, 'query L($ns: String!, $name: String!) { podLogs(namespace: $ns, name: $name) }', { ns, name: last!.podName })).podLogs;
    expect(logs).to.include("bad address 'not-a-port'");
    await gql(user, 'mutation T($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });

  it('an image that is on no node fails the start with the kubelet\'s own ErrImagePull/ImagePullBackOff', async function () {
    this.timeout(180_000);
    const s = await createSession({ template: 'real-missing-image' });
    const failed = await waitPhase(s.id, 'Failed');
    expect(failed.message).to.match(/^Image docker\.io\/streamspace\/not-built-anywhere:0 cannot be pulled \((ErrImagePull|ImagePullBackOff)\)/);
    await gql(user, 'mutation T($id: ID!) { deleteSession(id: $id) { id } }', { id: s.id });
  });
});
