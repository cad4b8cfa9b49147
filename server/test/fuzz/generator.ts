import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/**
 * A schema-driven generator of GraphQL requests for the API fuzz test (graphql-fuzz.test.ts). Everything it makes
 * comes from one seeded PRNG, so a seed reproduces the exact sequence of requests. It aims at the inputs a
 * resolver or the transport might mishandle: valid-ish arguments (so resolvers really run), wrong types, missing
 * and unknown arguments, huge strings (bounded), unicode with lone surrogates and NUL, aliases, named and inline
 * fragments, deep nesting, several operations per document and variables of the wrong shape.
 */

/** sfc32: small, fast, good enough for test data, and reproducible from a 32-bit seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      r -= w;
      if (r < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }
}

export type Identity = 'anonymous' | 'user' | 'admin';
export type Transport = 'http' | 'ws';

/** One request: a GraphQL payload, or (HTTP only) a raw body that is not a well-formed GraphQL request. */
export interface FuzzRequest {
  /** The JSON payload (query, variables, operationName), possibly with members of the wrong type. */
  payload?: Record<string, unknown>;
  /** HTTP only: a raw body and content type, for malformed requests. */
  raw?: { body: string; contentType: string };
  /** HTTP only: send as GET with the payload in the query string. */
  get?: boolean;
  /** ws only: a raw frame instead of a subscribe message (the server may close the socket). */
  rawFrame?: string;
  /** What the operation is (for the summary). */
  operationType: 'query' | 'mutation' | 'subscription' | 'malformed';
}

/** Values the generator reuses so that resolvers meet real objects: ids it saw in answers, names it created. */
export interface Pools {
  ids: string[];
  names: string[];
}

const UNICODE = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDFFF',
  '\uFFFE',
  '\uFFFF',
  '\u202E',
  '\u2028',
  '\u200B',
  'é',
  'e\u0301',
  '😀',
  '👩‍👩‍👧',
  '中文',
  'ﷺ',
  '\t',
  '\n',
  '\r',
  '\\',
  '"',
  "'",
  '`',
  '$',
  '{',
  '}',
  '%s',
  '%n',
  '../',
  '<script>',
  ';',
  '--',
  '\u001b[31m',
];

const SAMPLE_STRINGS = [
  '',
  ' ',
  'fuzz',
  'a',
  '0',
  '-1',
  'null',
  'undefined',
  'true',
  '__proto__',
  'constructor',
  'fuzz-template',
  'fuzz-repo',
  'default',
  'Pod',
  'app=fuzz',
  'a=b,c!=d',
  '!!!',
  '*',
  '1Gi',
  '500m',
  '-5',
  '1e309',
  '30s',
  '5m',
  '0s',
  '-1h',
  '999999h',
  'P1D',
  '2030-01-01T00:00:00.000Z',
  'not-a-date',
  'https://127.0.0.1:9/fuzz.git',
  'ssh://127.0.0.1:9/fuzz.git',
  'file:///tmp/fuzz-nonexistent',
  '--upload-pack=touch /tmp/fuzz',
  'main',
  'refs/heads/../x',
  'user',
  'admin',
  'viewer',
  'Bearer x',
  'eyJhbGciOiJub25lIn0.e30.',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-0000-0000-00000000000g',
  '------------------------------------',
  'FFFFFFFF-FFFF-4FFF-AFFF-FFFFFFFFFFFF',
  "' OR 1=1 --",
  '%',
  '_',
  'ls',
  'sh',
];

/** YAML documents for the *Yaml mutations: valid-ish manifests of the fuzz test's own objects, and broken ones. */
const YAML_SAMPLES = [
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fuzz-cm\n  namespace: NS\ndata:\n  a: b\n',
  'apiVersion: v1\nkind: Secret\nmetadata:\n  name: fuzz-secret\n  namespace: NS\nstringData:\n  k: v\n',
  'apiVersion: stream.streamspace.io/v1alpha1\nkind: Template\nmetadata:\n  name: fuzz-template\nspec:\n  displayName: Fuzz\n  baseImage: nginx\n  webapp:\n    port: 8080\n',
  'apiVersion: stream.space/v1alpha1\nkind: Template\nmetadata:\n  name: fuzz-old\nspec:\n  displayName: Old\n  baseImage: x\n',
  'kind: Template\n',
  '{}',
  '[]',
  '- a\n- b\n',
  'a: &a [*a]\n',
  'a: !!binary AAAA\n',
  'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fuzz-ns\n',
  'apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz-pod\n  namespace: NS\nspec:\n  containers: [{name: c, image: x}]\n',
  '---\n---\n',
  ':\n  :\n',
  'metadata: {name: 42}\n',
];

