// One mocha run covers every server tier: unit tests beside the code (src/**/*.test.ts, also run alone by
// `npm run test:unit` with .mocharc.unit.cjs, in seconds) and integration tests against a real PostgreSQL and a
// real kube-apiserver (test/**/*.test.ts).
// Root hooks in test/support/*.hooks.ts start each shared dependency lazily and stop it at the end.
const fs = require('node:fs');
const path = require('node:path');
const supportDir = path.join(__dirname, 'test', 'support');
const hooks = fs.existsSync(supportDir)
  ? fs.readdirSync(supportDir).filter((f) => f.endsWith('.hooks.ts')).map((f) => path.join(supportDir, f))
  : [];
module.exports = {
  require: ['@swc-node/register', ...hooks],
  spec: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  extension: ['ts'],
  timeout: 60000,
  slow: 5000,
  // Force the process to end after the root hooks stopped PostgreSQL and the control plane, so a handle left open
  // by a failed test (a browser, a socket) can never hang CI.
  exit: true,
  'forbid-only': Boolean(process.env.CI),
};
