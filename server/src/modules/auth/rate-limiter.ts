import type { Pool } from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';

/** The table of LoginRateLimitEntity (created by a migration, not by the library). */
const TABLE = 'login_rate_limits';

/**
 * Fixed-window failure counters per key (an IP or a username), kept in PostgreSQL through rate-limiter-flexible,
 * so every replica counts against the same limit (an attacker spreading tries over N replicas gets no N times more).
 * Only failures are counted (`hit`); a key over its limit waits `retryAfter` seconds.
 */
export class LoginRateLimiter {
  private store: RateLimiterPostgres | undefined;
  private hits = 0;

  constructor(
    private readonly pool: () => Pool,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private limiter(): RateLimiterPostgres {
    this.store ??= new RateLimiterPostgres({
      storeClient: this.pool(),
      storeType: 'pool',
      tableName: TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: this.prefix,
      points: this.limit,
      duration: Math.max(1, Math.ceil(this.windowMs / 1000)),
    });
    return this.store;
  }

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  async retryAfter(key: string): Promise<number> {
    const res = await this.limiter().get(key);
    if (!res || res.consumedPoints < this.limit) return 0;
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  }

  /** Counts one failure. */
  async hit(key: string): Promise<void> {
    await this.limiter().penalty(key, 1);
    // Now and then, drop windows that ended long ago, so the table stays small under a spread-out attack.
    if (++this.hits % 200 === 0) {
      await this.pool()
        .query(`DELETE FROM ${TABLE} WHERE expire < $1`, [Date.now() - this.windowMs])
        .catch(() => undefined);
    }
  }

  async reset(key: string): Promise<void> {
    await this.limiter().delete(key);
  }
}
