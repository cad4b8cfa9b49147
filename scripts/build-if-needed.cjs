#!/usr/bin/env node
// `npm start` runs this first: it builds each part (server, GraphQL IDE, admin and portal clients) only when
// its output is missing or older than its sources, so a fresh clone builds once and later starts are instant.
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** Newest mtime of any file under the given paths (directories walked, node_modules and outputs skipped). */
function newest(paths) {
  let max = 0;
  const walk = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      const base = path.basename(p);
      if (base === 'node_modules' || base === 'dist' || base === 'dist-ide') return;
      for (const entry of fs.readdirSync(p)) walk(path.join(p, entry));
    } else if (st.mtimeMs > max) max = st.mtimeMs;
  };
  for (const p of paths) walk(path.join(root, p));
  return max;
}

const parts = [
  {
    name: 'server',
    output: 'server/dist/server/src/main.js',
    sources: ['server/src', 'migrations', 'server/tsconfig.json', 'server/tsconfig.build.json', 'package-lock.json'],
    command: 'npx -w server tsc -p tsconfig.build.json',
  },
  {
    name: 'GraphQL IDE',
    output: 'server/dist-ide/index.html',
    sources: ['server/ide', 'package-lock.json'],
    command: 'npm run -w server build:ide',
  },
  {
    name: 'admin dashboard',
    output: 'client-admin/dist/index.html',
    sources: ['client-admin', 'client-shared', 'schema.graphql', 'package-lock.json'],
    command: 'npm run -w client-admin build',
  },
  {
    name: 'user portal',
    output: 'client-portal/dist/index.html',
    sources: ['client-portal', 'client-shared', 'schema.graphql', 'package-lock.json'],
    command: 'npm run -w client-portal build',
  },
];

for (const part of parts) {
  let built;
  try {
    built = fs.statSync(path.join(root, part.output)).mtimeMs;
  } catch {
    built = 0;
  }
  if (built && built >= newest(part.sources)) continue;
  console.error(`[build] ${part.name}: ${built ? 'sources changed' : 'not built yet'}; building`);
  const started = Date.now();
  try {
    execSync(part.command, { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`[build] ${part.name}: the build failed (see the errors above); not starting`);
    process.exit(1);
  }
  // tsc leaves an unchanged file's mtime alone; touch the output so the next start skips the build.
  const now = new Date();
  fs.utimesSync(path.join(root, part.output), now, now);
  console.error(`[build] ${part.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
