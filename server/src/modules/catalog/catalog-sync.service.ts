import path from 'node:path';
import fs from 'node:fs';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../platform/logging/logger';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import { classifyPath, iconContentType, isSafeRepoPath, parseManifest, relativeToPrefix, type ParsedCatalogTemplate } from './catalog-layout';
import { GitCache, type GitCredentials, type TreeEntry } from './git-cache';
import { redactSecrets } from './git-url';
import { pinnedKnownHosts } from './repository-credentials';
import { RepositoryEntity, type FileError } from './repository.entity';

/**
 * Syncs one repository's templates into catalog_templates.
 *
 * 1. fetch the branch into the git cache (GitCache, a bare clone); the same commit as last time ends here;
 * 2. list the commit's tree; on a first sync (or when the last commit is gone) every template file is
 *    read, otherwise only the files `git diff --name-status <last> <head>` names (plus an icon's or
 *    README's template, and files that lost a duplicate-name contest to a file that changed);
 * 3. every bad file (unsafe path, symlink, submodule, too large, too many, not UTF-8, bad YAML, alias
 *    bomb, invalid Template, duplicate name) is skipped with an error recorded on the repository;
 * 4. the changes are written in ONE transaction together with the new commit, so a sync that fails
 *    anywhere leaves the last good catalog (and its commit) as they were.
 */

export const SYNC_PROGRESS_TOPIC = 'CATALOG_SYNC_PROGRESS';

export type SyncPhase = 'FETCHING' | 'PARSING' | 'SAVING' | 'READY' | 'FAILED';

export interface SyncProgressEvent {
  repositoryId: string;
  repositoryName: string;
  phase: SyncPhase;
  message: string;
  filesTotal: number;
  filesDone: number;
  templateCount: number | null;
  commit: string | null;
}

export interface SyncOutcome {
  repositoryId: string;
  commit: string;
  mode: 'unchanged' | 'incremental' | 'full';
  /** Template files read and parsed in this sync (0 when nothing changed). */
  filesRead: number;
  templateCount: number;
  fileErrors: FileError[];
  /** Time spent in `git fetch` (the transport). */
  fetchMs: number;
  /** Time of the whole sync, fetch included. */
  totalMs: number;
}

export interface CatalogSyncOptions {
  dataSource: DataSource;
  logger: Logger;
  pubSub?: AppPubSub;
  /** Git caches (bare clones) live in `<cacheDir>/<repository id>`. */
  cacheDir: string;
  gitTimeoutMs: number;
  allowFile: boolean;
  maxFileSize: number;
  maxFiles: number;
  /** Resolves the repository's credentials (from its Kubernetes Secret). */
  credentials: (repo: RepositoryEntity) => Promise<GitCredentials>;
  /** Platform-wide pinned ssh host keys (STREAMSPACE_GIT_SSH_KNOWN_HOSTS), '' when none. */
  platformKnownHosts?: string;
  /** Told the outcome of every sync (metrics). */
  onSynced?: (outcome: 'success' | 'failure') => void;
}

/** Stored errors per repository are capped; the last entry then says how many were left out. */
export const MAX_STORED_FILE_ERRORS = 1000;
const BLOB_BATCH = 2000;
const INSERT_BATCH = 500;

interface Candidate {
  path: string;
  template: ParsedCatalogTemplate;
  icon?: { path: string; oid: string; contentType: string; data: Buffer };
  readme?: { path: string; oid: string; data: Buffer };
}

class BaseCommitMoved extends Error {}

export class CatalogSyncService {
  private readonly inflight = new Map<string, Promise<SyncOutcome>>();

  constructor(private readonly options: CatalogSyncOptions) {}

  cacheDirOf(repositoryId: string): string {
    return path.join(this.options.cacheDir, repositoryId);
  }

  /** Syncs now; a sync of the same repository already running in this process is joined, not repeated. */
  sync(repositoryId: string): Promise<SyncOutcome> {
    let running = this.inflight.get(repositoryId);
    if (!running) {
      running = this.run(repositoryId).finally(() => this.inflight.delete(repositoryId));
      this.inflight.set(repositoryId, running);
    }
    return running;
  }

  isSyncing(repositoryId: string): boolean {
    return this.inflight.has(repositoryId);
  }

  /** Drops the git cache (the URL or branch changed, or the repository was removed). */
  forgetCache(repositoryId: string): void {
    fs.rmSync(this.cacheDirOf(repositoryId), { recursive: true, force: true });
  }