export interface GeneratorOptions {
  /** Largest string generated (bytes, roughly). */
  maxString: number;
  /** Namespace of the fuzz test's own objects (YAML samples are written into it). */
  namespace: string;
}

/** Names of arguments/fields whose strings must never point off loopback (repository URLs reach git). */
const URL_LIKE = /url/i;

export class RequestGenerator {
  private readonly queryType: GraphQLObjectType;
  private readonly mutationType: GraphQLObjectType;
  private readonly subscriptionType: GraphQLObjectType;
  private varCounter = 0;
  private variables: Record<string, unknown> = {};
  private varDefs: string[] = [];
  private fragments: string[] = [];
  private aliasCounter = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    readonly rng: Rng,
    private readonly pools: Pools,
    private readonly options: GeneratorOptions,
  ) {
    this.queryType = schema.getQueryType()!;
    this.mutationType = schema.getMutationType()!;
    this.subscriptionType = schema.getSubscriptionType()!;
  }

  /** One request for `transport`. */
  next(transport: Transport): FuzzRequest {
    const r = this.rng;
    const kind = r.weighted<'op' | 'multi' | 'deep' | 'garbage' | 'payload' | 'raw'>([
      [80, 'op'],
      [6, 'multi'],
      [4, 'deep'],
      [4, 'garbage'],
      [4, 'payload'],
      [2, 'raw'],
    ]);
    if (kind === 'raw') return transport === 'http' ? this.rawHttp() : this.rawFrame();
    if (kind === 'garbage') return { payload: { query: this.garbageDocument() }, operationType: 'malformed' };
    if (kind === 'deep') return { payload: { query: this.deepDocument() }, operationType: 'query' };
    const count = kind === 'multi' ? r.range(2, 5) : 1;
    const op = this.document(count, transport);
    if (kind === 'payload') {
      // The request's own members of the wrong type.
      const payload = { ...op.payload };
      const member = r.pick(['query', 'variables', 'operationName', 'extensions']);
      payload[member] = this.wrongJson();
      return { payload, operationType: 'malformed' };
    }
    if (transport === 'http' && op.operationType === 'query' && r.chance(0.05)) op.get = true;
    return op;
  }

  /** A document with `count` operations; the payload names one of them (or, sometimes, none or a wrong one). */
  private document(count: number, transport: Transport): FuzzRequest {
    const r = this.rng;
    this.variables = {};
    this.varDefs = [];
    this.fragments = [];
    const ops: string[] = [];
    const names: string[] = [];
    let chosenType: FuzzRequest['operationType'] = 'query';
    const chosen = r.int(count);
    for (let i = 0; i < count; i++) {
      const type = r.weighted<'query' | 'mutation' | 'subscription'>([
        [55, 'query'],
        [35, 'mutation'],
        [transport === 'ws' ? 15 : 3, 'subscription'],
      ]);
      const name = count > 1 || r.chance(0.5) ? `Op${i}_${r.int(1000)}` : '';
      names.push(name);
      if (i === chosen) chosenType = type;
      // Variables belong to the operation they are declared in: only the chosen one gets the payload's variables.
      const savedVars = this.variables;
      const savedDefs = this.varDefs;
      if (i !== chosen) {
        this.variables = {};
        this.varDefs = [];
      }
      const root = type === 'query' ? this.queryType : type === 'mutation' ? this.mutationType : this.subscriptionType;
      // Subscriptions may have one root field only; more is a validation error worth sending now and then.
      const fieldCount = type === 'subscription' ? (r.chance(0.05) ? 2 : 1) : r.weighted([[70, 1], [20, 2], [10, r.range(3, 6)]]);
      const selection = this.rootSelection(root, fieldCount);
      const defs = this.varDefs.length ? `(${this.varDefs.join(', ')})` : '';
      ops.push(`${type === 'query' && !name && !defs && r.chance(0.3) ? '' : `${type} ${name}`}${defs} ${selection}`);
      if (i !== chosen) {
        this.variables = savedVars;
        this.varDefs = savedDefs;
      }
    }
    const query = [...ops, ...this.fragments].join('\n');
    const payload: Record<string, unknown> = { query };
    if (Object.keys(this.variables).length || r.chance(0.1)) payload.variables = this.variables;
    const name = names[chosen];
    if (count > 1) {
      const choice = r.weighted<'right' | 'none' | 'wrong'>([
        [85, 'right'],
        [8, 'none'],
        [7, 'wrong'],
      ]);
      if (choice === 'right') payload.operationName = name;
      else if (choice === 'wrong') payload.operationName = 'NoSuchOperation';
    } else if (name && r.chance(0.5)) payload.operationName = name;
    // Now and then, one variable of the wrong shape.
    if (payload.variables && Object.keys(this.variables).length && r.chance(0.15)) {
      const key = r.pick(Object.keys(this.variables));
      (payload.variables as Record<string, unknown>)[key] = this.wrongJson();
    }
    if (r.chance(0.03)) (payload.variables ??= {}) && ((payload.variables as Record<string, unknown>).undeclared = this.wrongJson());
    return { payload, operationType: chosenType };
  }

  private rootSelection(root: GraphQLObjectType, count: number): string {
    const fields = Object.values(root.getFields());
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(this.fieldSelection(this.rng.pick(fields), 0, true));
    if (this.rng.chance(0.01)) parts.push(`noSuchField${this.rng.int(10)}`);
    return `{ ${parts.join(' ')} }`;
  }

  private fieldSelection(field: GraphQLField<unknown, unknown>, depth: number, root = false): string {
    const r = this.rng;
    const alias = r.chance(root ? 0.2 : 0.08) ? `a${++this.aliasCounter % 100}: ` : '';
    const args = this.argumentsOf(field.args);
    const sub = this.selectionSetOf(field.type, depth + 1);
    const directive = r.chance(0.01) ? r.pick([' @include(if: true)', ' @skip(if: false)', ' @skip(if: "x")', ' @deprecated', ' @include']) : '';
    return `${alias}${field.name}${args}${directive}${sub}`;
  }

  private argumentsOf(args: readonly GraphQLArgument[]): string {
    const r = this.rng;
    const out: string[] = [];
    for (const arg of args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      // Required arguments are usually given (resolvers then run); optional ones now and then.
      if (required ? r.chance(0.01) : r.chance(0.5)) continue;
      out.push(`${arg.name}: ${this.argumentValue(arg.name, arg.type)}`);
    }
    if (r.chance(0.01)) out.push(`noSuchArg: ${this.literal(this.wrongJson())}`);
    return out.length ? `(${out.join(', ')})` : '';
  }

  /** An argument as a literal or, often, as a variable (whose value is sent in the payload). */
  private argumentValue(name: string, type: GraphQLInputType): string {
    const r = this.rng;
    if (r.chance(0.45)) {
      const variable = `v${++this.varCounter % 1000}`;
      const declared = r.chance(0.9) ? String(type) : r.pick(['String', 'Int', 'ID!', '[String]', 'Boolean!', 'JSON', 'NoSuchType']);
      this.varDefs.push(`$${variable}: ${declared}`);
      if (!r.chance(0.03)) this.variables[variable] = r.chance(0.05) ? this.wrongJson() : this.value(name, type, 0);
      return `$${variable}`;
    }
    if (r.chance(0.04)) return this.literal(this.wrongJson());
    return this.literal(this.value(name, type, 0));
  }

  /** A JSON value for an input type: mostly of the right shape. */
  value(name: string, type: GraphQLInputType, depth: number): unknown {
    const r = this.rng;
    if (isNonNullType(type)) return r.chance(0.01) ? null : this.value(name, type.ofType, depth);
    if (r.chance(0.02)) return null;
    if (isListType(type)) {
      if (r.chance(0.1)) return this.value(name, type.ofType, depth + 1); // a single item for a list: coerced
      const n = r.weighted([[40, 0], [40, r.range(1, 3)], [15, r.range(4, 20)], [5, r.range(100, 2000)]]);
      return Array.from({ length: n }, () => this.value(name, type.ofType, depth + 1));
    }
    if (isEnumType(type)) return r.chance(0.95) ? r.pick(type.getValues()).name : this.string(name);
    if (isInputObjectType(type)) {
      const out: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        const required = isNonNullType(field.type) && field.defaultValue === undefined;
        if (required ? r.chance(0.03) : r.chance(0.5)) continue;
        out[field.name] = depth > 6 ? null : this.value(field.name, field.type, depth + 1);
      }
      if (r.chance(0.03)) out.noSuchField = 1;
      return out;
    }
    if (isScalarType(type)) return this.scalar(name, type.name);
    return null;
  }

  private scalar(name: string, scalar: string): unknown {
    const r = this.rng;
    switch (scalar) {
      case 'Int':
        return r.weighted<number>([
          [50, r.range(0, 10)],
          [20, r.range(-100, 1000)],
          [20, r.pick([0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 65535, 65536, 100, 101, 1000, 1001])],
          [10, r.range(-1e9, 1e9)],
        ]);
      case 'Float':
        return r.pick([0, -1, 0.5, 1e-9, 1e308, -1e308, 1.5, 100, 3.14159, 2 ** 53]);
      case 'Boolean':
        return r.chance(0.5);
      case 'ID':
        return this.id();
      case 'DateTimeISO':
        return r.pick(['2030-01-01T00:00:00.000Z', '1970-01-01T00:00:00Z', '2026-13-40T99:99:99Z', 'yesterday', '', '0', '+275760-09-13T00:00:00.000Z']);
      case 'JSON':
      case 'JSONObject':
        return this.jsonValue(0, scalar === 'JSONObject');
      default:
        return this.string(name);
    }
  }

  private id(): string {
    const r = this.rng;
    return r.weighted<string>([
      [50, this.pools.ids.length ? r.pick(this.pools.ids) : this.uuid()],
      [30, this.uuid()],
      [20, this.string('id')],
    ]);
  }

  private uuid(): string {
    const hex = () => this.rng.int(16).toString(16);
    const part = (n: number) => Array.from({ length: n }, hex).join('');
    return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
  }

  /** A string for argument/field `name`: sample values, names the fuzz test owns, random text, unicode, huge text. */
  string(name: string): string {
    const r = this.rng;
    if (URL_LIKE.test(name)) {
      // Repository URLs reach git: only loopback (a closed port), or text without a scheme or host.
      return r.pick(['https://127.0.0.1:9/fuzz.git', 'ssh://127.0.0.1:9/fuzz.git', 'file:///tmp/fuzz-nonexistent', '-x', '', 'not a url', 'https://127.0.0.1:9/' + this.randomText(20).replace(/[:@]/g, '')]);
    }
    const kind = r.weighted<'sample' | 'name' | 'yaml' | 'random' | 'unicode' | 'huge'>([
      [30, 'sample'],
      [20, 'name'],
      [name === 'yaml' ? 60 : 3, 'yaml'],
      [20, 'random'],
      [15, 'unicode'],
      [2, 'huge'],
    ]);
    switch (kind) {
      case 'sample':
        return r.pick(SAMPLE_STRINGS);
      case 'name':
        return this.pools.names.length && r.chance(0.6) ? r.pick(this.pools.names) : `fuzz-${r.int(50)}`;
      case 'yaml':
        return r.pick(YAML_SAMPLES).replaceAll('NS', this.options.namespace);
      case 'random':
        return this.randomText(r.weighted([[70, r.range(1, 16)], [25, r.range(17, 300)], [5, r.range(301, 5000)]]));
      case 'unicode':
        return Array.from({ length: r.range(1, 8) }, () => (r.chance(0.6) ? r.pick(UNICODE) : this.randomText(3))).join('');
      case 'huge': {
        const size = r.weighted([[70, r.range(10_000, 70_000)], [25, r.range(70_000, 300_000)], [5, this.options.maxString]]);
        const unit = r.pick(['a', 'é', '😀', '\u0000', 'x'.repeat(7) + '\n']);
        return unit.repeat(Math.ceil(size / Buffer.byteLength(unit))).slice(0, size);
      }
    }
  }

  private randomText(n: number): string {
    const r = this.rng;
    const alphabet = r.pick(['abcdefghijklmnopqrstuvwxyz0123456789-', 'abcXYZ019 -_./:@!?#&=+%$()[]{}<>"\'\\,;|~`^*', '\u00e9\u00fc\u4e2d\u0410\u05d0\u0000\ud800']);
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
    return s;
  }

  private jsonValue(depth: number, object: boolean): unknown {
    const r = this.rng;
    if (object || r.chance(0.3)) {
      const out: Record<string, unknown> = {};
      const n = depth > 4 ? 0 : r.range(0, 4);
      for (let i = 0; i < n; i++) out[r.pick(['a', 'b', '__proto__', 'constructor', 'x'.repeat(r.range(1, 40)), ''])] = this.jsonValue(depth + 1, false);
      return out;
    }
    if (r.chance(0.2) && depth < 5) return Array.from({ length: r.range(0, 4) }, () => this.jsonValue(depth + 1, false));
    return r.pick<unknown>([null, true, false, 0, -1, 1.5, 1e308, 10, 500, this.string('json'), 'x'.repeat(r.range(0, 600))]);
  }

  /** A JSON value of an arbitrary (usually wrong) type. */
  wrongJson(): unknown {
    const r = this.rng;
    return r.pick<() => unknown>([
      () => null,
      () => r.range(-10, 10),
      () => 1.5,
      () => 2 ** 53 + 1,
      () => true,
      () => this.string('x'),
      () => [],
      () => [1, 'a', null],
      () => ({}),
      () => ({ a: { b: [1] } }),
      () => '{ me { id } }',
    ])();
  }

  /** A value as a GraphQL literal (objects without quotes around keys; strings JSON-escaped). */
  private literal(value: unknown): string {
    if (value === null || value === undefined) return 'null';
    if (Array.isArray(value)) return `[${value.map((v) => this.literal(v)).join(', ')}]`;
    if (typeof value === 'object') {
      return `{ ${Object.entries(value as Record<string, unknown>)
        .filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k))
        .map(([k, v]) => `${k}: ${this.literal(v)}`)
        .join(', ')} }`;
    }
    if (typeof value === 'string') return this.rng.chance(0.03) && !value.includes('"""') ? `"""${value}"""` : JSON.stringify(value);
    if (typeof value === 'number' && !Number.isFinite(value)) return '1e999';
    return String(value);
  }

  private selectionSetOf(type: GraphQLOutputType, depth: number): string {
    const named = getNamedType(type);
    if (isLeafType(named)) return this.rng.chance(0.003) ? ' { id }' : '';
    if (this.rng.chance(0.003)) return ''; // a missing selection: a validation error
    return ` ${this.selections(named, depth)}`;
  }

  private selections(type: GraphQLNamedType, depth: number): string {
    const r = this.rng;
    if (isUnionType(type) || isInterfaceType(type)) {
      const members = isUnionType(type) ? type.getTypes() : this.schema.getPossibleTypes(type);
      return `{ __typename ${members.map((m) => `... on ${m.name} ${this.selections(m, depth + 1)}`).join(' ')} }`;
    }
    if (!isObjectType(type)) return '{ __typename }';
    const fields = Object.values(type.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const objects = fields.filter((f) => !isLeafType(getNamedType(f.type)));
    const parts: string[] = [];
    const nLeaves = r.weighted([[60, r.range(1, 3)], [30, r.range(3, 8)], [10, leaves.length]]);
    for (let i = 0; i < Math.min(nLeaves, leaves.length); i++) parts.push(this.fieldSelection(r.pick(leaves), depth));
    if (objects.length && depth < 8 && r.chance(0.5 / (1 + depth * 0.5))) parts.push(this.fieldSelection(r.pick(objects), depth));
    if (!parts.length || r.chance(0.1)) parts.push('__typename');
    if (r.chance(0.08)) {
      const name = `F${this.fragments.length}_${r.int(1000)}`;
      this.fragments.push(`fragment ${name} on ${type.name} { ${parts.join(' ')} }`);
      return r.chance(0.3) ? `{ ...${name} __typename }` : `{ ...${name} }`;
    }
    if (r.chance(0.05)) return `{ ... on ${type.name} { ${parts.join(' ')} } }`;
    if (r.chance(0.01)) return `{ ... on ${r.pick(['Query', 'User', 'NoSuchType'])} { __typename } ${parts.join(' ')} }`;
    return `{ ${parts.join(' ')} }`;
  }

  /** Documents that test the depth limit, fragment cycles and many aliases. */
  private deepDocument(): string {
    const r = this.rng;
    const n = r.weighted([[40, r.range(10, 25)], [40, r.range(25, 120)], [20, r.range(120, 2000)]]);
    switch (r.int(5)) {
      case 0:
        return `query { ${'... on Query { '.repeat(n)}version { version }${' }'.repeat(n)} }`;
      case 1:
        return `query { __schema { types { ${'fields { type { ofType { '.repeat(Math.min(n, 300))}name${' } } }'.repeat(Math.min(n, 300))} } } }`;
      case 2:
        return `query { ${Array.from({ length: n }, (_, i) => `a${i}: version { version }`).join(' ')} }`;
      case 3:
        return `fragment A on Query { ...B version { version } } fragment B on Query { ...A } query { ...A }`;
      default:
        return `query { sessions { edges { node { template { name } ${'owner { id } '.repeat(Math.min(n, 50))} } } } }`;
    }
  }

  private garbageDocument(): string {
    const r = this.rng;
    return r.pick<() => string>([
      () => '',
      () => '{',
      () => '}'.repeat(r.range(1, 100)),
      () => 'query',
      () => '{ version { version } } garbage',
      () => '{ version(arg: { version } }',
      () => '"unterminated',
      () => '# comment only',
      () => this.randomText(r.range(1, 500)),
      () => `{ ${'a '.repeat(r.range(5000, 20000))} }`,
      () => 'query Q($v: Int = "x") { version { version } }',
      () => 'subscription { serverTime } subscription { serverTime }',
      () => 'query { version { version } } mutation { rotateSigningKey }',
      () => `{ version @${'include(if: true) @'.repeat(r.range(40, 120))}skip(if: false) { version } }`,
      () => '{ __typename' + ' ...on Query { __typename'.repeat(200) + ' }'.repeat(201),
      () => '\uFEFF{ version { version } }',
      () => '{ version { version } }\u0000',
      () => `{ "${'\uD800'}" }`,
    ])();
  }

  private rawHttp(): FuzzRequest {
    const r = this.rng;
    const raw = r.pick<{ body: string; contentType: string }>([
      { body: '{', contentType: 'application/json' },
      { body: '', contentType: 'application/json' },
      { body: 'null', contentType: 'application/json' },
      { body: '[]', contentType: 'application/json' },
      { body: '[{"query":"{ version { version } }"}]', contentType: 'application/json' },
      { body: '"query"', contentType: 'application/json' },
      { body: '{"query": "{ version { version } }"}', contentType: 'text/plain' },
      { body: 'query=%7B+version+%7B+version+%7D+%7D', contentType: 'application/x-www-form-urlencoded' },
      { body: '{"query": "{ version { version } }", "query": 1}', contentType: 'application/json' },
      { body: '{"__proto__": {"query": "{ me { id } }"}}', contentType: 'application/json' },
      { body: '{"query": "{ version { version } }"}', contentType: 'application/graphql' },
      { body: '{"query":"' + 'x'.repeat(1_100_000) + '"}', contentType: 'application/json' },
    ]);
    return { raw, operationType: 'malformed' };
  }

  private rawFrame(): FuzzRequest {
    const r = this.rng;
    const frame = r.pick<() => string>([
      () => '{',
      () => '[]',
      () => '{"type":"subscribe"}',
      () => '{"type":"subscribe","id":"x","payload":null}',
      () => '{"type":"subscribe","id":1,"payload":{"query":"{ version { version } }"}}',
      () => '{"type":"subscribe","id":"dup","payload":{"query":"subscription { serverTime(count: 3) }"}}',
      () => '{"type":"nope"}',
      () => '{"type":"connection_init"}',
      () => '{"type":"complete","id":"never-started"}',
      () => '{"type":"ping"}',
      () => '{"type":"pong"}',
      () => `{"type":"subscribe","id":"big","payload":{"query":"${'a'.repeat(1_100_000)}"}}`,
      () => this.randomText(r.range(1, 200)),
    ])();
    return { rawFrame: frame, operationType: 'malformed' };
  }
}
