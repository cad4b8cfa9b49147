import { isNotFound, kubeStatusCode } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { RepositoryEntity } from './repository.entity';

/**
 * Each row of the repositories table is shown in the cluster as a TemplateRepository object (spec from the row,
 * status from the last sync), so `kubectl get trepo` shows the same catalog sources as the admin UI. The table
 * is the record; these objects are a view of it.
 */

/** The TemplateRepository CRD only admits network URLs; file:// repositories (development) get no object. */
export function representable(url: string): boolean {
  return /^((https?|ssh|git):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/.test(url);
}

export function templateRepositoryObject(repo: RepositoryEntity, namespace: string): Record<string, unknown> {
  return {
    apiVersion: STREAMSPACE_API_VERSION,
    kind: 'TemplateRepository',
    metadata: {
      name: repo.name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'streamspace' },
      annotations: { 'stream.streamspace.io/repository-id': repo.id },
    },
    spec: {
      name: repo.name,
      url: repo.url,
      branch: repo.branch,
      path: `/${repo.path}`,
      auth: repo.authType === 'none' ? { type: 'none' } : { type: repo.authType, secretRef: { name: repo.authSecretRef } },
      syncInterval: repo.syncInterval,
      autoSync: repo.autoSync,
      public: repo.public,
      allowedUsers: repo.allowedUsers,
    },
  };
}

function statusOf(repo: RepositoryEntity): Record<string, unknown> {
  const status: Record<string, unknown> = { phase: repo.status, templateCount: repo.templateCount };
  if (repo.lastSyncAt) status.lastSync = repo.lastSyncAt.toISOString();
  if (repo.syncError) status.syncError = repo.syncError.slice(0, 32_000);
  if (repo.lastCommit) status.commit = repo.lastCommit;
  return status;
}

/** Writes the TemplateRepository objects. Best effort: the table is the source of truth, so a failed write is logged, never fatal. */
export class TemplateRepositoryObjects {
  constructor(
    private readonly kube: StreamSpaceApi | null,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.kube !== null;
  }

  async upsert(repo: RepositoryEntity): Promise<void> {
    if (!this.kube || !representable(repo.url)) return;
    const body = templateRepositoryObject(repo, this.kube.namespace);
    try {
      const current = (await this.get(repo.name)) as { metadata: { resourceVersion?: string } } | null;
      if (current) {
        (body.metadata as Record<string, unknown>).resourceVersion = current.metadata.resourceVersion;
        await this.kube.repositories.replace(repo.name, body);
      } else {
        await this.kube.repositories.create(body);
      }
      await this.updateStatus(repo);
    } catch (err) {
      this.logger.warn({ repository: repo.name, status: kubeStatusCode(err), err: (err as Error).message }, 'could not write the repository as a TemplateRepository object');
    }
  }

  async updateStatus(repo: RepositoryEntity): Promise<void> {
    if (!this.kube || !representable(repo.url)) return;
    try {
      await this.kube.repositories.patchStatus(repo.name, [{ op: 'add', path: '/status', value: statusOf(repo) }]);
    } catch (err) {
      if (isNotFound(err)) return this.upsert(repo);
      this.logger.warn({ repository: repo.name, status: kubeStatusCode(err), err: (err as Error).message }, 'could not update the TemplateRepository status');
    }
  }

  async remove(name: string): Promise<void> {
    if (!this.kube) return;
    try {
      await this.kube.repositories.delete(name);
    } catch (err) {
      if (!isNotFound(err)) this.logger.warn({ repository: name, status: kubeStatusCode(err), err: (err as Error).message }, 'could not delete the TemplateRepository object');
    }
  }

  async get(name: string): Promise<Record<string, unknown> | null> {
    if (!this.kube) return null;
    return (await this.kube.repositories.find(name)) as Record<string, unknown> | null;
  }
}
