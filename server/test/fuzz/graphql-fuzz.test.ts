import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { buildSchema } from 'graphql';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signIn, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';
import { createTestNamespace, getTestCluster, KUBE_START_TIMEOUT_MS } from '../support/kube';
import { FuzzRunner, formatSummary, heapAfterGc, WsConnection, type FuzzStats } from './fuzz-runner';
import type { FuzzRequest, Transport } from './generator';

/**
 * Fuzzes the whole GraphQL API on the real stack (PostgreSQL, kube-apiserver with kwok nodes): requests generated
 * from schema.graphql by a seeded PRNG, sent as an anonymous caller, a user and an admin, over HTTP and graphql-ws
 * (subscriptions included). Every answer must be free of 5xx, unknown codes, masked internal errors and internal
 * text; the server must still answer a health query after every batch, and its heap must stay bounded.
 *
 * FUZZ_SEED reproduces a run (the seed is printed in the summary and in every failure); FUZZ_OPS sets the number
 * of requests (default 10,800). `npm run -w server fuzz` runs this file alone. Requests that once failed live in
 * corpus/*.json and are replayed first on every run.
 */

const OPS = Number(process.env.FUZZ_OPS ?? 10_800);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
const BATCH = 600;
const WARM_UP = 1_800;
/**
 * Heap growth allowed after GC between the end of the warm-up and the end of the run. Apollo's document store
 * (30 MiB of documents) and the graphql-ws document cache (1000 documents) fill with distinct fuzz documents
 * throughout a run: measured +33-67 MB at 10,800 requests and +102 MB at 32,400, but +5.7 MB at 32,400 with both
 * caches disabled. The bound is the caches' ceiling plus a margin: a leak beyond them of a few KB per request
 * (as the metrics' operation-name labels were) crosses it in a long run (`FUZZ_OPS=32400 npm run -w server fuzz`).
 */
const HEAP_GROWTH_BOUND = 128 * 1024 * 1024;
const CORPUS_DIR = path.join(__dirname, 'corpus');

interface CorpusEntry {
  name: string;
  description: string;
  request: FuzzRequest;
  transports?: Transport[];
}

function loadCorpus(): CorpusEntry[] {
  return fs
    .readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...(JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, f), 'utf8')) as Omit<CorpusEntry, 'name'>) }));
}

function failureReport(stats: FuzzStats, seed: number): string {
  const file = path.join(os.tmpdir(), `streamspace-fuzz-failures-${seed}.json`);
  fs.writeFileSync(file, JSON.stringify({ failures: stats.failures, serverErrorLogs: stats.serverErrorLogs }, null, 2));
  const first = stats.failures
    .slice(0, 5)
    .map((f) => `#${f.index} ${f.identity}/${f.transport}: ${f.problems.join('; ')}\n  request: ${JSON.stringify(f.request).slice(0, 600)}`);
  return [`FUZZ_SEED=${seed}: ${stats.failures.length} failing answers (all in ${file})`, ...first, ...stats.serverErrorLogs.slice(0, 5)].join('\n');
}