  private async run(repositoryId: string): Promise<SyncOutcome> {
    const repos = this.options.dataSource.getRepository(RepositoryEntity);
    const repo = await repos.findOneByOrFail({ id: repositoryId });
    const progress = (phase: SyncPhase, message: string, extra: Partial<SyncProgressEvent> = {}) =>
      this.publish({ repositoryId, repositoryName: repo.name, phase, message, filesTotal: 0, filesDone: 0, templateCount: null, commit: null, ...extra });
    let secrets: string[] = [];
    const started = performance.now();
    try {
      await repos.update({ id: repositoryId }, { status: 'Syncing' });
      progress('FETCHING', `Fetching ${repo.branch}`);
      const creds = await this.options.credentials(repo);
      secrets = credentialValues(creds);
      const git = new GitCache(this.cacheDirOf(repositoryId), { timeoutMs: this.options.gitTimeoutMs, allowFile: this.options.allowFile });
      const fetchStart = performance.now();
      // An ssh fetch trusts only these host keys; none pinned, or a different key, fails here and the last good catalog stays.
      const head = await git.fetch(repo.url, repo.branch, creds, pinnedKnownHosts(repo, creds, this.options.platformKnownHosts ?? ''));
      const fetchMs = performance.now() - fetchStart;

      let outcome: SyncOutcome;
      try {
        outcome = await this.apply(repo, git, head, false, progress);
      } catch (err) {
        if (!(err instanceof BaseCommitMoved)) throw err;
        // Another replica synced meanwhile: start over from what it stored.
        const fresh = await repos.findOneByOrFail({ id: repositoryId });
        outcome = await this.apply(fresh, git, head, false, progress);
      }
      outcome.fetchMs = fetchMs;
      outcome.totalMs = performance.now() - started;
      progress('READY', outcome.mode === 'unchanged' ? 'Already up to date' : `Synced ${outcome.templateCount} templates`, {
        templateCount: outcome.templateCount,
        commit: head,
        filesDone: outcome.filesRead,
        filesTotal: outcome.filesRead,
      });
      this.options.logger.info(
        {
          repository: repo.name,
          commit: head,
          mode: outcome.mode,
          filesRead: outcome.filesRead,
          templates: outcome.templateCount,
          fileErrors: outcome.fileErrors.length,
          fetchMs: Math.round(fetchMs),
          totalMs: Math.round(outcome.totalMs),
        },
        'catalog repository synced',
      );
      this.options.onSynced?.('success');
      return outcome;
    } catch (err) {
      this.options.onSynced?.('failure');
      const message = redactSecrets((err as Error).message ?? String(err), secrets).slice(0, 32_000);
      this.options.logger.warn({ repository: repo.name, error: message }, 'catalog repository sync failed; the last good catalog stays');
      await repos.update({ id: repositoryId }, { status: 'Failed', syncError: message, lastSyncAt: new Date() }).catch(() => undefined);
      progress('FAILED', message);
      throw new CatalogSyncError(message);
    }
  }

