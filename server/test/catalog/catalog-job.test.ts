import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AuditService } from '../../src/modules/audit/audit.service';
import { createCatalog, type CatalogServices } from '../../src/modules/catalog/catalog.module';
import { RepositoryEntity } from '../../src/modules/catalog/repository.entity';
import { ENTITIES } from '../../src/composition/entities';
import { openDatabase, type Database } from '../../src/platform/database/database';
import { createAppPubSub } from '../../src/platform/graphql/pubsub';
import { JobRunner, type Leadership } from '../../src/platform/jobs/job-runner';
import { createLogger } from '../../src/platform/logging/logger';
import { startTestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { waitUntil } from '../support/wait';
import { createTestDatabase } from '../support/postgres';
import { TestGitRepo, designTemplate } from './git-fixture';

/** A switchable leadership (the real LeaderElector emits the same events). */
class TestLeadership extends EventEmitter implements Leadership {
  isLeader = false;
  lead(value: boolean) {
    this.isLeader = value;
    this.emit(value ? 'startedLeading' : 'stoppedLeading');
  }
}

describe('scheduled repository sync (leader only)', function () {
  let db: Database;
  let dataDir: string;
  let catalog: CatalogServices;
  let runner: JobRunner;
  const leadership = new TestLeadership();
  const repo = new TestGitRepo('job');
  const logger = createLogger('silent');

  before(async () => {
    repo.write('templates/t/alpha/template.yaml', designTemplate('alpha')).commit('one');
    db = await openDatabase({ databaseUrl: await createTestDatabase('catalog_job'), dataDir: os.tmpdir(), migrationsRun: true, entities: ENTITIES, logger });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-catalog-job-'));
    runner = new JobRunner(leadership, logger);
    catalog = createCatalog({
      config: { gitAllowFile: true, gitTimeoutMs: 60_000, maxFileSize: 1 << 20, maxFiles: 1000, gitSshKnownHosts: '', defaultRepository: undefined },
      dataDir,
      dataSource: db.dataSource,
      logger,
      pubSub: createAppPubSub(),
      audit: new AuditService(db.dataSource),
      kube: null,
      templates: null,
      jobs: runner,
    });
  });

  after(async () => {
    await runner?.stop();
    await db?.close();
    repo.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const repos = () => db.dataSource.getRepository(RepositoryEntity);

  it('syncs only what is due: auto-sync repositories whose interval has passed', async () => {
    const due = await repos().save({ name: 'due', url: repo.url, syncInterval: '1h' });
    const manual = await repos().save({ name: 'manual', url: repo.url, autoSync: false });
    const recent = await repos().save({ name: 'recent', url: repo.url, syncInterval: '1h', lastSyncAt: new Date('2030-01-01T00:00:00Z') });
    const synced = await catalog.repositories.syncDue(new Date('2030-01-01T00:30:00Z'));
    expect(synced).to.deep.equal(['due']);
    expect((await repos().findOneByOrFail({ id: due.id })).templateCount).to.equal(1);
    expect((await repos().findOneByOrFail({ id: manual.id })).status).to.equal('Pending');
    expect((await repos().findOneByOrFail({ id: recent.id })).status).to.equal('Pending');
    // An hour after its last sync, "recent" is due as well.
    expect(await catalog.repositories.syncDue(new Date('2030-01-01T01:00:00Z'))).to.include('recent');
    await db.dataSource.query(`DELETE FROM repositories`);
  });

  it('runs only while this replica leads', async () => {
    const r = await repos().save({ name: 'scheduled', url: repo.url, syncInterval: '1m' });
    runner.start();
    expect(runner.jobStats('repository-sync')).to.include({ runs: 0 });
    expect((await repos().findOneByOrFail({ id: r.id })).status).to.equal('Pending');
    leadership.lead(true);
    await waitUntil(async () => (await repos().findOneByOrFail({ id: r.id })).status === 'Ready', 'the leader to sync the repository');
    expect((await repos().findOneByOrFail({ id: r.id })).templateCount).to.equal(1);
    await waitUntil(() => (runner.jobStats('repository-sync')?.runs ?? 0) >= 1, 'the job run to be counted');
    leadership.lead(false);
  });
});

describe('the catalog configured for the first start', function () {
  it('is added when there is no repository and synced by the job', async () => {
    const repo = new TestGitRepo('seed');
    repo.write('templates/t/seeded/template.yaml', designTemplate('seeded')).commit('seed');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-catalog-seed-'));
    const app = await startTestApp({ STREAMSPACE_GIT_ALLOW_FILE: 'true', STREAMSPACE_DATA_DIR: dataDir, STREAMSPACE_CATALOG_REPOSITORY: repo.url });
    try {
      const admin = await signInAsAdmin(app);
      const list = async () =>
        (await app.gql<{ repositories: { name: string; url: string; status: string; templateCount: number }[] }>(`{ repositories { name url status templateCount } }`, {}, admin.headers)).body.data!
          .repositories;
      expect((await list()).map((r) => r.url)).to.deep.equal([repo.url]);
      await waitUntil(async () => (await list())[0].status === 'READY', 'the scheduled job to sync the configured catalog');
      expect((await list())[0].templateCount).to.equal(1);
      // Removed by the admin, it stays removed: the seed only applies while there is no repository at all.
      const seeded = await app.services.catalog.repositories.seedDefault({ url: repo.url, branch: 'main' });
      expect(seeded).to.equal(null);
    } finally {
      await app.stop();
      repo.cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
