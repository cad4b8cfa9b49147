// The unit tier (`npm run test:unit`): pure tests beside the code (src/**/*.test.ts). No PostgreSQL, no cluster,
// no root hooks; the whole tier runs in seconds. `npm test` (.mocharc.cjs) runs them again with the integration tests.
module.exports = {
  require: ['@swc-node/register'],
  spec: ['src/**/*.test.ts'],
  extension: ['ts'],
  timeout: 10000,
  slow: 1000,
  'forbid-only': Boolean(process.env.CI),
};
