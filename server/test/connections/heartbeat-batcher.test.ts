import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Pool } from 'pg';
import { HeartbeatBatcher } from '../../src/modules/connections/heartbeat-batcher';
import { ENTITIES } from '../../src/composition/entities';
import { openDatabase, type Database } from '../../src/platform/database/database';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';

describe('connections: heartbeat batcher on a real PostgreSQL', function () {
  this.timeout(60_000);
  let db: Database;
  let pool: Pool;
  let ids: string[];
  const owner = randomUUID();
  const other = randomUUID();

  before(async () => {
    const url = await createTestDatabase('heartbeats');
    db = await openDatabase({ databaseUrl: url, dataDir: '/tmp', migrationsRun: true, entities: ENTITIES, logger: createLogger('silent') });
    pool = new Pool({ connectionString: url, max: 3 });
    const sessionId = randomUUID();
    await pool.query(`INSERT INTO users (id, username) VALUES ($1, 'owner'), ($2, 'other')`, [owner, other]);
    await pool.query(`INSERT INTO sessions (id, name, namespace, user_id, username, template, state, phase) VALUES ($1, 's', 'ns', $2, 'owner', 't', 'running', 'Running')`, [sessionId, owner]);
    ids = (
      await pool.query<{ id: string }>(
        `INSERT INTO connections (session_id, user_id, last_activity_at) SELECT $1, $2, now() - interval '1 hour' FROM generate_series(1, 500) RETURNING id`,
        [sessionId, owner],
      )
    ).rows.map((r) => r.id);
  });
  after(async () => {
    await pool?.end();
    await db?.close();
  });

  it('writes many concurrent heartbeats with far fewer statements, each one recorded', async () => {
    const batcher = new HeartbeatBatcher(pool);
    const results = await Promise.all(ids.map((id) => batcher.beat(id, owner)));
    expect(results.every(Boolean)).to.equal(true);
    expect(batcher.stats.heartbeats).to.equal(500);
    expect(batcher.stats.statements).to.be.lessThan(500 / 10);
    expect(batcher.stats.maxBatch).to.be.greaterThan(1);
    const stale = await pool.query(`SELECT count(*)::int AS n FROM connections WHERE last_activity_at < now() - interval '1 minute'`);
    expect(stale.rows[0].n).to.equal(0);
    await batcher.stop();
  });

  it("refuses ended, unknown, malformed and other users' connections (admins: any)", async () => {
    const batcher = new HeartbeatBatcher(pool);
    await pool.query(`UPDATE connections SET disconnected_at = now(), disconnect_reason = 'client' WHERE id = $1`, [ids[0]]);
    const [ended, unknown, malformed, notMine, asAdmin, mine] = await Promise.all([
      batcher.beat(ids[0], owner),
      batcher.beat(randomUUID(), owner),
      batcher.beat('not-a-uuid', owner),
      batcher.beat(ids[1], other),
      batcher.beat(ids[2], null),
      batcher.beat(ids[3], owner),
    ]);
    expect({ ended, unknown, malformed, notMine, asAdmin, mine }).to.deep.equal({ ended: false, unknown: false, malformed: false, notMine: false, asAdmin: true, mine: true });
    await batcher.stop();
  });

  it('is set up for HOT updates: no index on last_activity_at, free room in each page', async () => {
    // A heartbeat only changes last_activity_at; with no index on it and room in the page, PostgreSQL updates the
    // row in place (HOT) and touches no index. How many updates end up HOT depends on page pruning, so the
    // structure is what is asserted, plus that HOT updates do happen.
    const indexes = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'connections'`);
    expect(indexes.rows.map((r) => r.indexdef).filter((d) => d.includes('last_activity_at'))).to.deep.equal([]);
    const options = await pool.query<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE relname = 'connections'`);
    expect(options.rows[0].reloptions).to.include('fillfactor=70');
    const before = await pool.query<{ hot: string; upd: string }>(`SELECT n_tup_hot_upd::text AS hot, n_tup_upd::text AS upd FROM pg_stat_user_tables WHERE relname = 'connections'`);
    const batcher = new HeartbeatBatcher(pool);
    for (let round = 0; round < 3; round++) await Promise.all(ids.slice(10, 110).map((id) => batcher.beat(id, owner)));
    await batcher.stop();
    // Statistics reach pg_stat_user_tables with a delay; ask until they do (no fixed sleep).
    let after = before;
    await waitUntil(async () => {
      after = await pool.query(`SELECT n_tup_hot_upd::text AS hot, n_tup_upd::text AS upd FROM pg_stat_user_tables WHERE relname = 'connections'`);
      return Number(after.rows[0].upd) - Number(before.rows[0].upd) >= 300;
    }, 'the table statistics to count the 300 updates', 30_000);
    expect(Number(after.rows[0].upd) - Number(before.rows[0].upd)).to.be.at.least(300);
    expect(Number(after.rows[0].hot) - Number(before.rows[0].hot)).to.be.greaterThan(0);
  });
});
