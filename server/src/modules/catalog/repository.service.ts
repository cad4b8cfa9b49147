import type { DataSource } from 'typeorm';
import { parseDurationMs } from '../../config/config';
import { AppError, ErrorCode, badInput, notFound } from '../../platform/graphql/errors';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { CatalogSyncError, type CatalogSyncService } from './catalog-sync.service';
import { GitInputError, checkBranch, checkGitUrl, checkKnownHosts, normalizeRepoPath } from './git-url';
import type { TemplateRepositoryObjects } from './repository-object';
import { RepositoryEntity } from './repository.entity';
import type { AddRepositoryInput, RepositoryAuthInput, UpdateRepositoryInput } from './dto/repository.input';
import { RepositoryAuthType, RepositorySyncStatus, type RepositoryType } from './dto/repository.type';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const INTERVAL = /^[0-9]+(s|m|h)$/;
const MIN_INTERVAL_MS = 60_000;
const MAX_INTERVAL_MS = 7 * 24 * 3_600_000;

export interface RepositoryServiceDeps {
  dataSource: DataSource;
  sync: CatalogSyncService;
  repositoryObjects: TemplateRepositoryObjects;
  audit: AuditService;
  logger: Logger;
  allowFile: boolean;
  /** Whether a Kubernetes cluster is configured (credentials live in Secrets). */
  clusterConfigured: boolean;
  /** Platform-wide pinned ssh host keys (STREAMSPACE_GIT_SSH_KNOWN_HOSTS), '' when none. */
  platformKnownHosts: string;
}