describe('GraphQL API fuzz (real PostgreSQL and kube-apiserver)', function () {
  let app: TestApp;
  let ns: string;
  let bootstrap: SignedIn;
  const identities: { user?: TestUser; admin?: TestUser } = {};
  const schema = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8'));

  /** Puts the fuzz user and admin back as they were (the admin may have demoted, disabled them or set their password) and signed in. */
  async function repair() {
    if ((await app.gql('{ me { id } }', {}, bootstrap.headers)).body.errors) bootstrap = await signInAsAdmin(app);
    for (const key of ['user', 'admin'] as const) {
      let who = identities[key]!;
      const repairUser = () =>
        app.gql(
          'mutation Repair($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }',
          { id: who.id, input: { role: who.role, disabled: false, quota: { maxSessions: 10, maxRunningSessions: 3, cpu: 8, memory: 16 } } },
          bootstrap.headers,
        );
      let res = await repairUser();
      if ((res.body.errors?.[0]?.extensions as { code?: string } | undefined)?.code === 'NOT_FOUND') {
        // The fuzz admin deleted this identity (deleteUser with an id it harvested): a new one takes its place.
        who = identities[key] = await createUserAndToken(app, key);
        res = await repairUser();
      }
      expect(res.body.errors, `FUZZ_SEED=${SEED}: repairing the fuzz ${key}: ${JSON.stringify(res.body.errors)}`).to.equal(undefined);
      const me = await app.gql<{ me: { role: string } }>('{ me { role } }', {}, who.headers);
      if (me.body.errors || me.body.data?.me.role !== who.role) {
        // The admin may also have set a new password (resetUserPassword): put the known one back first.
        const reset = await app.gql('mutation RepairPassword($id: ID!, $password: String) { resetUserPassword(id: $id, password: $password) { __typename } }', { id: who.id, password: who.password }, bootstrap.headers);
        expect(reset.body.errors, `FUZZ_SEED=${SEED}: resetting the fuzz ${key}'s password: ${JSON.stringify(reset.body.errors)}`).to.equal(undefined);
        Object.assign(who, await signIn(app, who.username, who.password));
      }
    }
  }

  const target = () => ({
    app,
    schema,
    namespace: ns,
    credentials: (identity: 'user' | 'admin') => identities[identity]!,
    repair,
    protectedIds: new Set([bootstrap.user.id]),
  });

  before(async function () {
    this.timeout(KUBE_START_TIMEOUT_MS);
    const cluster = await getTestCluster();
    ns = await createTestNamespace('fuzz');
    app = await startTestApp({
      STREAMSPACE_CLUSTER: 'kubeconfig',
      KUBECONFIG: cluster.kubeconfigPath,
      STREAMSPACE_NAMESPACE: ns,
      STREAMSPACE_SESSION_STARTUP_TIMEOUT: '10s',
    });
    bootstrap = await signInAsAdmin(app);
    identities.user = await createUserAndToken(app, 'user');
    identities.admin = await createUserAndToken(app, 'admin');
    // A template sessions can be created from (the generator's name pool starts with it).
    const yaml = `apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata:\n  name: fuzz-template\nspec:\n  displayName: Fuzz\n  baseImage: nginx\n  webapp:\n    port: 8080\n`;
    const applied = await app.gql('mutation Apply($yaml: String!) { applyTemplateYaml(yaml: $yaml) { name } }', { yaml }, bootstrap.headers);
    expect(applied.body.errors, JSON.stringify(applied.body.errors)).to.equal(undefined);
  });

  after(async () => {
    await app?.stop();
  });

  it('replays the regression corpus (requests that once failed) as every identity over both transports', async function () {
    this.timeout(5 * 60_000);
    const corpus = loadCorpus();
    expect(corpus.length).to.be.greaterThan(0);
    const runner = new FuzzRunner(target(), 0, { concurrency: 4, maxString: 1024 * 1024 });
    await runner.replay(corpus);
    const sent = Object.values(runner.stats.sent).reduce((a, b) => a + b, 0);
    expect(sent).to.be.greaterThanOrEqual(corpus.length * 3);
    expect(runner.stats.failures, failureReport(runner.stats, 0)).to.deep.equal([]);
    expect(runner.stats.healthFailures + runner.stats.crashes).to.equal(0);
  });

  // Found by the fuzz run (a listener-count warning): a subscription completed while it waited for an event kept its
  // topic listener and, until the socket closed, the caller's subscription slot. More completed subscriptions than
  // the per-user limit (50) on one socket must all be accepted.
  it('gives back the slot and listener of a subscription completed while it waits for an event', async function () {
    this.timeout(3 * 60_000);
    const user = identities.user!;
    const created = await app.gql<{ createSession: { id: string } }>(
      'mutation C($input: CreateSessionInput!) { createSession(input: $input) { id } }',
      { input: { template: 'fuzz-template' } },
      user.headers,
    );
    expect(created.body.errors, JSON.stringify(created.body.errors)).to.equal(undefined);
    const sessionId = created.body.data!.createSession.id;
    const waiting = [
      { query: 'subscription { mySharesChanged { kind } }' },
      { query: 'subscription S($id: ID!) { sessionSharesChanged(sessionId: $id) { kind } }', variables: { id: sessionId } },
      { query: 'subscription S($id: ID!) { connectionCountChanged(sessionId: $id) { totalConnections } }', variables: { id: sessionId } },
      { query: 'subscription S($id: ID!) { sessionUpdated(id: $id) { id } }', variables: { id: sessionId } },
      { query: 'subscription { announcementChanged }' },
    ];
    const socket = await WsConnection.open(app.wsUrl, user.accessToken);
    try {
      for (const payload of waiting) {
        for (let i = 0; i < 55; i++) {
          const { errors, closeCode } = await socket.run(payload, true, 20);
          expect(closeCode, payload.query).to.equal(null);
          expect(errors, `${payload.query} #${i}: ${JSON.stringify(errors)}`).to.deep.equal([]);
        }
      }
    } finally {
      socket.close();
    }
  });

  it(`answers ${OPS} generated requests without a crash, a 5xx, an unmasked or internal error, with bounded memory`, async function () {
    this.timeout(Math.max(10 * 60_000, OPS * 100));
    const runner = new FuzzRunner(target(), SEED, { concurrency: 6, maxString: 1024 * 1024 });
    const started = Date.now();
    let before = heapAfterGc();
    await runner.run(OPS, BATCH, (done) => {
      if (done === Math.min(WARM_UP, OPS)) before = heapAfterGc();
    });
    const after = heapAfterGc();
    const summary = formatSummary(runner.stats, SEED, { before, after }, (Date.now() - started) / 1000);
    process.stdout.write(`\n${summary}\n\n`);
    const { stats } = runner;
    const total = Object.values(stats.sent).reduce((a, b) => a + b, 0);
    expect(total).to.equal(OPS);
    for (const key of ['anonymous/http', 'anonymous/ws', 'user/http', 'user/ws', 'admin/http', 'admin/ws']) expect(stats.sent[key], key).to.be.greaterThan(0);
    expect(stats.failures, failureReport(stats, SEED)).to.deep.equal([]);
    expect(stats.crashes, failureReport(stats, SEED)).to.equal(0);
    expect(stats.healthFailures, failureReport(stats, SEED)).to.equal(0);
    expect(stats.http5xx).to.equal(0);
    expect(stats.internalErrors).to.equal(0);
    expect(after.heapUsed - before.heapUsed, `FUZZ_SEED=${SEED}: heap grew from ${before.heapUsed} to ${after.heapUsed} bytes`).to.be.lessThan(HEAP_GROWTH_BOUND);
  });
});
