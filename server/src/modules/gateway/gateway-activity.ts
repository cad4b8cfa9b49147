import type { Grant } from './gateway.service';

/**
 * Traffic through the gateway as activity (like JupyterHub's proxy activity): at most one
 * heartbeat per connection per interval, handed to the connections' heartbeat batcher, which writes whatever
 * is pending in one statement. A user typing into a desktop whose tab stopped sending heartbeats stays active.
 */
export class GatewayActivity {
  private readonly last = new Map<string, number>();
  private sinceSweep = 0;

  constructor(
    private readonly beat: (connectionId: string, userId: string) => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  touch(grant: Pick<Grant, 'connectionId' | 'userId'>): void {
    const t = this.now();
    const previous = this.last.get(grant.connectionId);
    if (previous !== undefined && t - previous < this.intervalMs) return;
    this.last.set(grant.connectionId, t);
    if (++this.sinceSweep >= 1000) this.sweep(t);
    // A refused beat (the connection ended) needs nothing here: the gateway's access checks close its sockets.
    void this.beat(grant.connectionId, grant.userId).catch(() => undefined);
  }

  private sweep(t: number) {
    this.sinceSweep = 0;
    for (const [id, at] of this.last) if (t - at > 10 * this.intervalMs) this.last.delete(id);
  }
}
