import 'reflect-metadata';
import { expect } from 'chai';
import { QueryFailedError } from 'typeorm';
import { ENTITIES } from '../../src/composition/entities';
import { openDatabase, type Database } from '../../src/platform/database/database';
import { poolOf, queryPrepared, queryPreparedArrays } from '../../src/platform/database/prepared';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase } from '../support/postgres';

describe('database: prepared statements on the pool TypeORM holds (real PostgreSQL)', function () {
  this.timeout(60_000);
  let db: Database;

  before(async () => {
    const url = await createTestDatabase('prepared');
    db = await openDatabase({ databaseUrl: url, dataDir: '/tmp', migrationsRun: true, entities: ENTITIES, logger: createLogger('silent') });
  });
  after(async () => {
    await db?.close();
  });

  it('runs a statement prepared once per connection, its parameters carrying what varies, with the driver types', async () => {
    const { dataSource } = db;
    const text = `SELECT $1::int + 1 AS n, $2::timestamptz AS at, '{"a": [1]}'::jsonb AS doc, $3::text AS label`;
    const at = new Date('2030-01-02T03:04:05.678Z');
    for (let i = 0; i < 5; i++) {
      const rows = await queryPrepared<{ n: number; at: Date; doc: unknown; label: string }>(dataSource, text, [i, at, `row ${i}`]);
      expect(rows).to.deep.equal([{ n: i + 1, at, doc: { a: [1] }, label: `row ${i}` }]);
    }
    // On every connection that ran it, once, under one name: the text's. Each connection of the pool is asked in turn.
    const pool = poolOf(dataSource);
    const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
    try {
      const prepared = new Set<string>();
      for (const client of clients) {
        const { rows } = await client.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
        expect(rows.length, 'statements on one connection').to.be.at.most(1);
        for (const row of rows) {
          expect(row.statement).to.equal(text);
          prepared.add(row.name);
        }
      }
      expect([...prepared]).to.have.length(1);
      expect([...prepared][0]).to.match(/^ss_[0-9a-f]{24}$/);
    } finally {
      for (const client of clients) client.release();
    }
    // A failing statement fails as TypeORM's statements do (its QueryFailedError, PostgreSQL's error and code inside),
    // and the next call on the same text still runs.
    let error: Error | undefined;
    await queryPrepared(dataSource, text, ['not a number', at, 'x']).catch((err: Error) => (error = err));
    expect(error).to.be.instanceOf(QueryFailedError);
    expect(error?.message).to.match(/invalid input syntax for type integer/);
    expect((error as QueryFailedError<Error & { code: string }>).driverError.code).to.equal('22P02');
    await queryPrepared(dataSource, text, [1, at, 'a\u0000b']).catch((err: Error) => (error = err));
    expect((error as QueryFailedError<Error & { code: string }>).driverError.code).to.equal('22021');
    expect(await queryPrepared(dataSource, text, [41, at, 'again'])).to.deep.equal([{ n: 42, at, doc: { a: [1] }, label: 'again' }]);
  });

  it('reads rows as arrays of the values in column order, with the driver types, prepared and failing as queryPrepared', async () => {
    const { dataSource } = db;
    const text = `SELECT x AS n, $1::timestamptz AS at, jsonb_build_object('x', x) AS doc, NULL::text AS none, count(*) OVER () AS total FROM generate_series(1, $2::int) AS x ORDER BY x`;
    const at = new Date('2031-05-06T07:08:09.010Z');
    for (const size of [1, 3]) {
      const rows = await queryPreparedArrays(dataSource, text, [at, size]);
      expect(rows).to.deep.equal(Array.from({ length: size }, (_, i) => [i + 1, at, { x: i + 1 }, null, String(size)]));
    }
    const { rows } = await poolOf(dataSource).query<{ n: string }>('SELECT count(*)::text AS n FROM pg_prepared_statements WHERE statement = $1', [text]);
    expect(Number(rows[0]!.n)).to.be.at.most(1);
    let error: Error | undefined;
    await queryPreparedArrays(dataSource, text, [at, 'many']).catch((err: Error) => (error = err));
    expect(error).to.be.instanceOf(QueryFailedError);
    expect((error as QueryFailedError<Error & { code: string }>).driverError.code).to.equal('22P02');
    expect(await queryPreparedArrays(dataSource, text, [at, 2])).to.have.length(2);
  });
});
