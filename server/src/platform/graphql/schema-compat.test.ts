import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { breakingChanges, checkSchemaCompatibility, readSchemaBaseline } from './schema-compat';
import { schemaFilePath } from './schema-file';

const run = promisify(execFile);
const serverDir = path.resolve(__dirname, '../../..');

const V1 = `type Query {\n  "The version"\n  version: String!\n  "A list"\n  items(first: Int): [String!]!\n}\n`;
const V2_ADDS = V1.replace('type Query {', 'type Query {\n  "New"\n  added: Int\n');
const V2_REMOVES = V1.replace('  "The version"\n  version: String!\n', '');
const V2_REQUIRES_ARG = V1.replace('items(first: Int)', 'items(first: Int!)');

/** A real git repository in a temp dir with schema.graphql committed on main. */
function repoWith(schema: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-compat-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'dev');
  const file = path.join(dir, 'schema.graphql');
  fs.writeFileSync(file, schema);
  git('add', '.');
  git('commit', '-q', '-m', 'schema v1');
  const commit = (content: string, message: string) => {
    fs.writeFileSync(file, content);
    git('commit', '-q', '-am', message);
  };
  return { dir, file, git, commit };
}

describe('schema compatibility (the API only grows)', () => {
  afterEach(() => delete process.env.STREAMSPACE_SCHEMA_BREAK);

  it('finds removed fields and newly required arguments, not added fields', async () => {
    expect(await breakingChanges(V1, V2_ADDS)).to.deep.equal([]);
    const removed = await breakingChanges(V1, V2_REMOVES);
    expect(removed.map((c) => c.path)).to.deep.equal(['Query.version']);
    expect(removed[0].message).to.match(/version.*removed/);
    const required = await breakingChanges(V1, V2_REQUIRES_ARG);
    expect(required).to.have.length(1);
    expect(required[0].message).to.match(/first/);
  });

  it('a branch that removes a field fails until a commit acknowledges it with a Schema-Break trailer', async () => {
    const repo = repoWith(V1);
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(V2_REMOVES, 'api: drop version');
    const baseline = readSchemaBaseline(repo.file, undefined);
    expect(baseline).to.include({ available: true, ref: 'main' });
    const refused = await checkSchemaCompatibility(V2_REMOVES, baseline);
    expect(refused.ok).to.equal(false);
    expect(refused.lines.join('\n')).to.match(/1 breaking change\(s\) against main/).and.match(/Query\.version/).and.match(/Schema-Break:/);

    repo.commit(V2_REMOVES + '\n', 'api: version is gone\n\nSchema-Break: nobody calls version since v0.1');
    const acknowledged = await checkSchemaCompatibility(V2_REMOVES, readSchemaBaseline(repo.file, undefined));
    expect(acknowledged.ok).to.equal(true);
    expect(acknowledged.lines[0]).to.match(/acknowledged \(nobody calls version since v0\.1\)/);
  });

  it('uncommitted work can be acknowledged with STREAMSPACE_SCHEMA_BREAK; additions need nothing', async () => {
    const repo = repoWith(V1);
    repo.git('checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(repo.dir, 'notes.md'), 'work in progress\n');
    repo.git('add', 'notes.md');
    repo.git('commit', '-q', '-m', 'docs: notes');
    const additions = await checkSchemaCompatibility(V2_ADDS, readSchemaBaseline(repo.file, 'main'));
    expect(additions).to.deep.include({ ok: true });
    expect(additions.lines[0]).to.match(/^no breaking change against main \(/);
    expect((await checkSchemaCompatibility(V2_REQUIRES_ARG, readSchemaBaseline(repo.file, 'main'))).ok).to.equal(false);
    process.env.STREAMSPACE_SCHEMA_BREAK = 'clients always send first';
    expect((await checkSchemaCompatibility(V2_REQUIRES_ARG, readSchemaBaseline(repo.file, 'main'))).ok).to.equal(true);
  });

  it('on main itself the last commit is checked against its parent', async () => {
    const repo = repoWith(V1);
    repo.commit(V2_REMOVES, 'api: drop version');
    const baseline = readSchemaBaseline(repo.file, undefined);
    expect(baseline).to.include({ available: true, ref: 'main^' });
    expect((await checkSchemaCompatibility(V2_REMOVES, baseline)).ok).to.equal(false);
  });

  it('says why when there is nothing to compare with', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-nogit-'));
    const outside = readSchemaBaseline(path.join(dir, 'schema.graphql'), undefined);
    expect(outside).to.deep.equal({ available: false, reason: `${dir} is not inside a git checkout` });
    const single = repoWith(V1);
    const verdict = await checkSchemaCompatibility(V1, readSchemaBaseline(single.file, undefined));
    expect(verdict).to.deep.equal({ ok: true, lines: ['breaking-change check not run: HEAD is main and has no parent commit to compare with'] });
    const missingBase = readSchemaBaseline(single.file, 'release-9');
    expect(missingBase).to.deep.equal({ available: false, reason: 'no base branch found (tried release-9; set STREAMSPACE_SCHEMA_BASE)' });
  });

  it('npm run schema:check fails on a break against the base branch and names it', async function () {
    this.timeout(60_000);
    // The base has one more Query field than the code: the committed file (which matches the code) removes it.
    const current = fs.readFileSync(schemaFilePath(), 'utf8');
    const repo = repoWith(current.replace('type Query {', 'type Query {\n  "Gone"\n  legacyField: String\n'));
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit(current, 'api: remove legacyField');
    const cli = (env: NodeJS.ProcessEnv = {}) =>
      run(process.execPath, ['-r', '@swc-node/register', 'src/composition/cli/schema.cli.ts', 'check', repo.file], {
        cwd: serverDir,
        env: { ...process.env, STREAMSPACE_SCHEMA_BASE: '', ...env },
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const refused = await cli();
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr).to.match(/Field 'legacyField' was removed from object type 'Query'/);
    const acknowledged = await cli({ STREAMSPACE_SCHEMA_BREAK: 'test' });
    expect(acknowledged.code, acknowledged.stderr).to.equal(0);
    expect(acknowledged.stdout).to.match(/acknowledged \(test\)/);
  });
});
