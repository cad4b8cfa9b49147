import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import type { AuditSource } from '../audit/audit.service';
import { homeClaimName, LABEL_HOME_OWNER, LABEL_USER, labelValue } from '../sessions/session-manifests';
import { SessionEntity } from '../sessions/session.entity';
import type { SessionService } from '../sessions/session.service';
import type { UserEntity } from './user.entity';
import type { UsersService } from './users.service';

/** What happens to a deleted user's home volume claims. */
export type HomeDisposition = 'KEEP' | 'DELETE';

export interface UserDeletionResult {
  user: UserEntity;
  /** Ids of the sessions that were terminated (every session of the user that was not terminated yet). */
  terminatedSessionIds: string[];
  /** Names of the user's home volume claims found in the sessions namespace. */
  homeClaims: string[];
  homes: HomeDisposition;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e?.code === 404 || e?.statusCode === 404 || e?.response?.statusCode === 404;
}

/**
 * Deleting a user, in an order that never leaves half a deletion behind: (1) checks (not yourself, not the last
 * admin); (2) the account is disabled, so its sign-ins end and it can start nothing more; (3) every session of the
 * user is terminated (its workload deleted, like deleteSession); (4) its home claims are kept, or deleted when asked;
 * (5) the row goes, audited with what happened. A failure in (3) or (4) leaves a disabled account: deleting again
 * finishes the job.
 */
export class UserDeletionService {
  private readonly core: CoreV1Api | null;

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      users: UsersService;
      sessions: SessionService;
      kubeConfig: KubeConfig | null;
      namespace: string;
    },
  ) {
    this.core = deps.kubeConfig ? deps.kubeConfig.makeApiClient(CoreV1Api) : null;
  }

  async delete(caller: Caller, id: string, homes: HomeDisposition, source: AuditSource): Promise<UserDeletionResult> {
    const target = await this.deps.users.assertDeletable(id, source);
    await this.deps.users.disableForDeletion(id, source);
    const open = await this.deps.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.namespace = :ns', { ns: this.deps.namespace })
      .andWhere('(s.user_id = :id OR s.username = :username)', { id, username: target.username })
      .andWhere("s.state <> 'terminated'")
      .getMany();
    // As the admin who asked (they may act on every session); each termination is audited as session.delete.
    for (const session of open) await this.deps.sessions.delete(caller, session.id, source);
    const homeClaims = await this.homeClaims(target);
    if (homes === 'DELETE') {
      for (const name of homeClaims) {
        try {
          await this.core!.deleteNamespacedPersistentVolumeClaim({ name, namespace: this.deps.namespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    const user = await this.deps.users.deleteAccount(
      id,
      { terminatedSessions: open.map((s) => s.name), homes: homes === 'DELETE' ? 'deleted' : 'kept', homeClaims },
      source,
    );
    return { user, terminatedSessionIds: open.map((s) => s.id), homeClaims, homes };
  }

  /** The user's home claims: home-<id>, and the legacy home-<username> when it carries this user's labels. */
  private async homeClaims(user: UserEntity): Promise<string[]> {
    if (!this.core) return [];
    const found: string[] = [];
    for (const name of [`home-${user.id}`, homeClaimName(user.username)]) {
      try {
        const claim = await this.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.deps.namespace });
        const labels = claim.metadata?.labels ?? {};
        const owner = labels[LABEL_HOME_OWNER];
        if (owner === user.id || (owner === undefined && labels[LABEL_USER] === labelValue(user.username)) || name === `home-${user.id}`) found.push(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return [...new Set(found)];
  }
}
