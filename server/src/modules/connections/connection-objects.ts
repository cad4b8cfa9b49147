import { isNotFound } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { LABEL_SESSION } from '../sessions/session-manifests';
import type { SessionEntity } from '../sessions/session.entity';
import type { ConnectionEntity } from './connection.entity';

/** Kubernetes wants RFC 3339 without milliseconds in the Connection CRD's date-time fields. */
const rfc3339 = (d: Date) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The Connection objects: each open connection is also a Connection in the cluster, a view for kubectl (the
 * `connections` table is the record). Without a cluster, creating and deleting do nothing; failures are logged,
 * never fatal.
 */
export class ConnectionObjects {
  constructor(private readonly deps: { kube: StreamSpaceApi | null; logger: Logger }) {}

  async create(c: ConnectionEntity, session: SessionEntity, username: string): Promise<void> {
    const { kube } = this.deps;
    if (!kube) return;
    const body = {
      apiVersion: STREAMSPACE_API_VERSION,
      kind: 'Connection',
      metadata: {
        name: c.id,
        namespace: kube.namespace,
        labels: { [LABEL_SESSION]: session.name, 'app.kubernetes.io/part-of': 'streamspace' },
        ownerReferences: [{ apiVersion: STREAMSPACE_API_VERSION, kind: 'Session', name: session.name, uid: session.id, blockOwnerDeletion: false }],
      },
      spec: {
        session: session.name,
        user: username,
        ...(c.clientIp ? { clientIP: c.clientIp } : {}),
        ...(c.userAgent ? { userAgent: c.userAgent } : {}),
        connectedAt: rfc3339(c.connectedAt),
      },
    };
    try {
      await kube.connections.create(body);
      await this.writeActivity(c.id, c.lastActivityAt);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, connection: c.id }, 'could not create the Connection object');
    }
  }

  /** Status of one Connection object (its failures are the caller's to handle). */
  async writeActivity(id: string, lastActivity: Date, state: 'Active' | 'Idle' = 'Active'): Promise<void> {
    if (!this.deps.kube) return;
    await this.deps.kube.connections.patchStatus(id, { status: { state, lastActivity: rfc3339(lastActivity) } });
  }

  async delete(id: string): Promise<void> {
    if (!this.deps.kube) return;
    try {
      await this.deps.kube.connections.delete(id);
    } catch (err) {
      if (!isNotFound(err)) this.deps.logger.warn({ err: (err as Error).message, connection: id }, 'could not delete the Connection object');
    }
  }
}
