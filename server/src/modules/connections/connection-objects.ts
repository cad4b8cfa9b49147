import { isConflict, isNotFound } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import { LABEL_SESSION } from '../sessions/session-manifests';
import type { SessionEntity } from '../sessions/session.entity';
import type { ConnectionEntity } from './connection.entity';

/** Kubernetes wants RFC 3339 without milliseconds in the Connection CRD's date-time fields. */
const rfc3339 = (d: Date) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Runs a background API-server write within a bound shared by the mirrors' writers (p-limit). */
export type MirrorWrites = <T>(write: () => Promise<T>) => Promise<T>;

/**
 * The Connection objects: each open connection is also a Connection in the cluster, a view for kubectl (the
 * `connections` table is the record). Without a cluster, creating and deleting do nothing; failures are logged,
 * never fatal. The writes of one object run in the order they were asked for (a delete never overtakes its create),
 * so a caller need not wait for them: `connectSession` answers without these API-server writes on its path. What
 * a lost write leaves behind (a replica died, or another replica's delete came first) the heartbeat reaper repairs.
 */
export class ConnectionObjects {
  /** The last write asked for, per object: the next one starts after it. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly deps: { kube: StreamSpaceApi | null; logger: Logger; mirrorWrites?: MirrorWrites }) {}

  /** Runs `write` after the earlier writes of the same object (each one catches its own failures). */
  private inOrder(id: string, write: () => Promise<void>): Promise<void> {
    const { mirrorWrites } = this.deps;
    const next = (this.pending.get(id) ?? Promise.resolve()).then(mirrorWrites ? () => mirrorWrites(write) : write);
    this.pending.set(id, next);
    void next.finally(() => {
      if (this.pending.get(id) === next) this.pending.delete(id);
    });
    return next;
  }

  /** Resolves when every write asked for so far has run (a graceful stop waits for them). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending.values()]);
  }

  create(c: ConnectionEntity, session: SessionEntity, username: string): Promise<void> {
    return this.inOrder(c.id, () => this.doCreate(c, session, username));
  }

  private async doCreate(c: ConnectionEntity, session: SessionEntity, username: string): Promise<void> {
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
      // No status write: the CRD defaults the status of a new Connection to Active, and its lastActivity is the
      // connectedAt until the first activity write (one API-server write per connect instead of two).
      await kube.connections.create(body);
    } catch (err) {
      // Already there: a repair raced the connect's own create; the object is what it should be.
      if (isConflict(err)) return;
      this.deps.logger.warn({ err: (err as Error).message, connection: c.id }, 'could not create the Connection object');
    }
  }

  /** Status of one Connection object (its failures are the caller's to handle). */
  async writeActivity(id: string, lastActivity: Date, state: 'Active' | 'Idle' = 'Active'): Promise<void> {
    if (!this.deps.kube) return;
    await this.deps.kube.connections.patchStatus(id, { status: { state, lastActivity: rfc3339(lastActivity) } });
  }

  delete(id: string): Promise<void> {
    return this.inOrder(id, () => this.doDelete(id));
  }

  private async doDelete(id: string): Promise<void> {
    if (!this.deps.kube) return;
    try {
      await this.deps.kube.connections.delete(id);
    } catch (err) {
      if (!isNotFound(err)) this.deps.logger.warn({ err: (err as Error).message, connection: id }, 'could not delete the Connection object');
    }
  }

  /**
   * Deletes the Connection objects whose connection is no longer open (the table is the record): what a delete that
   * overtook its create on another replica, or a replica that died mid-way, left behind. Returns how many.
   */
  async sweep(stillOpen: (ids: string[]) => Promise<Set<string>>): Promise<number> {
    const { kube } = this.deps;
    if (!kube) return 0;
    const names = (await kube.connections.list({ labelSelector: 'app.kubernetes.io/part-of=streamspace' })).map((o) => (o as { metadata?: { name?: string } }).metadata?.name ?? '').filter(Boolean);
    if (!names.length) return 0;
    // Asked after the list: an object is created only once its row is committed, so a row that is not open now
    // will not become open again, and its object is a leftover.
    const open = await stillOpen(names);
    const leftovers = names.filter((n) => !open.has(n));
    for (const name of leftovers) await this.delete(name);
    return leftovers.length;
  }
}
