import { expect } from 'chai';
import { GraphQLError } from 'graphql';
import { createErrorFormatter, ErrorCode, isDatabaseUnavailable, unavailableBackend } from './errors';

describe('error formatter: an unreachable database', () => {
  const logged: string[] = [];
  const format = createErrorFormatter({ error: (_o, msg) => logged.push(`error ${msg}`), warn: (_o, msg) => logged.push(`warn ${msg}`) }, () => 'req-1');
  const asResolverError = (original: Error) => new GraphQLError(original.message, { originalError: original, path: ['x'] });

  it('recognises refused connections, shutdowns and dropped sockets, also wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(refused)).to.equal(true);
    expect(isDatabaseUnavailable(new AggregateError([refused], ''))).to.equal(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) }))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).to.equal(true);
    // TypeORM's rollback of a transaction whose connection died under it.
    expect(unavailableBackend(new Error('Query runner already released. Cannot run queries anymore.'))).to.equal('database');
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).to.equal(false);
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).to.equal(false);
    // A bare socket error may be the API server's too: typed, but not named the database.
    expect(unavailableBackend(new TypeError('fetch failed', { cause: refused }))).to.equal('network');
    expect(unavailableBackend(Object.assign(new Error('terminating connection'), { code: '57P01' }))).to.equal('database');
  });

  it('answers SERVICE_UNAVAILABLE (retryable) instead of a masked internal error', () => {
    const out = format({ message: 'x', path: ['x'] }, asResolverError(new Error('Connection terminated unexpectedly')));
    expect(out.extensions).to.deep.equal({ code: ErrorCode.SERVICE_UNAVAILABLE, details: { retryable: true } });
    expect(out.message).to.match(/database is unavailable/);
    const bug = format({ message: 'x', path: ['x'] }, asResolverError(new TypeError('boom')));
    expect(bug.extensions?.code).to.equal(ErrorCode.INTERNAL_SERVER_ERROR);
    expect(logged).to.deep.equal(['warn database unavailable while resolving GraphQL request', 'error unexpected error while resolving GraphQL request']);
  });
});

describe('error formatter: client mistakes graphql-js reports without a code', () => {
  const format = createErrorFormatter({ error: () => {} }, () => 'req-2');

  it('answers BAD_USER_INPUT, not a masked internal error, when more than 50 variable values are invalid', async () => {
    const { buildSchema, execute, parse } = await import('graphql');
    const schema = buildSchema('input In { key: String! } type Query { x(items: [In!]!): Int }');
    const result = await execute({ schema, document: parse('query ($v: [In!]!) { x(items: $v) }'), variableValues: { v: Array.from({ length: 60 }, () => null) } });
    const last = result.errors!.at(-1)!;
    expect(last.message).to.match(/^Too many errors processing variables/);
    // Apollo codes it INTERNAL_SERVER_ERROR (no variable node): the formatter must recognise it all the same.
    const out = format({ message: last.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, last);
    expect(out.extensions).to.deep.equal({ code: ErrorCode.BAD_USER_INPUT });
    expect(out.message).to.match(/More than 50 variable values are invalid/);
  });
});
