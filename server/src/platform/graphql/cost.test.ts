import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  buildSchema,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  specifiedRules,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, fieldExtensionsEstimator } from 'graphql-query-complexity';
import { loadConfig } from '../../config/config';
import { armorValidationRules, hideFieldSuggestions } from './armor';
import { apiCostEstimator, KUBERNETES_BACKED_FIELDS, KUBERNETES_FIELD_COST } from './cost';
import { operationDepth } from './limits';
import { MAX_PAGE_SIZE } from './pagination';
import { schemaFilePath } from './schema-file';

const repoRoot = path.dirname(schemaFilePath());
const schema = buildSchema(fs.readFileSync(schemaFilePath(), 'utf8'));
const defaults = loadConfig({} as NodeJS.ProcessEnv).graphql;

function cost(document: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string): number {
  return getComplexity({ schema, query: document, variables, operationName, estimators: [fieldExtensionsEstimator(), apiCostEstimator()] });
}

/** A value of `type` for a variable without a default: the largest page for `first`, a placeholder otherwise. */
function sampleValue(s: GraphQLSchema, type: GraphQLInputType, name: string): unknown {
  if (isNonNullType(type)) return sampleValue(s, type.ofType, name);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => [f.name, sampleValue(s, f.type, f.name)]));
  }
  if (type.name === 'Int') return name === 'first' ? MAX_PAGE_SIZE : 1;
  if (type.name === 'Boolean') return true;
  if (type.name === 'Float') return 1;
  if (type.name === 'DateTimeISO') return new Date(0).toISOString();
  return 'x';
}

function graphqlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (['node_modules', 'dist', 'generated'].includes(e.name)) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? graphqlFiles(p) : e.name.endsWith('.graphql') ? [p] : [];
  });
}

describe('GraphQL cost rules (unit)', () => {
  it('names only Kubernetes-backed fields that exist in schema.graphql', () => {
    for (const coordinate of KUBERNETES_BACKED_FIELDS) {
      const [typeName, fieldName] = coordinate.split('.');
      const type = schema.getType(typeName) as { getFields?: () => Record<string, unknown> } | undefined;
      expect(type?.getFields?.()[fieldName], coordinate).to.not.equal(undefined);
    }
  });

  it('charges every Kubernetes-backed field and multiplies lists, so aliasing `templates` cannot fit 1,000 API calls', () => {
    const one = cost(parse('{ templates { name } }'));
    expect(one).to.be.greaterThan(KUBERNETES_FIELD_COST);
    const aliased = parse(`{ ${Array.from({ length: 1000 }, (_, i) => `t${i}: templates { name }`).join(' ')} }`);
    expect(cost(aliased)).to.be.greaterThan(defaults.maxComplexity);
    // Within the budget, a request holds at most this many Kubernetes-backed fields...
    expect(Math.floor(defaults.maxComplexity / one)).to.be.lessThan(25);
    // ...and the alias limit refuses the amplification before anything runs.
    const errors = validate(schema, aliased, [...specifiedRules, ...armorValidationRules(defaults)]);
    expect(errors.map((e) => e.message)).to.deep.include('Syntax Error: Aliases limit of 15 exceeded, found 1000.');
    // A page costs its size; an unpaged list its assumed size; a connection's edges are not counted twice.
    expect(cost(parse('{ users(first: 100) { edges { node { id } } } }'))).to.equal(1 + 100 * (1 + 1 + 1));
    expect(cost(parse('{ clusterNodes { name } }'))).to.equal(1 + KUBERNETES_FIELD_COST + 20);
    expect(cost(parse('{ me { id } }'))).to.equal(2);
  });

  it('limits directives and hides field suggestions', () => {
    const many = parse(`{ me { id ${'@include(if: true) '.repeat(60)} } }`);
    const errors = validate(schema, many, [...armorValidationRules(defaults)]);
    expect(errors.map((e) => e.message)).to.deep.include('Syntax Error: Directives limit of 50 exceeded, found 60.');
    const typo = validate(schema, parse('{ me { usernam } }'));
    expect(typo[0].message).to.match(/Did you mean/);
    hideFieldSuggestions(typo);
    expect(typo[0]).to.be.instanceOf(GraphQLError);
    expect(typo[0].message).to.not.match(/Did you mean|username/);
  });

  it('fits every client operation in the default limits', () => {
    const files = ['client-portal', 'client-admin', 'client-shared'].flatMap((c) => graphqlFiles(path.join(repoRoot, c, 'src')));
    expect(files.length).to.be.greaterThan(10);
    const fragments = files.flatMap((f) => parse(fs.readFileSync(f, 'utf8')).definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION));
    let measured = 0;
    for (const file of files) {
      const doc = parse(fs.readFileSync(file, 'utf8'));
      for (const op of doc.definitions) {
        if (op.kind !== Kind.OPERATION_DEFINITION) continue;
        const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [op, ...fragments] };
        const variables = Object.fromEntries(
          (op.variableDefinitions ?? [])
            .filter((v) => !v.defaultValue || v.variable.name.value === 'first')
            .map((v) => [v.variable.name.value, sampleValue(schema, typeFromAST(schema, v.type as never) as GraphQLInputType, v.variable.name.value)]),
        );
        const name = op.name?.value ?? file;
        expect(cost(document, variables, op.name?.value), name).to.be.at.most(defaults.maxComplexity);
        expect(operationDepth(document, op.name?.value), name).to.be.at.most(defaults.maxDepth);
        expect(validate(schema, document, armorValidationRules(defaults)), name).to.deep.equal([]);
        measured++;
      }
    }
    expect(measured).to.be.greaterThan(20);
  });
});
