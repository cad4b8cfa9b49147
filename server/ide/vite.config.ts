import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const ideRoot = dirname(fileURLToPath(import.meta.url))

/**
 * The GraphQL IDE (GraphiQL) bundled for air-gapped clusters: every script, style, font and
 * Monaco web worker ships in `server/dist-ide`, which the server serves at /graphql-ide/ and
 * returns as the page for `GET /graphql` from a browser.
 */
export default defineConfig({
  root: ideRoot,
  base: '/graphql-ide/',
  plugins: [react()],
  worker: {
    // Monaco's GraphQL worker is split into chunks, which only ES module workers allow.
    format: 'es',
  },
  build: {
    outDir: resolve(ideRoot, '../dist-ide'),
    emptyOutDir: true,
    // Monaco alone is several MB; it is loaded once from the cluster, never from a CDN.
    chunkSizeWarningLimit: 5000,
    rolldownOptions: {
      onLog(level, log, handler) {
        // GraphiQL ships React-compiler directives ("use no memo") that a bundle cannot keep; harmless.
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return
        handler(level, log)
      },
    },
  },
  server: {
    proxy: {
      '/graphql': { target: 'http://localhost:8080', ws: true },
    },
  },
})
