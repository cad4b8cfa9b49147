// Preloaded by every client's unit tests (mocha's node-option `import=@streamspace/client-shared/test-support/register`):
// TypeScript through @swc-node/register's ESM loader, and packages resolved the way Vite resolves them.
import { register } from 'node:module'
import '@swc-node/register/esm-register'

register('./bundler-resolve.mjs', import.meta.url)
