import fs from 'node:fs';
import path from 'node:path';
import { withConfigTable } from '../config-docs';

/** `npm run docs:config` rewrites the README's configuration table; `... check` fails when it is stale. */
const readmePath = path.resolve(__dirname, '../../../../README.md');
const mode = process.argv[2] ?? 'emit';
const current = fs.readFileSync(readmePath, 'utf8');
const next = withConfigTable(current);
if (mode === 'check') {
  if (next !== current) {
    console.error('docs:config: the configuration table in README.md is out of date; run `npm run docs:config`.');
    process.exit(1);
  }
} else if (next !== current) {
  fs.writeFileSync(readmePath, next);
  console.error(`docs:config: wrote ${readmePath}`);
}
