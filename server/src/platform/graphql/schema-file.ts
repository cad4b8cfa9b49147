import fs from 'node:fs';
import path from 'node:path';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';

export const SCHEMA_HEADER =
  '# This file is generated from the server code by `npm run schema:emit`; do not edit it by hand.\n' +
  '# `npm run schema:check` (part of `npm test`) fails when it differs from the code.\n\n';

/** The committed schema lives at the repository root, where the clients' checks read it. */
export function schemaFilePath(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'server'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (a folder with package.json and server/)');
    dir = parent;
  }
  return path.join(dir, 'schema.graphql');
}

/** Sorted so that moving code around never reorders the file. */
export function renderSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}

export interface SchemaDiff {
  upToDate: boolean;
  /** A short human-readable excerpt of the first differences. */
  summary: string;
}

export function compareSchema(expected: string, committed: string | undefined): SchemaDiff {
  if (committed === undefined) return { upToDate: false, summary: 'schema.graphql does not exist' };
  if (committed === expected) return { upToDate: true, summary: '' };
  const a = committed.split('\n');
  const b = expected.split('\n');
  const lines: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && lines.length < 20; i++) {
    if (a[i] !== b[i]) {
      if (a[i] !== undefined) lines.push(`line ${i + 1} committed: ${a[i]}`);
      if (b[i] !== undefined) lines.push(`line ${i + 1} from code:  ${b[i]}`);
    }
  }
  return { upToDate: false, summary: lines.join('\n') };
}
