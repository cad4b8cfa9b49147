import type { Pool } from 'pg';

/**
 * Heartbeats, group-committed: every heartbeat waiting while a write is in flight joins the next write, and
 * each write is ONE statement (`UPDATE ... FROM unnest(ids, users)`) in autocommit, never a transaction per
 * heartbeat. At low load a heartbeat is written at once (one-element batch, no timer delay); under load the
 * batches grow by themselves, so throughput rises while latency stays about one round trip of the database.
 *
 * The statement also checks ownership (only the user who connected, or an admin, keeps a connection alive)
 * and that the connection is still open: an id that is ended, unknown or someone else's answers false, and
 * the client must connect again.
 */

export interface HeartbeatStats {
  heartbeats: number;
  statements: number;
  /** Largest batch written in one statement. */
  maxBatch: number;
  /** Time spent waiting for statements (sum over statements, ms), and the longest one: a slow database shows here. */
  statementMs: number;
  maxStatementMs: number;
}

interface Pending {
  id: string;
  /** null: an admin (any connection). */
  userId: string | null;
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `c.id = ANY($1)` repeats the join condition so the planner can fetch the batch's rows by primary key in one
 * bitmap scan (measured 0.24 ms for 20 ids against 1.6 ms with a nested loop). Statistics still matter: on a
 * table loaded since the last ANALYZE the planner may scan every open connection per batch either way.
 */
export const HEARTBEAT_SQL = `UPDATE connections c SET last_activity_at = now()
  FROM unnest($1::uuid[], $2::uuid[]) AS b(id, user_id)
  WHERE c.id = ANY($1::uuid[]) AND c.id = b.id AND c.disconnected_at IS NULL AND (b.user_id IS NULL OR c.user_id = b.user_id)
  RETURNING c.id`;

export class HeartbeatBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private closed = false;
  readonly stats: HeartbeatStats = { heartbeats: 0, statements: 0, maxBatch: 0, statementMs: 0, maxStatementMs: 0 };

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly options: { maxBatch?: number; maxConcurrent?: number } = {},
  ) {}

  /** Records a heartbeat; resolves true once written, false when the connection is not open or not the caller's. */
  beat(connectionId: string, userId: string | null): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('heartbeat batcher is stopped'));
    if (!UUID.test(connectionId)) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ id: connectionId.toLowerCase(), userId, resolve, reject });
      this.kick();
    });
  }

  private kick() {
    const maxConcurrent = this.options.maxConcurrent ?? 2;
    while (this.queue.length && this.inFlight < maxConcurrent) {
      const batch = this.queue.splice(0, this.options.maxBatch ?? 5000);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.kick();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    this.stats.statements++;
    this.stats.heartbeats += batch.length;
    if (batch.length > this.stats.maxBatch) this.stats.maxBatch = batch.length;
    const started = performance.now();
    try {
      const res = await this.pool.query<{ id: string }>(HEARTBEAT_SQL, [batch.map((b) => b.id), batch.map((b) => b.userId)]);
      this.timed(started);
      const ok = new Set(res.rows.map((r) => r.id));
      for (const b of batch) b.resolve(ok.has(b.id));
    } catch (err) {
      this.timed(started);
      for (const b of batch) b.reject(err as Error);
    }
  }

  private timed(started: number) {
    const ms = performance.now() - started;
    this.stats.statementMs += ms;
    if (ms > this.stats.maxStatementMs) this.stats.maxStatementMs = ms;
  }

  /** Waits for queued heartbeats to be written, then refuses new ones. */
  async stop(): Promise<void> {
    this.closed = true;
    while (this.queue.length || this.inFlight) await new Promise((r) => setTimeout(r, 5));
  }
}
