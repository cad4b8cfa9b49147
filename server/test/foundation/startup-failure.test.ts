import { expect } from 'chai';
import { Client } from 'pg';
import { RepositoryService } from '../../src/modules/catalog/repository.service';
import { CleanupStack } from '../../src/platform/lifecycle/cleanup-stack';
import { createLogger } from '../../src/platform/logging/logger';
import { startTestApp } from '../support/app';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { createTestDatabase, getTestPostgres } from '../support/postgres';
import { waitUntil } from '../support/wait';

/** Open connections to one database (PostgreSQL's own view, so a pool that was not closed shows up). */
async function connectionsTo(databaseUrl: string): Promise<number> {
  const admin = new Client({ connectionString: (await getTestPostgres()).url });
  await admin.connect();
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    const res = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    return Number(res.rows[0].n);
  } finally {
    await admin.end();
  }
}

/** The app's cleanup stack, recording what started and what was released, failing right after the part `failAt` started. */
class FaultyStack extends CleanupStack {
  readonly started: string[] = [];
  readonly released: string[] = [];
  connectionsAtFailure = -1;

  constructor(
    private readonly failAt: string | null,
    private readonly databaseUrl: string,
  ) {
    super(createLogger('silent'));
  }

  override push(name: string, run: () => Promise<unknown> | unknown, options?: { limitMs?: number }): void {
    this.started.push(name);
    super.push(
      name,
      () => {
        this.released.push(name);
        return run();
      },
      options,
    );
  }

  override async start<T>(name: string, start: () => Promise<T> | T, release: (started: T) => Promise<unknown> | unknown, options?: { limitMs?: number }): Promise<T> {
    const started = await super.start(name, start, release, options);
    if (name === this.failAt) {
      this.connectionsAtFailure = await connectionsTo(this.databaseUrl);
      throw new Error(`injected failure after ${name}`);
    }
    return started;
  }
}

describe('start-up failure releases everything already started, newest first', function () {
  let kubeconfigPath: string;
  let namespace: string;

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    kubeconfigPath = (await getTestCluster()).kubeconfigPath;
    namespace = await createTestNamespace('startup-failure');
  });

  async function start(stack: FaultyStack, databaseUrl: string) {
    return startTestApp(
      {
        DATABASE_URL: databaseUrl,
        STREAMSPACE_CLUSTER: 'kubeconfig',
        KUBECONFIG: kubeconfigPath,
        STREAMSPACE_NAMESPACE: namespace,
        STREAMSPACE_LEADER_LEASE_DURATION: '3s',
      },
      { cleanup: stack },
    );
  }

  async function expectAllReleased(stack: FaultyStack, databaseUrl: string) {
    expect(stack.pending).to.deep.equal([]);
    expect(stack.released).to.deep.equal([...stack.started].reverse());
    expect(stack.started[0]).to.equal('database');
    // The pools (TypeORM's, the heartbeats', the pub/sub's LISTEN connection) are really closed.
    await waitUntil(async () => (await connectionsTo(databaseUrl)) === 0, 'every connection to the app database to close', 10_000);
  }

  for (const failAt of ['database', 'cluster', 'pub/sub bridge', 'settings', 'session runtime', 'jobs', 'http and websocket drain']) {
    it(`after "${failAt}" started`, async () => {
      const databaseUrl = await createTestDatabase('startup_failure');
      const stack = new FaultyStack(failAt, databaseUrl);
      const failure = await start(stack, databaseUrl).then(
        async (app) => {
          await app.stop();
          return null;
        },
        (err: Error) => err,
      );
      expect(failure?.message).to.equal(`injected failure after ${failAt}`);
      expect(stack.started.at(-1)).to.equal(failAt);
      expect(stack.connectionsAtFailure).to.be.greaterThan(0);
      if (failAt === 'jobs' || failAt === 'http and websocket drain') {
        expect(stack.started).to.include.members(['session runtime', 'heartbeat pool', 'connections', 'settings']);
      }
      await expectAllReleased(stack, databaseUrl);
    });
  }

  it('when seeding the default catalog repository throws', async () => {
    const databaseUrl = await createTestDatabase('startup_failure');
    const stack = new FaultyStack(null, databaseUrl);
    const original = Object.getOwnPropertyDescriptor(RepositoryService.prototype, 'seedDefault')!;
    RepositoryService.prototype.seedDefault = () => Promise.reject(new Error('seedDefault failed'));
    let failure: Error | null;
    try {
      failure = await start(stack, databaseUrl).then(
        async (app) => {
          await app.stop();
          return null;
        },
        (err: Error) => err,
      );
    } finally {
      Object.defineProperty(RepositoryService.prototype, 'seedDefault', original);
    }
    expect(failure?.message).to.equal('seedDefault failed');
    // The database, the cluster, the key rotation, auth cache and settings listeners, the templates' watch cache and
    // the session runtime had started.
    expect(stack.started).to.deep.equal([
      'database',
      'cluster',
      'pub/sub bridge',
      'auth cache sign-out listener',
      'signing key rotation listener',
      'auth cache access listener',
      'settings',
      'template cache',
      'session runtime',
    ]);
    await expectAllReleased(stack, databaseUrl);
  });

  it('and a clean start-up then stop releases the same stack', async () => {
    const databaseUrl = await createTestDatabase('startup_failure');
    const stack = new FaultyStack(null, databaseUrl);
    const app = await start(stack, databaseUrl);
    expect(stack.started.slice(-2)).to.deep.equal(['user access listener', 'sign-out listener']);
    await app.stop();
    await expectAllReleased(stack, databaseUrl);
  });
});
