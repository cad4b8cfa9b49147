import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { buildAppSchema } from '../../src/composition/resolvers';
import { compareSchema, renderSchema, schemaFilePath } from '../../src/platform/graphql/schema-file';

const run = promisify(execFile);
const serverDir = path.resolve(__dirname, '../..');
const cli = (file: string) =>
  run(process.execPath, ['-r', '@swc-node/register', 'src/composition/cli/schema.cli.ts', 'check', file], { cwd: serverDir }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('schema.graphql is emitted from the code', () => {
  it('the committed schema.graphql matches the code', async () => {
    const expected = renderSchema(await buildAppSchema());
    const diff = compareSchema(expected, fs.readFileSync(schemaFilePath(), 'utf8'));
    expect(diff.summary).to.equal('');
    expect(diff.upToDate).to.equal(true);
  });

  it('schema:check passes on the committed file and fails on a deliberate drift', async () => {
    const ok = await cli(schemaFilePath());
    expect(ok.code, ok.stderr).to.equal(0);

    const drifted = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schema-drift-')), 'schema.graphql');
    fs.writeFileSync(drifted, fs.readFileSync(schemaFilePath(), 'utf8').replace('version: String!', 'version: String'));
    const bad = await cli(drifted);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/differs from the schema the code builds/);
    expect(bad.stderr).to.match(/version: String/);

    fs.rmSync(drifted);
    const missing = await cli(drifted);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/does not exist/);
  });

  it('every type, field and argument carries a description', async () => {
    const schema = await buildAppSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
