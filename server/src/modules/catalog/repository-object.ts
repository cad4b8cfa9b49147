import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../platform/logging/logger';
import type { GitCredentials } from './git-cache';
import type { RepositoryEntity } from './repository.entity';

/**
 * The repository's two touch points with Kubernetes:
 * - credentials come from the Secret named by `auth.secretRef` in the server's namespace
 *   (basic: username + password; token: token [+ username]; ssh: ssh-privatekey [+ known_hosts]);
 *   their values are handed to git and never logged, stored or returned;
 * - a TemplateRepository object mirrors each row of the repositories table (spec from the row, status
 *   from the last sync), so `kubectl get trepo` shows the same catalog sources as the admin UI.
 */

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

const GROUP = 'stream.streamspace.io';
const VERSION = 'v1alpha1';
const PLURAL = 'templaterepositories';

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e?.code ?? e?.statusCode ?? e?.response?.statusCode;
}

export async function loadCredentials(repo: Pick<RepositoryEntity, 'authType' | 'authSecretRef'>, kubeConfig: KubeConfig | null, namespace: string): Promise<GitCredentials> {
  if (repo.authType === 'none') return { type: 'none' };
  if (!repo.authSecretRef) throw new CredentialsError(`auth type ${repo.authType} needs auth.secretRef (the name of a Secret holding the credentials)`);
  if (!kubeConfig) {
    throw new CredentialsError(
      `auth type ${repo.authType} reads credentials from the Kubernetes Secret "${repo.authSecretRef}", but no cluster is configured (STREAMSPACE_CLUSTER=none)`,
    );
  }
  let data: Record<string, string>;
  try {
    const secret = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: repo.authSecretRef, namespace });
    data = secret.data ?? {};
  } catch (err) {
    if (statusCode(err) === 404) throw new CredentialsError(`Secret "${repo.authSecretRef}" was not found in namespace ${namespace}`);
    if (statusCode(err) === 403) throw new CredentialsError(`the server may not read Secret "${repo.authSecretRef}" in namespace ${namespace}`);
    throw new CredentialsError(`could not read Secret "${repo.authSecretRef}": ${statusCode(err) ?? 'unreachable API server'}`);
  }
  const get = (key: string) => (data[key] !== undefined ? Buffer.from(data[key], 'base64').toString('utf8') : undefined);
  const need = (key: string) => {
    const v = get(key);
    if (!v) throw new CredentialsError(`Secret "${repo.authSecretRef}" has no "${key}" key (needed for auth type ${repo.authType})`);
    return v;
  };
  switch (repo.authType) {
    case 'basic':
      return { type: 'basic', username: need('username'), password: need('password') };
    case 'token':
      return { type: 'token', token: need('token'), username: get('username') };
    case 'ssh':
      return { type: 'ssh', privateKey: need('ssh-privatekey'), knownHosts: get('known_hosts') };
    default:
      throw new CredentialsError(`unknown auth type "${repo.authType}"`);
  }
}

/** The TemplateRepository CRD only admits network URLs; file:// repositories (development) are not mirrored. */
export function mirrorable(url: string): boolean {
  return /^((https?|ssh|git):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/.test(url);
}

export function templateRepositoryObject(repo: RepositoryEntity, namespace: string): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
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

/** Best effort: the table is the source of truth, so a failed mirror write is logged, never fatal. */
export class TemplateRepositoryObjects {
  constructor(
    private readonly kubeConfig: KubeConfig | null,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.kubeConfig !== null;
  }

  private api(): CustomObjectsApi {
    return this.kubeConfig!.makeApiClient(CustomObjectsApi);
  }

  private params() {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL };
  }

  async upsert(repo: RepositoryEntity): Promise<void> {
    if (!this.kubeConfig || !mirrorable(repo.url)) return;
    const body = templateRepositoryObject(repo, this.namespace);
    try {
      const current = (await this.get(repo.name)) as { metadata: { resourceVersion?: string } } | null;
      if (current) {
        (body.metadata as Record<string, unknown>).resourceVersion = current.metadata.resourceVersion;
        await this.api().replaceNamespacedCustomObject({ ...this.params(), name: repo.name, body });
      } else {
        await this.api().createNamespacedCustomObject({ ...this.params(), body });
      }
      await this.updateStatus(repo);
    } catch (err) {
      this.logger.warn({ repository: repo.name, status: statusCode(err), err: (err as Error).message }, 'could not mirror the repository as a TemplateRepository object');
    }
  }

  async updateStatus(repo: RepositoryEntity): Promise<void> {
    if (!this.kubeConfig || !mirrorable(repo.url)) return;
    try {
      await this.api().patchNamespacedCustomObjectStatus(
        { ...this.params(), name: repo.name, body: [{ op: 'add', path: '/status', value: statusOf(repo) }] },
      );
    } catch (err) {
      if (statusCode(err) === 404) return this.upsert(repo);
      this.logger.warn({ repository: repo.name, status: statusCode(err), err: (err as Error).message }, 'could not update the TemplateRepository status');
    }
  }

  async remove(name: string): Promise<void> {
    if (!this.kubeConfig) return;
    try {
      await this.api().deleteNamespacedCustomObject({ ...this.params(), name });
    } catch (err) {
      if (statusCode(err) !== 404) this.logger.warn({ repository: name, status: statusCode(err), err: (err as Error).message }, 'could not delete the TemplateRepository object');
    }
  }

  async get(name: string): Promise<Record<string, unknown> | null> {
    if (!this.kubeConfig) return null;
    try {
      return (await this.api().getNamespacedCustomObject({ ...this.params(), name })) as Record<string, unknown>;
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  }
}