  private async apply(
    repo: RepositoryEntity,
    git: GitCache,
    head: string,
    forceFull: boolean,
    progress: (phase: SyncPhase, message: string, extra?: Partial<SyncProgressEvent>) => void,
  ): Promise<SyncOutcome> {
    const ds = this.options.dataSource;
    const base = repo.lastCommit;
    if (!forceFull && base === head) {
      await ds.query(`UPDATE repositories SET status = 'Ready', last_sync_at = now(), sync_error = NULL, updated_at = now() WHERE id = $1`, [repo.id]);
      return { repositoryId: repo.id, commit: head, mode: 'unchanged', filesRead: 0, templateCount: repo.templateCount, fileErrors: repo.fileErrors, fetchMs: 0, totalMs: 0 };
    }

    const tree = new Map<string, TreeEntry>();
    const manifests: { path: string; dir: string; folderCategory: string; layout: 'design' | 'flat' }[] = [];
    const dirAssets = new Map<string, { icon?: TreeEntry; readme?: TreeEntry }>();
    for (const entry of await git.listTree(head)) {
      const rel = relativeToPrefix(entry.path, repo.path);
      if (rel === null) continue;
      tree.set(entry.path, entry);
      const role = classifyPath(rel);
      if (role.role === 'manifest') manifests.push({ path: entry.path, dir: role.dir, folderCategory: role.folderCategory, layout: role.layout });
      else if (role.role === 'icon' || role.role === 'readme') {
        const assets = dirAssets.get(role.dir) ?? {};
        if (role.role === 'icon' && !assets.icon) assets.icon = entry;
        if (role.role === 'readme') assets.readme = entry;
        dirAssets.set(role.dir, assets);
      }
    }
    manifests.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const manifestByPath = new Map(manifests.map((m) => [m.path, m]));
    const manifestByDir = new Map(manifests.filter((m) => m.layout === 'design').map((m) => [m.dir, m.path]));
    const overLimit = new Set(manifests.slice(this.options.maxFiles).map((m) => m.path));

    let full = forceFull || !base || !(await git.hasCommit(base)) || overLimit.size > 0;
    const affected = new Set<string>();
    if (!full) {
      for (const change of await git.diff(base!, head)) {
        const rel = relativeToPrefix(change.path, repo.path);
        if (rel === null) continue;
        const role = classifyPath(rel);
        if (role.role === 'manifest') affected.add(change.path);
        else if (role.role === 'icon' || role.role === 'readme') {
          const owner = manifestByDir.get(role.dir);
          if (owner) affected.add(owner);
        }
      }
      // A repository path that no longer matches the stored rows (e.g. `path` changed) needs a full read.
      if (repo.templateCount > 0 && manifests.length === 0 && affected.size === 0) full = true;
    }

    const errors: FileError[] = [];
    const candidates: Candidate[] = [];
    const readPaths = new Set<string>();
    const readFiles = async (paths: string[]) => {
      const toRead: { path: string; entry: TreeEntry; folderCategory: string; dir: string; layout: 'design' | 'flat' }[] = [];
      for (const p of paths) {
        readPaths.add(p);
        const entry = tree.get(p);
        const m = manifestByPath.get(p);
        if (!entry || !m) continue; // deleted
        const problem = this.entryProblem(p, entry) ?? (overLimit.has(p) ? `too many template files (limit ${this.options.maxFiles}); skipped` : null);
        if (problem) {
          errors.push({ path: p, message: problem, source: p });
          continue;
        }
        toRead.push({ path: p, entry, folderCategory: m.folderCategory, dir: m.dir, layout: m.layout });
      }
      for (let i = 0; i < toRead.length; i += BLOB_BATCH) {
        const batch = toRead.slice(i, i + BLOB_BATCH);
        const assetEntries: TreeEntry[] = [];
        for (const f of batch) {
          if (f.layout !== 'design') continue;
          const a = dirAssets.get(f.dir);
          if (a?.icon) assetEntries.push(a.icon);
          if (a?.readme) assetEntries.push(a.readme);
        }
        const okAssets = assetEntries.filter((e) => !this.entryProblem(e.path, e));
        const blobs = await git.readBlobs([...batch.map((f) => f.entry.oid), ...okAssets.map((e) => e.oid)]);
        for (const f of batch) {
          const bytes = blobs.get(f.entry.oid);
          if (!bytes) {
            errors.push({ path: f.path, message: 'could not be read from git', source: f.path });
            continue;
          }
          const parsed = parseManifest(bytes, f.folderCategory);
          if (parsed.kind === 'ignored') continue;
          if (parsed.kind === 'error') {
            errors.push({ path: f.path, message: parsed.message, source: f.path });
            continue;
          }
          const candidate: Candidate = { path: f.path, template: parsed.template };
          const a = f.layout === 'design' ? dirAssets.get(f.dir) : undefined;
          if (a?.icon) {
            const problem = this.entryProblem(a.icon.path, a.icon);
            const data = blobs.get(a.icon.oid);
            if (problem || !data) errors.push({ path: a.icon.path, message: problem ?? 'could not be read from git', source: f.path });
            else candidate.icon = { path: a.icon.path, oid: a.icon.oid, contentType: iconContentType(path.posix.basename(a.icon.path)) ?? 'application/octet-stream', data };
          }
          if (a?.readme) {
            const problem = this.entryProblem(a.readme.path, a.readme);
            const data = blobs.get(a.readme.oid);
            if (problem || !data) errors.push({ path: a.readme.path, message: problem ?? 'could not be read from git', source: f.path });
            else if (!isUtf8(data)) errors.push({ path: a.readme.path, message: 'not UTF-8 text', source: f.path });
            else candidate.readme = { path: a.readme.path, oid: a.readme.oid, data };
          }
          candidates.push(candidate);
        }
        progress('PARSING', `Read ${Math.min(i + BLOB_BATCH, toRead.length)} of ${toRead.length} template files`, {
          filesTotal: toRead.length,
          filesDone: Math.min(i + BLOB_BATCH, toRead.length),
        });
      }
    };

    type Row = { id: string; name: string; source_path: string };
    let kept: Row[] = [];
    if (full) {
      await readFiles(manifests.map((m) => m.path));
    } else {
      await readFiles([...affected]);
      const rows: Row[] = await ds.query(`SELECT id, name, source_path FROM catalog_templates WHERE repository_id = $1`, [repo.id]);
      // Files that lost a name contest to a file that changed may be the winner now: read them again.
      const affectedNames = new Set<string>(candidates.map((c) => c.template.name));
      for (const r of rows) if (affected.has(r.source_path)) affectedNames.add(r.name);
      for (const e of repo.fileErrors) if (e.template && affected.has(e.path)) affectedNames.add(e.template);
      const rereads = repo.fileErrors.filter((e) => e.template && affectedNames.has(e.template) && !readPaths.has(e.path)).map((e) => e.path);
      if (rereads.length) await readFiles([...new Set(rereads)]);
      kept = rows.filter((r) => !readPaths.has(r.source_path));
    }

    // Duplicate names: the file with the smallest path wins, every other one is reported.
    const winners = new Map<string, Candidate>();
    const keptByName = new Map(kept.map((r) => [r.name, r]));
    const keptLosers: Row[] = [];
    for (const c of candidates) {
      const name = c.template.name;
      const keptRow = keptByName.get(name);
      const current = winners.get(name);
      const rivalPath = current?.path ?? keptRow?.source_path;
      if (rivalPath === undefined) {
        winners.set(name, c);
        continue;
      }
      if (c.path < rivalPath) {
        if (current) errors.push(duplicateError(current.path, name, c.path));
        else if (keptRow) {
          keptLosers.push(keptRow);
          keptByName.delete(name);
        }
        winners.set(name, c);
      } else {
        errors.push(duplicateError(c.path, name, rivalPath));
      }
    }
    for (const loser of keptLosers) errors.push(duplicateError(loser.source_path, loser.name, winners.get(loser.name)!.path));

    const previous = full ? [] : repo.fileErrors.filter((e) => !readPaths.has(e.source ?? e.path) && !keptLosers.some((l) => l.source_path === (e.source ?? e.path)));
    const fileErrors = capErrors([...previous.filter((e) => !e.truncated), ...errors]);

    progress('SAVING', `Saving ${winners.size} templates`, { filesTotal: readPaths.size, filesDone: readPaths.size });
    const templateCount = await ds.transaction(async (tx) => {
      const locked: { last_commit: string | null }[] = await tx.query(`SELECT last_commit FROM repositories WHERE id = $1 FOR UPDATE`, [repo.id]);
      if (!locked.length) throw new Error('the repository was removed during the sync');
      if ((locked[0].last_commit ?? null) !== (base ?? null)) throw new BaseCommitMoved();
      const names = [...winners.keys()];
      if (full) {
        await tx.query(`DELETE FROM catalog_templates WHERE repository_id = $1 AND NOT (name = ANY($2::text[]))`, [repo.id, names]);
      } else if (readPaths.size) {
        await tx.query(`DELETE FROM catalog_templates WHERE repository_id = $1 AND source_path = ANY($2::text[]) AND NOT (name = ANY($3::text[]))`, [
          repo.id,
          [...readPaths],
          names,
        ]);
      }
      await upsertTemplates(tx, repo.id, head, [...winners.values()]);
      const [{ count }] = await tx.query(`SELECT count(*)::int AS count FROM catalog_templates WHERE repository_id = $1`, [repo.id]);
      await tx.query(
        `UPDATE repositories SET status = 'Ready', last_commit = $2, last_sync_at = now(), template_count = $3, sync_error = NULL, file_errors = $4::jsonb, updated_at = now() WHERE id = $1`,
        [repo.id, head, count, JSON.stringify(fileErrors)],
      );
      return count as number;
    });
    return { repositoryId: repo.id, commit: head, mode: full ? 'full' : 'incremental', filesRead: readPaths.size, templateCount, fileErrors, fetchMs: 0, totalMs: 0 };
  }

