/**
 * Catalog sync benchmark: cold and warm (unchanged) syncs of the real 195-template catalog and
 * of a generated 10,000-template repository, with peak memory. Real git (file:// URLs) and a real
 * PostgreSQL (embedded). "Transport excluded" times are measured after the mirror already holds the
 * commit, so they cover listing, reading, parsing, validating and the database transaction.
 *
 * Targets: fixture cold < 2 s, unchanged resync < 200 ms, 10,000 templates < 20 s.
 * Run: npm run bench (all benches) or node -r @swc-node/register bench/catalog-sync.bench.ts
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogSyncService } from '../src/modules/catalog/catalog-sync.service';
import { GitCache } from '../src/modules/catalog/git-cache';
import { RepositoryEntity } from '../src/modules/catalog/repository.entity';
import { ENTITIES } from '../src/composition/entities';
import { openDatabase } from '../src/platform/database/database';
import { startPostgres } from '../src/platform/database/postgres-server';
import { createLogger } from '../src/platform/logging/logger';
import { FIXTURE_DIR } from '../test/templates/template-fixtures';
import { BenchReport, fmtMs } from './support/report';

const FIXTURE = FIXTURE_DIR;
const GENERATED = Number(process.env.BENCH_CATALOG_TEMPLATES ?? 10_000);
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@invalid', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

function git(dir: string, ...args: string[]) {
  execFileSync('git', args, { cwd: dir, env: GIT_ENV, stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 28 });
}

function makeRepo(root: string, name: string, fill: (dir: string) => void): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch=main');
  fill(dir);
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', 'bench');
  return dir;
}

const CATEGORIES = ['Browsers', 'Development', 'Productivity', 'Design', 'Media', 'Gaming', 'Office', 'Science', 'Security', 'Network'];

function generate(dir: string, count: number) {
  for (let i = 0; i < count; i++) {
    const category = CATEGORIES[i % CATEGORIES.length];
    const name = `app-${String(i).padStart(5, '0')}`;
    const d = path.join(dir, 'templates', category.toLowerCase(), name);
    fs.mkdirSync(d, { recursive: true });
    const desktop = i % 2 === 0;
    fs.writeFileSync(
      path.join(d, 'template.yaml'),
      [
        'apiVersion: stream.streamspace.io/v1alpha1',
        'kind: Template',
        'metadata:',
        `  name: ${name}`,
        'spec:',
        `  displayName: "App ${i}"`,
        `  description: "Generated application number ${i} for the catalog benchmark, in ${category}."`,
        `  category: ${category}`,
        `  tags: [bench, ${category.toLowerCase()}, tag-${i % 97}]`,
        `  baseImage: registry.example.com/bench/${name}:1.${i % 10}`,
        ...(desktop ? ['  appType: desktop', '  vnc:', '    port: 3000', '    protocol: http'] : ['  appType: webapp', '  webapp:', '    port: 8080']),
        '  defaultResources:',
        '    requests: {cpu: 500m, memory: 1Gi}',
        '    limits: {memory: 2Gi}',
        '',
      ].join('\n'),
    );
    if (i % 10 === 0) fs.writeFileSync(path.join(d, 'README.md'), `# App ${i}\n\nGenerated.\n`);
  }
}

/** Peak RSS and heap while `fn` runs (sampled every 5 ms, plus the process's max RSS). */
async function measure<T>(fn: () => Promise<T>): Promise<{ ms: number; peakHeapMb: number; peakRssMb: number; result: T }> {
  if (global.gc) global.gc();
  let peakHeap = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 5);
  const start = process.hrtime.bigint();
  try {
    const result = await fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
    return { ms, peakHeapMb: peakHeap / 2 ** 20, peakRssMb: peakRss / 2 ** 20, result };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-bench-catalog-'));
  const pg = await startPostgres({ dir: path.join(root, 'pg'), persistent: false });
  const logger = createLogger('silent');
  const db = await openDatabase({ databaseUrl: pg.url, dataDir: root, migrationsRun: true, entities: ENTITIES, logger });
  const cacheDir = path.join(root, 'cache');
  const sync = new CatalogSyncService({
    dataSource: db.dataSource,
    logger,
    cacheDir,
    gitTimeoutMs: 300_000,
    allowFile: true,
    maxFileSize: 1 << 20,
    maxFiles: 20_000,
    credentials: async () => ({ type: 'none' }),
  });
  const lines: string[] = [];
  const figures = new BenchReport();
  const report = (label: string, m: { ms: number; peakHeapMb: number; peakRssMb: number }, target?: number, extra = '') => {
    const verdict = target === undefined ? '' : m.ms < target ? `  (target < ${target} ms: ok)` : `  (target < ${target} ms: MISSED)`;
    const line = `${label.padEnd(46)} ${m.ms.toFixed(0).padStart(7)} ms   peak heap ${m.peakHeapMb.toFixed(0).padStart(4)} MiB   peak RSS ${m.peakRssMb.toFixed(0).padStart(4)} MiB${extra}${verdict}`;
    lines.push(line);
    console.log(line);
    if (target !== undefined) {
      figures.add({ figure: `catalog ${label}`, goal: `< ${target.toLocaleString('en-US')} ms`, value: `${fmtMs(m.ms)}, peak RSS ${m.peakRssMb.toFixed(0)} MiB`, met: m.ms < target });
    }
  };

  try {
    const cases: { label: string; dir: string; coldTarget: number; warmTarget: number; changeFile: string }[] = [];
    const fixture = makeRepo(root, 'fixture', (d) => fs.cpSync(FIXTURE, d, { recursive: true }));
    cases.push({ label: 'fixture (195 files)', dir: fixture, coldTarget: 2000, warmTarget: 200, changeFile: 'productivity/hedgedoc.yaml' });
    const t0 = Date.now();
    const generated = makeRepo(root, 'generated', (d) => generate(d, GENERATED));
    console.log(`(generated and committed ${GENERATED} templates in ${Date.now() - t0} ms; not part of the measurements)`);
    cases.push({ label: `generated (${GENERATED} templates)`, dir: generated, coldTarget: 20_000, warmTarget: 200, changeFile: 'templates/browsers/app-00000/template.yaml' });

    for (const c of cases) {
      for (const transport of [true, false]) {
        const repo = await db.dataSource.getRepository(RepositoryEntity).save({ name: `${path.basename(c.dir)}-${transport ? 't' : 'n'}`, url: `file://${c.dir}`, branch: 'main', path: '' });
        if (!transport) {
          // Pre-fetch so the measured sync finds the commit already in its mirror.
          await new GitCache(sync.cacheDirOf(repo.id), { timeoutMs: 300_000, allowFile: true }).fetch(repo.url, 'main', { type: 'none' });
        }
        const cold = await measure(() => sync.sync(repo.id));
        report(`${c.label}: cold sync${transport ? ' incl. git clone' : ' (transport excluded)'}`, cold, transport ? undefined : c.coldTarget, `   ${cold.result.templateCount} templates, ${cold.result.filesRead} files read`);
        if (!transport) {
          const warm = await measure(() => sync.sync(repo.id));
          report(`${c.label}: unchanged resync (incl. git fetch)`, warm, undefined, `   mode ${warm.result.mode}, ${warm.result.filesRead} files read`);
          const noTransport = { ...warm, ms: warm.result.totalMs - warm.result.fetchMs };
          report(`${c.label}: unchanged resync (transport excluded)`, noTransport, c.warmTarget, `   git fetch took ${warm.result.fetchMs.toFixed(0)} ms`);
          // One changed file: only that file is read again.
          const file = path.join(c.dir, c.changeFile);
          fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/description: "?/, (m) => `${m}Changed. `));
          git(c.dir, 'commit', '--quiet', '-am', 'change one file');
          const incremental = await measure(() => sync.sync(repo.id));
          report(`${c.label}: one changed file (incl. git fetch)`, incremental, undefined, `   mode ${incremental.result.mode}, ${incremental.result.filesRead} files read`);
        }
      }
    }
  } finally {
    await db.close();
    await pg.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`max RSS of the benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  figures.print();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
