import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { Api } from '../connections/support';
import { designTemplate, TestGitRepo } from '../catalog/git-fixture';
import { check, type ScenarioResult } from './fault-harness';

export interface FullDiskSize {
  /** Templates in the repository before the disk fills. */
  templates: number;
  /** Templates the commit that no longer fits adds. */
  added: number;
  /** Size of the tmpfs holding the data directory. */
  tmpfsMb: number;
}

interface Repo {
  status: string;
  syncError: string | null;
  templateCount: number;
  lastCommit: string | null;
}

const REPO_FIELDS = 'status syncError templateCount lastCommit';

/**
 * Mounts a small tmpfs (root only; the machines and CI run as root) as the server's data directory, so the
 * catalog git cache lives on it.
 */
function mountTmpfs(sizeMb: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the full-disk scenario needs root to mount a ${sizeMb} MB tmpfs: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`, { cause: err });
  }
  return dir;
}

function unmount(dir: string) {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes until the file system answers ENOSPC; returns the filler's path. */
function fillUp(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 1_000_000; i++) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // The last few bytes too.
    for (const size of [4096, 512, 1]) {
      try {
        for (let i = 0; i < 100_000; i++) fs.writeSync(fd, Buffer.alloc(size, 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/**
 * Scenario 5: the disk holding the catalog git cache fills up. The next sync fails with an error that says the
 * disk is full, the catalog keeps the last good templates, and once space is freed a sync succeeds.
 */
export async function fullDisk(size: FullDiskSize): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario: '5 full disk for the catalog cache', size: `${size.templates} templates + ${size.added} new, ${size.tmpfsMb} MB tmpfs`, figures: {}, checks: [] };
  const dataDir = mountTmpfs(size.tmpfsMb);
  const repo = new TestGitRepo('full-disk');
  let app: TestApp | undefined;
  try {
    for (let i = 0; i < size.templates; i++) repo.write(`templates/tools/app-${i}/template.yaml`, designTemplate(`app-${i}`, { description: `App ${i}. ${'x'.repeat(2000)}` }));
    const first = repo.commit('first catalog');
    app = await startTestApp({ STREAMSPACE_DATA_DIR: dataDir, STREAMSPACE_GIT_ALLOW_FILE: 'true' });
    const admin = await signInAsAdmin(app);
    const api = new Api(app, admin);
    const { addRepository } = await api.ok<{ addRepository: { id: string } }>('mutation($i: AddRepositoryInput!) { addRepository(input: $i) { id } }', {
      i: { name: 'full-disk', url: repo.url, path: 'templates', autoSync: false },
    });
    const sync = async () => (await api.ok<{ syncRepository: Repo }>(`mutation($id: ID!) { syncRepository(id: $id) { ${REPO_FIELDS} } }`, { id: addRepository.id })).syncRepository;
    const catalogCount = async () => (await api.ok<{ catalogTemplates: { totalCount: number } }>('{ catalogTemplates(first: 1) { totalCount } }')).catalogTemplates.totalCount;
    const good = await sync();
    check(result, 'the first sync fits', good.status === 'READY' && good.templateCount === size.templates && good.lastCommit === first, good);

    const filler = fillUp(dataDir);
    result.figures['filler MB'] = Math.round(fs.statSync(filler).size / 1e5) / 10;
    for (let i = 0; i < size.added; i++) repo.write(`templates/tools/new-${i}/template.yaml`, designTemplate(`new-${i}`, { description: `New ${i}. ${'y'.repeat(2000)}` }));
    repo.write('blob.bin', Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 7919) % 251)));
    const second = repo.commit('does not fit');
    const failed = await sync();
    result.figures['sync error'] = (failed.syncError ?? '').split('\n')[0].slice(0, 80);
    check(result, 'the sync fails', failed.status === 'FAILED', failed);
    check(result, 'the error says the disk is full', /no space left|disk is full|out of disk space/i.test(failed.syncError ?? ''), failed.syncError);
    const kept = await catalogCount();
    result.figures['templates kept'] = kept;
    check(result, 'the last good catalog stays', kept === size.templates, { kept });

    fs.rmSync(filler);
    const recovered = await sync();
    result.figures['templates after recovery'] = recovered.templateCount;
    check(result, 'a sync succeeds once space is freed', recovered.status === 'READY' && recovered.lastCommit === second && recovered.templateCount === size.templates + size.added, recovered);
    return result;
  } finally {
    await app?.stop();
    repo.cleanup();
    unmount(dataDir);
  }
}
