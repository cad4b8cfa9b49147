import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { createAppPubSub } from '../../platform/graphql/pubsub';
import { createLogger } from '../../platform/logging/logger';
import { SESSION_UPDATED } from '../sessions/session-table';
import { GatewayService, sha256 } from './gateway.service';

const LABEL = 'abcdefghijklmnopqrstuvwxyz';
const COOKIE = 'c'.repeat(43);

/** A data source that answers the access query with one row and counts the queries (no PostgreSQL in this tier). */
function fakeDataSource(row: Record<string, unknown>) {
  const calls: unknown[][] = [];
  const ds = {
    query: async (_sql: string, params: unknown[]) => {
      calls.push(params);
      return [row];
    },
  };
  return { ds: ds as unknown as DataSource, calls };
}

const running = {
  grant_id: 'g1',
  cookie_hash: sha256(COOKIE),
  label: LABEL,
  session_id: 's1',
  session_name: 'notes',
  namespace: 'ns',
  user_id: 'u1',
  connection_id: 'c1',
  connection_open: true,
  disabled: false,
  role: 'user',
  owner_id: 'u1',
  state: 'running',
  phase: 'Running',
  share_role: null,
  app_type: 'webapp',
};

describe('gateway access decisions: the cache in front of the database', () => {
  it('answers repeated HTTP checks from memory, queries by the cookie\'s hash, and asks again for upgrades and after any access event', async () => {
    const { ds, calls } = fakeDataSource(running);
    const pubSub = createAppPubSub();
    const service = new GatewayService({ dataSource: ds, pubSub, logger: createLogger('silent'), location: { mode: 'host', domain: 'apps.localhost', scheme: 'http' }, ticketTtlMs: 30_000, recheckIntervalMs: 60_000 });
    service.start();
    try {
      for (let i = 0; i < 5; i++) expect((await service.check(LABEL, COOKIE)).ok).to.equal(true);
      expect(calls).to.have.length(1);
      // The database sees the hash only, never the cookie.
      expect(calls[0]).to.deep.equal([[sha256(COOKIE)]]);

      // An upgrade is always checked afresh.
      await service.check(LABEL, COOKIE, { fresh: true });
      expect(calls).to.have.length(2);

      // Another session's label with the same cookie is its own entry (and refused: the row's label differs).
      expect((await service.check('zzzzzzzzzzzzzzzzzzzzzzzzzz', COOKIE)).ok).to.equal(false);
      expect(calls).to.have.length(3);

      // Any access event drops every cached decision: the next request asks the database again.
      await service.recheck(() => true);
      await service.check(LABEL, COOKIE);
      expect(calls).to.have.length(4);
      await pubSub.publish(SESSION_UPDATED as never, { type: 'UPDATED', session: { id: 's1', state: 'running', phase: 'Running' } } as never);
      await new Promise((r) => setImmediate(r));
      await service.check(LABEL, COOKIE);
      expect(calls).to.have.length(5);
    } finally {
      await service.stop();
    }
  });
});
