import { expect } from 'chai';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type ExecutionResult,
} from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { createExecutor } from './executor';

class DomainError extends Error {
  readonly code = 'QUOTA_EXCEEDED';
}

/** A schema with what the API's uses: lists of objects, async resolvers, interfaces, enums, inputs, custom scalars, errors. */
function testSchema() {
  const calls: string[] = [];
  const Node = new GraphQLInterfaceType({ name: 'Node', fields: { id: { type: new GraphQLNonNull(GraphQLID) } } });
  const State = new GraphQLEnumType({ name: 'State', values: { RUNNING: { value: 'running' }, HIBERNATED: { value: 'hibernated' } } });
  const Item = new GraphQLObjectType<{ id: string; n: number }, { user: string }>({
    name: 'Item',
    interfaces: [Node],
    isTypeOf: (v) => typeof v.id === 'string' && v.id.startsWith('i'),
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      n: { type: GraphQLInt },
      state: { type: State },
      at: { type: DateTimeISOResolver },
      label: {
        type: GraphQLString,
        args: { prefix: { type: GraphQLString, defaultValue: '#' } },
        resolve: async (item: { n: number }, args: { prefix: string }, ctx: { user: string }) => `${args.prefix}${item.n}@${ctx.user}`,
      },
      failing: {
        type: GraphQLString,
        resolve: (item: { n: number }) => {
          if (item.n === 2) throw new DomainError('item 2 refuses');
          return 'fine';
        },
      },
      required: { type: new GraphQLNonNull(GraphQLString), resolve: (item: { n: number }) => (item.n === 3 ? null : 'here') },
    },
  });
  const Filter = new GraphQLInputObjectType({ name: 'Filter', fields: { min: { type: GraphQLInt }, since: { type: DateTimeISOResolver } } });
  const items = [1, 2, 3, 4].map((n) => ({ id: `i${n}`, n, state: n % 2 ? 'running' : 'hibernated', at: new Date(Date.UTC(2026, 0, n)) }));
  const query = new GraphQLObjectType({
    name: 'Query',
    fields: {
      items: {
        type: new GraphQLList(new GraphQLNonNull(Item)),
        args: { first: { type: GraphQLInt }, filter: { type: Filter } },
        resolve: async (_root, args: { first?: number; filter?: { min?: number } }) => {
          calls.push('items');
          return items.filter((i) => i.n >= (args.filter?.min ?? 0)).slice(0, args.first ?? undefined);
        },
      },
      node: { type: Node, args: { id: { type: new GraphQLNonNull(GraphQLID) } }, resolve: (_r, { id }: { id: string }) => items.find((i) => i.id === id) ?? null },
      flag: { type: GraphQLBoolean, resolve: () => true },
    },
  });
  const mutation = new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      step: {
        type: GraphQLInt,
        args: { n: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_r, { n }: { n: number }) => {
          calls.push(`step ${n}`);
          await new Promise((r) => setTimeout(r, 3 - n));
          return n;
        },
      },
    },
  });
  return { schema: new GraphQLSchema({ query, mutation, types: [Item] }), calls };
}

/** The answer as a client sees it: data, and each error's message, path, locations and what it wraps. */
function seen(result: ExecutionResult) {
  return JSON.parse(
    JSON.stringify({
      data: result.data,
      errors: result.errors?.map((e) => ({
        message: e.message,
        path: e.path,
        locations: e.locations,
        original: e.originalError?.constructor.name,
        isGraphQLError: e instanceof GraphQLError && e.constructor === GraphQLError,
        extensions: e.extensions,
      })),
    }),
  ) as unknown;
}

const DOCUMENTS: [string, string, Record<string, unknown>?, string?][] = [
  ['a list with arguments, aliases, fragments, @skip/@include', 'query Q($f: Int, $show: Boolean!) { items(first: $f) { ...F two: label(prefix: "~") n @include(if: $show) state @skip(if: $show) } } fragment F on Item { id label at }', { f: 3, show: true }],
  ['an interface with inline fragments and __typename', 'query { node(id: "i2") { __typename id ... on Item { n state } } missing: node(id: "x") { id } }'],
  ['a resolver error beside data (null in a nullable field)', '{ items { id failing } }'],
  ['a null in a non-null field nulls its parent up to the nullable list', '{ items { id required } }'],
  ['an input object with a custom scalar variable', 'query Q($filter: Filter) { items(filter: $filter) { id at } }', { filter: { min: 3, since: '2026-01-01T00:00:00.000Z' } }],
  ['mutations run one after another, in document order', 'mutation { a: step(n: 1) b: step(n: 2) c: step(n: 3) }'],
  ['string literals that would break generated code (quotes, backslashes, backticks, ${, a line break)', 'query { items(first: 1) { id a: label(prefix: "q\\"b\\\\c\'`${x}`\\n") } }'],
  ['a named operation among several', 'query A { flag } query B { items(first: 1) { id } }', undefined, 'B'],
];

