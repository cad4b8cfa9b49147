import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** heap.ts as plain CommonJS, for a child run without a TypeScript loader (with @swc-node/register loaded, the burst below no longer tenures the site, and the control would fail). */
function heapModuleSource(): string {
  const source = fs.readFileSync(path.join(__dirname, 'heap.ts'), 'utf8');
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
}

/**
 * Whether a code site that has just made a burst of long-lived objects makes its next objects in the young generation
 * (printed by a child process: V8's natives syntax, needed to ask where an object is, stays out of this one). With
 * pretenuring on, the burst makes V8 tenure the site and every later object of it is born old.
 */
function bornYoungAfterBurst(tune: boolean): number {
  const script = `
    const heap = { exports: {} };
    new Function('exports', 'require', 'module', ${JSON.stringify(heapModuleSource())})(heap.exports, require, heap);
    ${tune ? 'heap.exports.tuneHeap();' : ''}
    const young = new Function('o', 'return %InYoungGeneration(o)');
    function make(i) { return [i, 'x' + i, i + 1]; }
    const keep = [];
    for (let i = 0; i < 300000; i++) keep.push(make(i));
    let n = 0;
    for (let i = 0; i < 1000; i++) if (young(make(i))) n++;
    process.stdout.write(String(n));
  `;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return Number(out);
}

describe('tuneHeap', () => {
  it('keeps a site that made long-lived objects making young ones (allocation-site pretenuring off)', function () {
    this.timeout(60_000);
    // The control: without tuneHeap the same burst tenures the site (so the check below can see pretenuring).
    assert.equal(bornYoungAfterBurst(false), 0);
    assert.equal(bornYoungAfterBurst(true), 1000);
  });
});