  /** Why a tree entry cannot be used, or null. */
  private entryProblem(p: string, entry: TreeEntry): string | null {
    if (!isSafeRepoPath(p)) return 'path escapes the repository; skipped';
    if (entry.mode === '120000') return 'symbolic link; skipped (links could point outside the repository)';
    if (entry.type !== 'blob') return 'not a regular file (submodule or tree); skipped';
    if (entry.size > this.options.maxFileSize) return `file is ${entry.size} bytes, larger than the limit of ${this.options.maxFileSize}; skipped`;
    return null;
  }

  private publish(event: SyncProgressEvent) {
    try {
      this.options.pubSub?.publish(SYNC_PROGRESS_TOPIC, event);
    } catch (err) {
      this.options.logger.debug({ err }, 'could not publish catalog sync progress');
    }
  }
}

export class CatalogSyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogSyncError';
  }
}

function duplicateError(pathOfLoser: string, name: string, winnerPath: string): FileError {
  return { path: pathOfLoser, message: `duplicate template name "${name}" (also defined by ${winnerPath}, which is used); skipped`, template: name, source: pathOfLoser };
}

function capErrors(errors: FileError[]): FileError[] {
  errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (errors.length <= MAX_STORED_FILE_ERRORS) return errors;
  const shown = errors.slice(0, MAX_STORED_FILE_ERRORS);
  shown.push({ path: '', message: `${errors.length - MAX_STORED_FILE_ERRORS} more file errors not shown`, truncated: true });
  return shown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(data: Uint8Array): boolean {
  try {
    utf8.decode(data);
    return true;
  } catch {
    return false;
  }
}

function credentialValues(creds: GitCredentials): string[] {
  if (creds.type === 'basic') return [creds.password];
  if (creds.type === 'token') return [creds.token];
  if (creds.type === 'ssh') return [creds.privateKey];
  return [];
}

async function upsertTemplates(tx: EntityManager, repositoryId: string, commit: string, candidates: Candidate[]): Promise<void> {
  for (let i = 0; i < candidates.length; i += INSERT_BATCH) {
    const batch = candidates.slice(i, i + INSERT_BATCH);
    const params: unknown[] = [repositoryId, commit];
    const values = batch.map((c) => {
      const t = c.template;
      const at = params.length;
      params.push(t.name, t.displayName, t.description, t.category, t.tags, t.appType, c.icon?.path ?? null, c.readme?.path ?? null, c.path, t.version, JSON.stringify(t.manifest));
      const p = (n: number) => `$${at + n}`;
      return `($1, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}::text[], ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, $2, ${p(10)}, ${p(11)}::jsonb)`;
    });
    const rows: { id: string; name: string }[] = await tx.query(
      `INSERT INTO catalog_templates (repository_id, name, display_name, description, category, tags, app_type, icon_path, readme_path, source_path, source_commit, version, manifest)
       VALUES ${values.join(', ')}
       ON CONFLICT (repository_id, name) DO UPDATE SET
         display_name = EXCLUDED.display_name, description = EXCLUDED.description, category = EXCLUDED.category, tags = EXCLUDED.tags,
         app_type = EXCLUDED.app_type, icon_path = EXCLUDED.icon_path, readme_path = EXCLUDED.readme_path, source_path = EXCLUDED.source_path,
         source_commit = EXCLUDED.source_commit, version = EXCLUDED.version, manifest = EXCLUDED.manifest, updated_at = now()
       RETURNING id, name`,
      params,
    );
    const idByName = new Map(rows.map((r) => [r.name, r.id]));
    const ids = [...idByName.values()];
    await tx.query(`DELETE FROM catalog_template_assets WHERE catalog_template_id = ANY($1::uuid[])`, [ids]);
    const assetParams: unknown[] = [];
    const assetValues: string[] = [];
    for (const c of batch) {
      const id = idByName.get(c.template.name);
      if (!id) continue;
      const add = (kind: string, contentType: string, data: Buffer, oid: string) => {
        const at = assetParams.length;
        assetParams.push(id, kind, contentType, data, oid);
        assetValues.push(`($${at + 1}::uuid, $${at + 2}, $${at + 3}, $${at + 4}::bytea, $${at + 5})`);
      };
      if (c.icon) add('icon', c.icon.contentType, c.icon.data, c.icon.oid);
      if (c.readme) add('readme', 'text/markdown; charset=utf-8', c.readme.data, c.readme.oid);
    }
    if (assetValues.length) {
      await tx.query(`INSERT INTO catalog_template_assets (catalog_template_id, kind, content_type, data, oid) VALUES ${assetValues.join(', ')}`, assetParams);
    }
  }
}
