import fs from 'node:fs';
import { checkSchemaCompatibility, readSchemaBaseline } from '../../platform/graphql/schema-compat';
import { compareSchema, renderSchema, schemaFilePath } from '../../platform/graphql/schema-file';
import { buildAppSchema } from '../resolvers';

/**
 * `npm run schema:emit` writes schema.graphql; `npm run schema:check` fails when it is stale, or when it breaks the
 * schema of the main branch's last commit without a `Schema-Break:` acknowledgement (schema-compat.ts).
 */
async function main() {
  const mode = process.argv[2];
  // An explicit path (second argument) lets tests check a deliberately drifted copy.
  const file = process.argv[3] ?? schemaFilePath();
  const expected = renderSchema(await buildAppSchema());
  if (mode === 'emit') {
    fs.writeFileSync(file, expected);
    console.log(`schema:emit: wrote ${file}`);
    return;
  }
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const diff = compareSchema(expected, committed);
  if (!diff.upToDate) {
    console.error(`schema:check: ${file} differs from the schema the code builds:\n${diff.summary}`);
    console.error('Run `npm run schema:emit` and commit schema.graphql.');
    process.exit(1);
  }
  console.log('schema:check: schema.graphql matches the code.');
  const verdict = await checkSchemaCompatibility(committed!, readSchemaBaseline(file));
  for (const line of verdict.lines) (verdict.ok ? console.log : console.error)(`schema:check: ${line}`);
  if (!verdict.ok) process.exit(1);
}

main().catch((err) => {
  console.error(`schema ${process.argv[2] ?? ''} failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