describe('GraphQL executor (graphql-jit, with graphql-js for first runs and request errors)', () => {
  for (const [what, text, variables, operationName] of DOCUMENTS) {
    it(`compiled execution answers exactly as graphql-js: ${what}`, async () => {
      const { schema, calls } = testSchema();
      const executor = createExecutor(schema);
      const document = parse(text);
      const run = () => executor({ document, operationName, contextValue: { user: 'ada' }, variableValues: variables });
      const interpreted = seen(await run());
      expect(executor.counts).to.deep.equal({ compiled: 0, interpreted: 1 });
      const interpretedCalls = calls.splice(0);
      const compiled = seen(await run());
      expect(executor.counts).to.deep.equal({ compiled: 1, interpreted: 1 });
      expect(compiled).to.deep.equal(interpreted);
      expect(calls).to.deep.equal(interpretedCalls);
      // The answer is a real one, not two equal empty ones.
      expect(JSON.stringify(compiled)).to.match(/"data":\{"[a-z]/);
    });
  }

  it('keeps the resolver\'s own error as originalError, in a graphql-js GraphQLError with extensions', async () => {
    const executor = createExecutor(testSchema().schema);
    const document = parse('{ items { failing } }');
    await executor({ document, contextValue: { user: 'ada' } });
    const result = await executor({ document, contextValue: { user: 'ada' } });
    expect(executor.counts.compiled).to.equal(1);
    const [error] = result.errors!;
    expect(error.constructor).to.equal(GraphQLError);
    expect(error.originalError).to.be.instanceOf(DomainError);
    expect(error.extensions).to.deep.equal({});
    expect(error.path).to.deep.equal(['items', 1, 'failing']);
  });

  it('answers an unknown operation name and variables that do not coerce as graphql-js does, even for a compiled document', async () => {
    const executor = createExecutor(testSchema().schema);
    const document = parse('query Q($f: Filter, $n: Int) { items(filter: $f, first: $n) { id } }');
    const ok = { document, contextValue: { user: 'ada' }, variableValues: { n: 1 } };
    await executor(ok);
    await executor(ok);
    expect(executor.counts).to.deep.equal({ compiled: 1, interpreted: 1 });
    const unknown = await executor({ ...ok, operationName: 'Nope' });
    expect(unknown.errors!.map((e) => e.message)).to.deep.equal(['Unknown operation named "Nope".']);
    const badScalar = await executor({ ...ok, variableValues: { f: { since: '2026-13-40T99:99:99Z' } } });
    expect(badScalar.errors![0].message).to.match(/^Variable "\$f" got invalid value "2026-13-40T99:99:99Z" at "f\.since"; /);
    const badInt = await executor({ ...ok, variableValues: { n: 'x' } });
    expect(badInt.errors!.map((e) => e.message)).to.deep.equal(['Variable "$n" got invalid value "x"; Int cannot represent non-integer value: "x"']);
    expect(unknown.data ?? badScalar.data ?? badInt.data).to.equal(undefined);
    expect(executor.counts).to.deep.equal({ compiled: 1, interpreted: 4 });
  });

  it('compiles a document object only on its second execution, once, and each operation of it separately', async () => {
    const executor = createExecutor(testSchema().schema);
    const document = parse('query A { flag } query B { items(first: 1) { id } }');
    for (let i = 0; i < 3; i++) {
      expect((await executor({ document, operationName: 'A', contextValue: {} })).data).to.deep.equal({ flag: true });
      expect((await executor({ document, operationName: 'B', contextValue: {} })).data).to.deep.equal({ items: [{ id: 'i1' }] });
    }
    // A (1st: interpreted, then compiled twice); B is the same document object, so it compiles from its first run.
    expect(executor.counts).to.deep.equal({ compiled: 5, interpreted: 1 });
    // A new object of the same text (a one-off, uncached document) is interpreted.
    await executor({ document: parse('query A { flag } query B { items(first: 1) { id } }'), operationName: 'A', contextValue: {} });
    expect(executor.counts).to.deep.equal({ compiled: 5, interpreted: 2 });
  });
});
