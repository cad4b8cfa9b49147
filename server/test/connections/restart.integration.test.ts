import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { signIn, TEST_ADMIN } from '../support/auth';
import type { TestApp } from '../support/app';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { waitUntil } from '../support/wait';
import { createTestDatabase } from '../support/postgres';
import { Api, applyTemplates, firefoxYaml, type Sess } from './support';

const SERVER_DIR = path.resolve(__dirname, '../..');

interface Server {
  child: ChildProcess;
  url: string;
  output: string[];
}

/** Starts the real server (src/main.ts) as its own process and resolves with its URL once it listens. */
function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        output.push(line);
        const m = /StreamSpace is listening on (http:\/\/[^\s"]+)/.exec(line);
        if (m) resolve({ child, url: m[1].replace('localhost', '127.0.0.1'), output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${output.slice(-20).join('\n')}`)));
  });
}

/** Just enough of TestApp for the API helpers. */
function remote(url: string): TestApp {
  return {
    url,
    wsUrl: url.replace('http', 'ws') + '/graphql',
    async gql(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, body: (await res.json()) as never };
    },
  } as unknown as TestApp;
}

describe('connections survive a SIGKILL of the server', function () {
  this.timeout(240_000);
  let env: Record<string, string>;
  let ns: string;
  let server: Server | undefined;
  let custom: CustomObjectsApi;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    ns = await createTestNamespace('restart');
    env = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: await createTestDatabase('restart'),
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_ADMIN_USERNAME: TEST_ADMIN.username,
      STREAMSPACE_ADMIN_PASSWORD: TEST_ADMIN.password,
      STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      // A restart (kill, boot, lease expiry) takes well under 30 s; the session idles out 3 s after its last connection.
      STREAMSPACE_HEARTBEAT_TIMEOUT: '30s',
      STREAMSPACE_REAPER_INTERVAL: '300ms',
      STREAMSPACE_HIBERNATION_INTERVAL: '300ms',
      STREAMSPACE_IDLE_TIMEOUT: '3s',
    };
  });
  after(() => {
    server?.child.kill('SIGTERM');
  });

  async function leaderIdentity(): Promise<string | null> {
    try {
      const lease = (await custom.getNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', namespace: ns, plural: 'leases', name: 'streamspace-leader' })) as { spec: { holderIdentity?: string | null } };
      return lease.spec.holderIdentity ?? null;
    } catch {
      return null;
    }
  }

  it('keeps the session and its connection; heartbeats continue; no wrongful hibernation', async () => {
    server = await startServer(env);
    let admin = await signIn(remote(server.url), TEST_ADMIN.username, TEST_ADMIN.password);
    let api = new Api(remote(server.url), admin);
    await applyTemplates(remote(server.url), admin, [firefoxYaml()]);
    const s = await api.createSession({ template: 'firefox' });
    await api.waitPhase(s.id, 'Running');
    const c = await api.connect(s.id);
    expect((await api.heartbeat(c.connectionId)).data?.heartbeat).to.equal(true);
    const firstPid = server.child.pid!;
    await waitUntil(async () => (await leaderIdentity())?.includes(`-${firstPid}-`) ?? false, 'the first server to lead');

    // SIGKILL: no shutdown hook, no lease release, nothing flushed on purpose.
    const exited = new Promise((r) => server!.child.once('exit', r));
    server.child.kill('SIGKILL');
    await exited;

    server = await startServer(env);
    const secondPid = server.child.pid!;
    admin = await signIn(remote(server.url), TEST_ADMIN.username, TEST_ADMIN.password);
    api = new Api(remote(server.url), admin);
    // The same connection id keeps working on the new process.
    expect((await api.heartbeat(c.connectionId)).data?.heartbeat).to.equal(true);
    await waitUntil(async () => (await leaderIdentity())?.includes(`-${secondPid}-`) ?? false, 'the restarted server to take over the lease', 60_000);
    const leaderSince = Date.now();
    // Keep heartbeating while the new leader's jobs run, well past idle timeout (3 s) several times over.
    let rounds = 0;
    await waitUntil(
      async () => {
        const hb = await api.heartbeat(c.connectionId);
        expect(hb.data?.heartbeat, JSON.stringify(hb.errors)).to.equal(true);
        rounds++;
        return Date.now() > leaderSince + 4 * 3000 && rounds >= 10;
      },
      'heartbeats to flow under the new leader',
      120_000,
    );
    const after = (await api.ok<{ session: Sess & { idle: { hibernatesAt: string | null } } }>('query($id: ID!) { session(id: $id) { state phase activeConnections totalConnections idle { hibernatesAt } } }', { id: s.id })).session;
    expect(after).to.deep.include({ state: 'running', phase: 'Running', activeConnections: 1, totalConnections: 1 });
    expect(after.idle.hibernatesAt).to.equal(null);
    const open = await api.connections(s.id, true);
    expect(open.data!.sessionConnections.map((x) => [x.id, x.disconnectedAt])).to.deep.equal([[c.connectionId, null]]);

    // And the clock was not forgotten either: once the client leaves, it hibernates after its idle timeout.
    await api.disconnect(c.connectionId);
    await api.waitPhase(s.id, 'Hibernated');
  });
});
