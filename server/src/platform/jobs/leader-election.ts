import { EventEmitter } from 'node:events';
import type { KubeConfig } from '@kubernetes/client-node';
import { isConflict } from '../kube/kube-errors';
import { CustomResourceClient } from '../kube/streamspace-api';
import type { Logger } from '../logging/logger';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, the protocol client-go's leaderelection package uses
 * (kube-controller-manager, every operator): the holder renews `renewTime` every renewInterval; a candidate
 * takes the Lease over once it has seen no change to it for leaseDuration. Expiry is judged by the
 * candidate's own clock from when it last saw the record change (not by comparing timestamps written by
 * another machine), so clock skew between replicas does not matter. All writes carry the resourceVersion
 * they read, so two candidates racing for an expired Lease cannot both win (one gets 409 Conflict).
 *
 * A leader that cannot renew for leaseDuration steps down (emits 'stoppedLeading') before anyone else can
 * take over, so two leaders never run jobs at once for longer than the renew deadline allows.
 */

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Lease name, e.g. streamspace-leader. */
  name: string;
  /** This replica's identity (pod name + random suffix). */
  identity: string;
  leaseDurationMs: number;
  /** How often the leader renews and candidates retry. Default leaseDuration / 3. */
  renewIntervalMs?: number;
  logger: Logger;
}

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** MicroTime as the API server wants it: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

export interface LeaderElectorEvents {
  startedLeading: [];
  stoppedLeading: [];
  newLeader: [identity: string | null];
}

export class LeaderElector extends EventEmitter<LeaderElectorEvents> {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private observedRecord = '';
  private observedAt = 0;
  private lastRenewAt = 0;
  private currentLeader: string | null = null;
  private readonly leases: CustomResourceClient<LeaseObject>;
  private readonly renewIntervalMs: number;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.leases = new CustomResourceClient<LeaseObject>(options.kubeConfig, LEASES, options.namespace);
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(100, Math.floor(options.leaseDurationMs / 3));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get leader(): string | null {
    return this.currentLeader;
  }

  get identity(): string {
    return this.options.identity;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      this.loop = this.tryAcquireOrRenew().catch((err: Error) => {
        this.options.logger.warn({ err: err.message, lease: this.options.name }, 'leader election: lease update failed');
      });
      await this.loop;
      if (this.leading && Date.now() - this.lastRenewAt > this.options.leaseDurationMs) {
        this.options.logger.error({ lease: this.options.name }, 'leader election: could not renew the lease in time; stepping down');
        this.setLeading(false);
      }
      if (this.running) this.timer = setTimeout(() => void tick(), this.renewIntervalMs);
    };
    void tick();
  }

  /**
   * Stops campaigning. A leader releases the Lease so another replica takes over at once; with
   * `release: false` it just goes silent, as a crashed replica would, and others wait for the lease to expire.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      if (options.release === false) return;
      await this.release().catch((err: Error) => this.options.logger.warn({ err: err.message }, 'leader election: could not release the lease'));
    }
  }

  private setLeading(value: boolean) {
    if (this.leading === value) return;
    this.leading = value;
    this.options.logger.info({ lease: this.options.name, identity: this.options.identity }, value ? 'became leader' : 'stopped leading');
    this.emit(value ? 'startedLeading' : 'stoppedLeading');
  }

  private noteLeader(holder: string | null) {
    if (holder !== this.currentLeader) {
      this.currentLeader = holder;
      this.emit('newLeader', holder);
    }
  }

  private async read(): Promise<LeaseObject | null> {
    return this.leases.find(this.options.name);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const leaseSeconds = Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
    const lease = await this.read();
    if (!lease) {
      const body: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'streamspace' } },
        spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        await this.leases.create(body);
      } catch (err) {
        if (isConflict(err)) return; // someone else created it first; next round reads it
        throw err;
      }
      this.lastRenewAt = Date.now();
      this.noteLeader(identity);
      this.setLeading(true);
      return;
    }

    const record = JSON.stringify(lease.spec);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = Date.now();
    }
    const holder = lease.spec.holderIdentity ?? null;
    const duration = (lease.spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    const expired = !holder || this.observedAt + duration < Date.now();
    this.noteLeader(holder);
    if (holder !== identity && !expired) {
      this.setLeading(false);
      return;
    }

    const takingOver = holder !== identity;
    const spec: LeaseObject['spec'] = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now),
      ...(takingOver ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.leases.replace(name, { ...lease, spec, metadata: { ...lease.metadata, resourceVersion: lease.metadata.resourceVersion } });
    } catch (err) {
      if (isConflict(err)) return; // lost a race; the next round sees the winner
      throw err;
    }
    this.lastRenewAt = Date.now();
    this.noteLeader(identity);
    if (takingOver) this.options.logger.info({ lease: name, previous: holder }, 'leader election: took over the lease');
    this.setLeading(true);
  }

  private async release(): Promise<void> {
    const lease = await this.read();
    if (!lease || lease.spec.holderIdentity !== this.options.identity) return;
    // client-go's ReleaseOnCancel: an empty holder with a 1 s lease lets the next candidate take over now.
    await this.leases.replace(this.options.name, { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) } });
  }
}
