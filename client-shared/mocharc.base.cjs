// The mocha settings of every client workspace (each .mocharc.cjs requires this file): unit tests beside the code
// (src/**/*.test.ts), pure TypeScript in Node, no browser and no server.
// test-support/register.mjs runs the .ts sources as they are and resolves packages as Vite does.
module.exports = {
  'node-option': ['import=@streamspace/client-shared/test-support/register'],
  spec: ['src/**/*.test.ts'],
  extension: ['ts'],
  timeout: 5000,
  'forbid-only': Boolean(process.env.CI),
};