export function toRepositoryType(r: RepositoryEntity): RepositoryType {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    branch: r.branch,
    path: r.path,
    authType: r.authType as RepositoryAuthType,
    authSecretName: r.authSecretRef,
    knownHosts: r.knownHosts,
    syncInterval: r.syncInterval,
    autoSync: r.autoSync,
    public: r.public,
    allowedUsers: r.allowedUsers,
    status: r.status as RepositorySyncStatus,
    lastSync: r.lastSyncAt,
    lastCommit: r.lastCommit,
    templateCount: r.templateCount,
    syncError: r.syncError,
    fileErrors: r.fileErrors.map((e) => ({ path: e.path, message: e.message, template: e.template ?? null })),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Repositories of templates: admin CRUD, manual syncs, the scheduled syncs of the background job. */
export class RepositoryService {
  constructor(private readonly deps: RepositoryServiceDeps) {}

  private get repos() {
    return this.deps.dataSource.getRepository(RepositoryEntity);
  }

  list(): Promise<RepositoryEntity[]> {
    return this.repos.find({ order: { name: 'ASC' } });
  }

  async get(id: string): Promise<RepositoryEntity> {
    const repo = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? await this.repos.findOneBy({ id }) : null;
    if (!repo) throw notFound('Repository', id);
    return repo;
  }

  async add(input: AddRepositoryInput, source: AuditSource): Promise<RepositoryEntity> {
    if (!NAME.test(input.name) || input.name.length > 63) {
      throw badInput('The repository name must be a DNS label: lower-case letters, digits and "-", at most 63 characters', { field: 'name' });
    }
    const auth = this.checkAuth(input.auth ?? { type: RepositoryAuthType.NONE });
    const values = {
      name: input.name,
      url: this.checkUrl(input.url),
      branch: this.checkBranchInput(input.branch ?? 'main'),
      path: this.checkPath(input.path ?? ''),
      authType: auth.type,
      authSecretRef: auth.secretName,
      knownHosts: this.checkKnownHostsInput(input.knownHosts),
      syncInterval: this.checkInterval(input.syncInterval ?? '1h'),
      autoSync: input.autoSync ?? true,
      public: input.public ?? true,
      allowedUsers: this.checkUsers(input.allowedUsers ?? []),
    };
    this.checkPinned(values);
    const saved = await this.deps.dataSource.transaction(async (tx) => {
      if (await tx.getRepository(RepositoryEntity).existsBy({ name: input.name })) {
        throw new AppError(ErrorCode.CONFLICT, `A repository named "${input.name}" already exists`, { name: input.name });
      }
      const row = await tx.getRepository(RepositoryEntity).save(tx.getRepository(RepositoryEntity).create(values));
      await this.deps.audit.record({ action: 'repository.add', resourceType: 'repository', resourceId: row.id, changes: { ...values }, source }, tx);
      return row;
    });
    await this.deps.repositoryObjects.upsert(saved);
    return saved;
  }

  async update(id: string, input: UpdateRepositoryInput, source: AuditSource): Promise<RepositoryEntity> {
    const current = await this.get(id);
    const changes: Partial<RepositoryEntity> = {};
    if (input.url != null) changes.url = this.checkUrl(input.url);
    if (input.branch != null) changes.branch = this.checkBranchInput(input.branch);
    if (input.path != null) changes.path = this.checkPath(input.path);
    if (input.auth != null) {
      const auth = this.checkAuth(input.auth);
      changes.authType = auth.type;
      changes.authSecretRef = auth.secretName;
    }
    if (input.knownHosts != null) changes.knownHosts = this.checkKnownHostsInput(input.knownHosts);
    // Checked when the source or its trust changes (other edits, such as pausing autoSync, stay possible).
    if (input.url != null || input.auth != null || input.knownHosts != null) this.checkPinned({ ...current, ...changes });
    if (input.syncInterval != null) changes.syncInterval = this.checkInterval(input.syncInterval);
    if (input.autoSync != null) changes.autoSync = input.autoSync;
    if (input.public != null) changes.public = input.public;
    if (input.allowedUsers != null) changes.allowedUsers = this.checkUsers(input.allowedUsers);
    // A different source means the stored commit says nothing about it: the next sync reads everything.
    const sourceChanged =
      (changes.url !== undefined && changes.url !== current.url) ||
      (changes.branch !== undefined && changes.branch !== current.branch) ||
      (changes.path !== undefined && changes.path !== current.path);
    if (sourceChanged) {
      changes.lastCommit = null;
      changes.status = 'Pending';
    }
    const saved = await this.deps.dataSource.transaction(async (tx) => {
      await tx.getRepository(RepositoryEntity).update({ id }, changes);
      await this.deps.audit.record({ action: 'repository.update', resourceType: 'repository', resourceId: id, changes: { ...changes }, source }, tx);
      return tx.getRepository(RepositoryEntity).findOneByOrFail({ id });
    });
    if (changes.url !== undefined && changes.url !== current.url) this.deps.sync.forgetCache(id);
    await this.deps.repositoryObjects.upsert(saved);
    return saved;
  }

  /** Removes the repository and its catalog entries; Templates installed from it stay. */
  async remove(id: string, source: AuditSource): Promise<RepositoryEntity> {
    const repo = await this.get(id);
    await this.deps.dataSource.transaction(async (tx) => {
      await tx.query(`DELETE FROM catalog_templates WHERE repository_id = $1`, [id]);
      await tx.getRepository(RepositoryEntity).delete({ id });
      await this.deps.audit.record({ action: 'repository.remove', resourceType: 'repository', resourceId: id, changes: { name: repo.name, url: repo.url }, source }, tx);
    });
    this.deps.sync.forgetCache(id);
    await this.deps.repositoryObjects.remove(repo.name);
    return repo;
  }

  /**
   * First start: adds the configured catalog (STREAMSPACE_CATALOG_REPOSITORY) when no repository exists
   * yet, so an admin who removed it is never overruled. The scheduled job syncs it right away.
   */
  async seedDefault(source: { url: string; branch: string } | undefined): Promise<RepositoryEntity | null> {
    if (!source) return null;
    if ((await this.repos.count()) > 0) return null;
    const base = source.url.replace(/\.git$/, '').split(/[/:]/).filter(Boolean).pop() ?? 'templates';
    const name = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'templates';
    try {
      const repo = await this.add({ name, url: source.url, branch: source.branch }, { caller: null });
      this.deps.logger.info({ repository: name, url: source.url }, 'added the configured template catalog (first start)');
      return repo;
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message, url: source.url }, 'could not add STREAMSPACE_CATALOG_REPOSITORY');
      return null;
    }
  }

  /**
   * Syncs now and waits; a failed sync is reported in the returned status (syncError), not thrown. Audited with
   * the caller's source, or without an actor (`trigger: schedule`) for the background job, so every sync the
   * leader runs leaves one row (a new leader's run after a failover is countable); `null` skips the audit.
   */
  async syncNow(id: string, source: AuditSource | 'schedule' | null): Promise<RepositoryEntity> {
    const repo = await this.get(id);
    let outcome: 'success' | 'failure' = 'success';
    let detail: Record<string, unknown>;
    try {
      const result = await this.deps.sync.sync(id);
      detail = { commit: result.commit, mode: result.mode, filesRead: result.filesRead, templateCount: result.templateCount, fileErrors: result.fileErrors.length };
    } catch (err) {
      if (!(err instanceof CatalogSyncError)) throw err;
      outcome = 'failure';
      detail = { error: err.message };
    }
    if (source === 'schedule') {
      await this.deps.audit.record({ action: 'repository.sync', resourceType: 'repository', resourceId: id, outcome, changes: { name: repo.name, trigger: 'schedule', ...detail }, actor: null });
    } else if (source) {
      await this.deps.audit.record({ action: 'repository.sync', resourceType: 'repository', resourceId: id, outcome, changes: { name: repo.name, ...detail }, source });
    }
    const fresh = await this.get(id);
    await this.deps.repositoryObjects.updateStatus(fresh);
    return fresh;
  }

  /** Starts a sync of every repository (one after the other, in the background) and returns them. */
  async syncAll(source: AuditSource): Promise<RepositoryEntity[]> {
    const all = await this.list();
    await this.deps.audit.record({ action: 'repository.sync-all', resourceType: 'repository', changes: { repositories: all.map((r) => r.name) }, source });
    void (async () => {
      for (const r of all) await this.syncNow(r.id, null).catch((err: Error) => this.deps.logger.warn({ err, repository: r.name }, 'catalog sync failed'));
    })();
    return all.map((r) => ({ ...r, status: this.deps.sync.isSyncing(r.id) ? 'Syncing' : r.status }));
  }

  /** For the background job: syncs every auto-sync repository whose interval has passed. */
  async syncDue(now = new Date(), signal?: AbortSignal): Promise<string[]> {
    const synced: string[] = [];
    for (const repo of await this.list()) {
      if (signal?.aborted) break;
      if (!repo.autoSync || this.deps.sync.isSyncing(repo.id)) continue;
      const interval = INTERVAL.test(repo.syncInterval) ? parseDurationMs(repo.syncInterval) : 3_600_000;
      if (repo.lastSyncAt && repo.lastSyncAt.getTime() + interval > now.getTime()) continue;
      await this.syncNow(repo.id, 'schedule');
      synced.push(repo.name);
    }
    return synced;
  }

  private checkUrl(url: string): string {
    try {
      checkGitUrl(url, { allowFile: this.deps.allowFile });
      return url;
    } catch (err) {
      if (err instanceof GitInputError) throw badInput(err.message, { field: 'url' });
      throw err;
    }
  }

  private checkKnownHostsInput(text: string | null | undefined): string | null {
    try {
      return checkKnownHosts(text) || null;
    } catch (err) {
      if (err instanceof GitInputError) throw badInput(err.message, { field: 'knownHosts' });
      throw err;
    }
  }

  /**
   * An ssh URL must have pinned host keys before anything connects: its own knownHosts, the platform's, or (auth
   * type ssh) its Secret's known_hosts key, which the sync checks (it cannot be read here).
   */
  private checkPinned(repo: Pick<RepositoryEntity, 'url' | 'authType' | 'knownHosts'>): void {
    if (checkGitUrl(repo.url, { allowFile: this.deps.allowFile }) !== 'ssh') return;
    if (repo.knownHosts || this.deps.platformKnownHosts || repo.authType === 'ssh') return;
    throw badInput(
      'An ssh repository URL needs a pinned host key: give knownHosts (known_hosts lines from `ssh-keyscan HOST`, checked against the ' +
        "server's published fingerprint), use auth type ssh with a known_hosts key in its Secret, or set STREAMSPACE_GIT_SSH_KNOWN_HOSTS",
      { field: 'knownHosts' },
    );
  }

  private checkBranchInput(branch: string): string {
    try {
      return checkBranch(branch);
    } catch (err) {
      if (err instanceof GitInputError) throw badInput(err.message, { field: 'branch' });
      throw err;
    }
  }

  private checkPath(p: string): string {
    try {
      return normalizeRepoPath(p);
    } catch (err) {
      if (err instanceof GitInputError) throw badInput(err.message, { field: 'path' });
      throw err;
    }
  }

  private checkAuth(auth: RepositoryAuthInput): { type: string; secretName: string | null } {
    if (auth.type === RepositoryAuthType.NONE) return { type: 'none', secretName: null };
    const secretName = auth.secretName?.trim() ?? '';
    if (!secretName) throw badInput(`auth.secretName is required for auth type ${auth.type}`, { field: 'auth.secretName' });
    if (!SECRET_NAME.test(secretName) || secretName.length > 253) throw badInput(`"${secretName}" is not a valid Secret name`, { field: 'auth.secretName' });
    if (!this.deps.clusterConfigured) {
      throw badInput(`auth type ${auth.type} reads credentials from a Kubernetes Secret, but no cluster is configured (STREAMSPACE_CLUSTER=none)`, {
        field: 'auth',
      });
    }
    return { type: auth.type, secretName };
  }

  private checkInterval(value: string): string {
    if (!INTERVAL.test(value)) throw badInput('syncInterval must look like 30m or 1h', { field: 'syncInterval' });
    const ms = parseDurationMs(value);
    if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) throw badInput('syncInterval must be between 1m and 168h', { field: 'syncInterval' });
    return value;
  }

  private checkUsers(users: string[]): string[] {
    if (users.length > 1024) throw badInput('At most 1024 allowed users', { field: 'allowedUsers' });
    for (const u of users) if (!u || u.length > 253) throw badInput('Allowed users must be usernames of 1 to 253 characters', { field: 'allowedUsers' });
    return [...new Set(users)];
  }
}
