import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENTITIES } from '../../src/composition/entities';
import { openDatabase, type Database } from '../../src/platform/database/database';
import { createLogger } from '../../src/platform/logging/logger';
import { CatalogSyncService } from '../../src/modules/catalog/catalog-sync.service';
import { RepositoryEntity } from '../../src/modules/catalog/repository.entity';
import { createTestDatabase } from '../support/postgres';
import { STREAMSPACE_TEMPLATES_FIXTURE, TestGitRepo, designTemplate } from './git-fixture';

/**
 * The sync engine against a real PostgreSQL and real git repositories (file:// URLs): the 195-template fixture, no-op resync, one-file changes, hostile input.
 */

interface FixtureFile {
  path: string;
  name: string;
  category: string;
}

/** Reads the fixture independently of the code under test: name and category of every template file. */
function fixtureFiles(): FixtureFile[] {
  const out: FixtureFile[] = [];
  for (const dir of fs.readdirSync(STREAMSPACE_TEMPLATES_FIXTURE)) {
    const full = path.join(STREAMSPACE_TEMPLATES_FIXTURE, dir);
    if (!fs.statSync(full).isDirectory() || dir.startsWith('.')) continue;
    for (const file of fs.readdirSync(full)) {
      if (!file.endsWith('.yaml')) continue;
      const doc = parse(fs.readFileSync(path.join(full, file), 'utf8')) as { metadata: { name: string }; spec: { category: string } };
      out.push({ path: `${dir}/${file}`, name: doc.metadata.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-'), category: doc.spec.category });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

describe('catalog sync (real git, real PostgreSQL)', function () {
  let db: Database;
  let cacheDir: string;
  let sync: CatalogSyncService;
  const repos: TestGitRepo[] = [];

  before(async () => {
    const databaseUrl = await createTestDatabase('catalog_sync');
    const logger = createLogger('silent');
    db = await openDatabase({ databaseUrl, dataDir: os.tmpdir(), migrationsRun: true, entities: ENTITIES, logger });
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-catalog-cache-'));
    sync = new CatalogSyncService({
      dataSource: db.dataSource,
      logger,
      cacheDir,
      gitTimeoutMs: 60_000,
      allowFile: true,
      maxFileSize: 64 * 1024,
      maxFiles: 1000,
      credentials: async () => ({ type: 'none' }),
    });
  });

  after(async () => {
    await db?.close();
    for (const r of repos) r.cleanup();
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  async function addRepository(name: string, repo: TestGitRepo, extra: Partial<RepositoryEntity> = {}): Promise<RepositoryEntity> {
    return db.dataSource.getRepository(RepositoryEntity).save({ name, url: repo.url, branch: 'main', path: '', ...extra });
  }
  const rowsOf = (repositoryId: string) =>
    db.dataSource.query(`SELECT name, category, source_path, app_type, manifest, source_commit FROM catalog_templates WHERE repository_id = $1 ORDER BY name`, [repositoryId]);
  const reload = (id: string) => db.dataSource.getRepository(RepositoryEntity).findOneByOrFail({ id });

  describe('the 195-template StreamSpace catalog', () => {
    const repo = new TestGitRepo('fixture');
    repos.push(repo);
    let entity: RepositoryEntity;
    const files = fixtureFiles();

    before(async () => {
      repo.copyFrom(STREAMSPACE_TEMPLATES_FIXTURE).commit('import');
      entity = await addRepository('official', repo);
    });

    it('syncs every template, normalized, with duplicates reported', async () => {
      expect(files).to.have.length(195);
      const outcome = await sync.sync(entity.id);
      expect(outcome.mode).to.equal('full');
      expect(outcome.filesRead).to.equal(195);

      // Winners: the smallest path per name; every other file with that name is a reported duplicate.
      const winners = new Map<string, FixtureFile>();
      for (const f of files) if (!winners.has(f.name)) winners.set(f.name, f);
      const losers = files.filter((f) => winners.get(f.name) !== f);
      expect(losers.length).to.be.greaterThan(0);

      const rows = await rowsOf(entity.id);
      expect(rows.map((r: { name: string }) => r.name)).to.deep.equal([...winners.keys()].sort());
      for (const row of rows) expect(row.source_path).to.equal(winners.get(row.name)!.path);

      const stored = await reload(entity.id);
      expect(stored.status).to.equal('Ready');
      expect(stored.templateCount).to.equal(winners.size);
      expect(stored.lastCommit).to.equal(outcome.commit);
      const duplicateErrors = stored.fileErrors.filter((e) => e.template);
      expect(duplicateErrors.map((e) => e.path).sort()).to.deep.equal(losers.map((l) => l.path).sort());
      for (const e of duplicateErrors) expect(e.message).to.contain(winners.get(e.template!)!.path);
      // Nothing else in the fixture is an error.
      expect(stored.fileErrors.filter((e) => !e.template)).to.deep.equal([]);
    });

    it('normalizes KasmVNC templates to VNC on port 3000 and keeps resources', async () => {
      const rows = await rowsOf(entity.id);
      const hedgedoc = rows.find((r: { name: string }) => r.name === 'hedgedoc');
      expect(hedgedoc.manifest.apiVersion).to.equal('stream.streamspace.io/v1alpha1');
      expect(hedgedoc.manifest.spec.vnc).to.include({ port: 3000 });
      expect(hedgedoc.app_type).to.equal('desktop');
      expect(hedgedoc.manifest.spec.defaultResources.requests).to.include({ memory: '3Gi', cpu: '1500m' });
      for (const row of rows) {
        expect(row.manifest.kind).to.equal('Template');
        expect(row.manifest.spec.baseImage, row.name).to.be.a('string').and.not.empty;
        if (row.app_type === 'desktop') expect(row.manifest.spec.vnc?.port, row.name).to.be.a('number');
      }
    });

    it('counts templates per category', async () => {
      const winners = new Map<string, FixtureFile>();
      for (const f of files) if (!winners.has(f.name)) winners.set(f.name, f);
      const expected: Record<string, number> = {};
      for (const f of winners.values()) expected[f.category.trim()] = (expected[f.category.trim()] ?? 0) + 1;
      const rows: { category: string; count: number }[] = await db.dataSource.query(
        `SELECT category, count(*)::int AS count FROM catalog_templates WHERE repository_id = $1 GROUP BY category`,
        [entity.id],
      );
      expect(Object.fromEntries(rows.map((r) => [r.category, r.count]))).to.deep.equal(expected);
    });

    it('parses nothing when the branch has no new commit', async () => {
      const before = await reload(entity.id);
      const outcome = await sync.sync(entity.id);
      expect(outcome.mode).to.equal('unchanged');
      expect(outcome.filesRead).to.equal(0);
      const after = await reload(entity.id);
      expect(after.templateCount).to.equal(before.templateCount);
      expect(after.fileErrors).to.deep.equal(before.fileErrors);
    });

    it('re-reads only the file a new commit changed', async () => {
      const before = await rowsOf(entity.id);
      const file = 'productivity/hedgedoc.yaml';
      repo.write(file, repo.read(file).replace('displayName: Hedgedoc', 'displayName: HedgeDoc Notes'));
      const commit = repo.commit('rename hedgedoc');
      const outcome = await sync.sync(entity.id);
      expect(outcome).to.include({ mode: 'incremental', filesRead: 1, commit });
      const after = await rowsOf(entity.id);
      expect(after).to.have.length(before.length);
      const hedgedoc = after.find((r: { name: string }) => r.name === 'hedgedoc');
      expect(hedgedoc.manifest.spec.displayName).to.equal('HedgeDoc Notes');
      expect(hedgedoc.source_commit).to.equal(commit);
      // Rows of files that did not change were not rewritten.
      const untouched = after.find((r: { name: string }) => r.name === 'firefox');
      expect(untouched.source_commit).to.not.equal(commit);
      expect((await reload(entity.id)).fileErrors.filter((e) => e.template)).to.have.length(before.length ? 8 : 0);
    });

    it('promotes a duplicate when the file that won is deleted, and removes deleted templates', async () => {
      const stored = await reload(entity.id);
      const dup = stored.fileErrors.find((e) => e.template === 'gimp')!;
      const winnerPath = (await rowsOf(entity.id)).find((r: { name: string }) => r.name === 'gimp').source_path;
      repo.remove(winnerPath).remove('productivity/zotero.yaml');
      repo.commit('remove one gimp and zotero');
      const outcome = await sync.sync(entity.id);
      expect(outcome.mode).to.equal('incremental');
      expect(outcome.filesRead).to.equal(3); // two deleted files and the duplicate that now wins
      const rows = await rowsOf(entity.id);
      expect(rows.find((r: { name: string }) => r.name === 'gimp').source_path).to.equal(dup.path);
      expect(rows.find((r: { name: string }) => r.name === 'zotero')).to.equal(undefined);
      const after = await reload(entity.id);
      expect(after.fileErrors.find((e) => e.template === 'gimp')).to.equal(undefined);
      expect(after.templateCount).to.equal(rows.length);
    });

    it('keeps the last good catalog when a sync fails', async () => {
      const before = await rowsOf(entity.id);
      await db.dataSource.getRepository(RepositoryEntity).update({ id: entity.id }, { branch: 'no-such-branch' });
      let failure: Error | undefined;
      await sync.sync(entity.id).catch((err: Error) => (failure = err));
      expect(failure?.message).to.match(/fetch/);
      const stored = await reload(entity.id);
      expect(stored.status).to.equal('Failed');
      expect(stored.syncError).to.match(/no-such-branch|couldn't find remote ref/);
      expect(await rowsOf(entity.id)).to.deep.equal(before);
      await db.dataSource.getRepository(RepositoryEntity).update({ id: entity.id }, { branch: 'main' });
      expect((await sync.sync(entity.id)).mode).to.equal('unchanged');
      expect((await reload(entity.id)).status).to.equal('Ready');
    });
  });

  describe('a hostile repository', () => {
    const repo = new TestGitRepo('hostile');
    repos.push(repo);
    let entity: RepositoryEntity;
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);

    before(async () => {
      repo
        .write('templates/tools/good-one/template.yaml', designTemplate('good-one'))
        .write('templates/tools/good-one/icon.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        .write('templates/tools/good-one/README.md', '# Good one\n')
        .write('templates/tools/good-two/template.yaml', designTemplate('good-two'))
        .write('templates/tools/bad-yaml/template.yaml', 'apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata: {name: [unclosed\n')
        .write('templates/tools/missing-fields/template.yaml', 'apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata:\n  name: missing-fields\nspec: {}\n')
        .write('templates/tools/oversized/template.yaml', designTemplate('oversized') + `# ${'x'.repeat(70 * 1024)}\n`)
        .write('templates/tools/latin1/template.yaml', Buffer.concat([Buffer.from(designTemplate('latin1')), Buffer.from([0x23, 0x20, 0xe9, 0xe8, 0x0a])]))
        .write('templates/tools/bomb/template.yaml', bomb.join('\n') + '\n')
        .symlink('/etc/passwd', 'templates/tools/link/template.yaml')
        .symlink('../../../../../etc', 'templates/escape')
        .write('templates/tools/dupe/template.yaml', designTemplate('good-two'))
        .write('templates/tools/bad-readme/template.yaml', designTemplate('bad-readme'))
        .write('templates/tools/bad-readme/README.md', Buffer.from([0xff, 0xfe, 0x00]));
      repo.commit('hostile');
      entity = await addRepository('hostile', repo);
    });

    it('keeps the good templates and records one error per bad file', async () => {
      const outcome = await sync.sync(entity.id);
      const rows = await rowsOf(entity.id);
      expect(rows.map((r: { name: string }) => r.name)).to.deep.equal(['bad-readme', 'good-one', 'good-two']);
      const stored = await reload(entity.id);
      expect(stored.status).to.equal('Ready');
      const byPath = Object.fromEntries(stored.fileErrors.map((e) => [e.path, e.message]));
      expect(byPath['templates/tools/bad-yaml/template.yaml']).to.match(/invalid YAML/);
      expect(byPath['templates/tools/missing-fields/template.yaml']).to.match(/displayName|baseImage/);
      expect(byPath['templates/tools/oversized/template.yaml']).to.match(/larger than the limit/);
      expect(byPath['templates/tools/latin1/template.yaml']).to.match(/not UTF-8/);
      expect(byPath['templates/tools/bomb/template.yaml']).to.match(/alias|resource exhaustion/i);
      expect(byPath['templates/tools/link/template.yaml']).to.match(/symbolic link/);
      expect(byPath['templates/tools/good-two/template.yaml'] ?? byPath['templates/tools/dupe/template.yaml']).to.match(/duplicate template name "good-two"/);
      expect(byPath['templates/tools/bad-readme/README.md']).to.match(/not UTF-8/);
      expect(outcome.fileErrors).to.have.length(stored.fileErrors.length);
      // The symlinked directory is a single tree entry: nothing outside the repository was read.
      expect(JSON.stringify(stored.fileErrors)).to.not.contain('root:');
      // Icons and READMEs of good templates are stored for the API.
      const assets = await db.dataSource.query(
        `SELECT a.kind, a.content_type FROM catalog_template_assets a JOIN catalog_templates t ON t.id = a.catalog_template_id WHERE t.name = 'good-one' ORDER BY a.kind`,
      );
      expect(assets).to.deep.equal([
        { kind: 'icon', content_type: 'image/png' },
        { kind: 'readme', content_type: 'text/markdown; charset=utf-8' },
      ]);
    });

    it('leaves the other repositories of the catalog intact', async () => {
      const official = await db.dataSource.query(`SELECT count(*)::int AS n FROM catalog_templates t JOIN repositories r ON r.id = t.repository_id WHERE r.name = 'official'`);
      expect(official[0].n).to.be.greaterThan(180);
    });

    it('skips files beyond the file limit with an error each', async () => {
      const small = new CatalogSyncService({ ...(sync as unknown as { options: ConstructorParameters<typeof CatalogSyncService>[0] }).options, maxFiles: 3 });
      const r = new TestGitRepo('many');
      repos.push(r);
      for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) r.write(`templates/t/${n}/template.yaml`, designTemplate(n));
      r.commit('many');
      const e = await addRepository('many', r);
      await small.sync(e.id);
      expect((await rowsOf(e.id)).map((x: { name: string }) => x.name)).to.deep.equal(['a1', 'a2', 'a3']);
      const stored = await reload(e.id);
      expect(stored.fileErrors.map((x) => x.path)).to.deep.equal(['templates/t/a4/template.yaml', 'templates/t/a5/template.yaml']);
      expect(stored.fileErrors[0].message).to.match(/too many template files/);
    });
  });
});
