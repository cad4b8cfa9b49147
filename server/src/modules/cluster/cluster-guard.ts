import { AppError, ErrorCode } from '../../platform/graphql/errors';

/** Pods of sessions carry this label; in a namespace shared with the platform, only they are the admin's to touch. */
const SESSION_LABEL = 'stream.streamspace.io/session';

export type GuardedOperation = 'exec' | 'logs' | 'apply' | 'delete';

/**
 * What the admin console must never touch: the platform's own namespace (its pods hold the platform's ServiceAccount
 * token, its Secret the database URL, admin password and OIDC secret). An exec or a log there, or a Deployment or Pod
 * applied there running as the platform's ServiceAccount, would bypass the kind allow-list, the Secret redaction
 * and the audit. Pure: the caller passes what it knows of the object.
 *
 * - Namespace of its own (the default): every exec, log, apply and delete in it is refused.
 * - Namespace shared with sessions (older installs): only session pods and workloads (label
 *   stream.streamspace.io/session) may be used; Secrets, other pods and other workloads are refused.
 */
export class PlatformGuard {
  constructor(private readonly options: { platformNamespace: string | null; sessionNamespace: string }) {}

  get platformNamespace(): string | null {
    return this.options.platformNamespace;
  }

  /** Why the operation is refused, or null. `labels` are the object's (as stored, or as applied). */
  refusal(op: GuardedOperation, kind: string, namespace: string | null | undefined, name: string, labels: Record<string, string> | undefined): string | null {
    const platform = this.options.platformNamespace;
    if (!platform || namespace !== platform) return null;
    const what = op === 'exec' ? 'open a shell or run commands in' : op === 'logs' ? 'read the logs of' : op === 'apply' ? 'create or change' : 'delete';
    const why = `${kind} ${namespace}/${name} belongs to the StreamSpace platform (namespace ${platform}); the admin console does not ${what} the platform's own pods, workloads or Secrets (use kubectl with your own credentials)`;
    if (platform !== this.options.sessionNamespace) return why;
    if (kind === 'Secret') return why;
    if (['Pod', 'Deployment', 'StatefulSet'].includes(kind) && labels?.[SESSION_LABEL] === undefined) return why;
    return null;
  }

  /** Throws FORBIDDEN with the reason (after the caller audited it). */
  static refused(reason: string): AppError {
    return new AppError(ErrorCode.FORBIDDEN, reason, { reason: 'PlatformResource' });
  }
}
