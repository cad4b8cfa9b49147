import { CoreV1Api } from '@kubernetes/client-node';
import { kubeStatusCode } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { GitCredentials } from './git-cache';
import { GitInputError, checkKnownHosts } from './git-url';
import type { RepositoryEntity } from './repository.entity';

/**
 * A repository's git credentials come from the Secret named by `auth.secretRef` in the server's namespace
 * (basic: username + password; token: token [+ username]; ssh: ssh-privatekey [+ known_hosts]); their values
 * are handed to git and never logged, stored or returned.
 */

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export async function loadCredentials(repo: Pick<RepositoryEntity, 'authType' | 'authSecretRef'>, kube: StreamSpaceApi | null): Promise<GitCredentials> {
  if (repo.authType === 'none') return { type: 'none' };
  if (!repo.authSecretRef) throw new CredentialsError(`auth type ${repo.authType} needs auth.secretRef (the name of a Secret holding the credentials)`);
  if (!kube) {
    throw new CredentialsError(
      `auth type ${repo.authType} reads credentials from the Kubernetes Secret "${repo.authSecretRef}", but no cluster is configured (STREAMSPACE_CLUSTER=none)`,
    );
  }
  const { namespace } = kube;
  let data: Record<string, string>;
  try {
    const secret = await kube.kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: repo.authSecretRef, namespace });
    data = secret.data ?? {};
  } catch (err) {
    if (kubeStatusCode(err) === 404) throw new CredentialsError(`Secret "${repo.authSecretRef}" was not found in namespace ${namespace}`);
    if (kubeStatusCode(err) === 403) throw new CredentialsError(`the server may not read Secret "${repo.authSecretRef}" in namespace ${namespace}`);
    throw new CredentialsError(`could not read Secret "${repo.authSecretRef}": ${kubeStatusCode(err) ?? 'unreachable API server'}`);
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


/**
 * The host keys an ssh sync trusts: the repository's own knownHosts, the known_hosts key of its ssh Secret and the
 * platform-wide STREAMSPACE_GIT_SSH_KNOWN_HOSTS, together ('' when none is pinned: an ssh fetch then refuses).
 */
export function pinnedKnownHosts(repo: Pick<RepositoryEntity, 'knownHosts'>, creds: GitCredentials, platform: string): string {
  let fromSecret = '';
  if (creds.type === 'ssh' && creds.knownHosts) {
    try {
      fromSecret = checkKnownHosts(creds.knownHosts);
    } catch (err) {
      if (err instanceof GitInputError) throw new CredentialsError(`the known_hosts key of the auth Secret is not valid: ${err.message}`);
      throw err;
    }
  }
  return [repo.knownHosts ?? '', fromSecret, platform].map((t) => t.trim()).filter(Boolean).join('\n');
}
