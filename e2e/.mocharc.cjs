// Browser end-to-end tests: each spec starts the real built server (embedded PostgreSQL in a temp dir)
// and drives Debian's Chromium through playwright-core. Screenshots and server logs go to e2e/artifacts/.
const path = require('node:path');

module.exports = {
  // diagnostics: a failing test prints its pages and server logs (CI keeps no artifacts).
  require: ['@swc-node/register', path.join(__dirname, 'support', 'diagnostics.ts')],
  spec: [path.join(__dirname, 'tests', '**', '*.e2e.ts')],
  extension: ['ts'],
  // Starting the server (initdb + migrations) and Chromium takes seconds on a 2-core machine.
  timeout: 120000,
  slow: 15000,
  exit: false,
  'forbid-only': Boolean(process.env.CI),
};
