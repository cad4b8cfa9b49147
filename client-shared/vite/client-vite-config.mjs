// @ts-check
// Plain JavaScript (typed by client-vite-config.d.mts): Vite loads an app's vite.config.ts by bundling it, and leaves
// this package's files to Node, which cannot run TypeScript.
import vue from '@vitejs/plugin-vue'
import vuetify from 'vite-plugin-vuetify'

/** The API server the dev server proxies to. */
const API_TARGET = 'http://localhost:8080'

/**
 * The head every client page starts with; each app's index.html adds only its title.
 * @returns {import('vite').Plugin}
 */
function documentHead() {
  return {
    name: 'streamspace-document-head',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { charset: 'UTF-8' }, injectTo: 'head-prepend' },
      { tag: 'meta', attrs: { name: 'viewport', content: 'width=device-width, initial-scale=1.0' }, injectTo: 'head-prepend' },
      { tag: 'meta', attrs: { name: 'color-scheme', content: 'light dark' }, injectTo: 'head-prepend' },
    ],
  }
}

/**
 * The Vite configuration both clients build with: Vue, Vuetify's auto-import, dist/ output and the API proxy.
 * @param {import('./client-vite-config.d.mts').ClientViteOptions} options
 * @returns {import('vite').UserConfig}
 */
export function clientViteConfig(options) {
  return {
    base: options.base,
    plugins: [vue(), vuetify({ autoImport: true }), documentHead()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      // Vite prints each chunk with its gzip size; keep that report on (route chunks stay small; CodeMirror and
      // Chart.js are split into the admin routes that use them).
      reportCompressedSize: true,
      chunkSizeWarningLimit: 600,
    },
    server: {
      proxy: {
        '/graphql': { target: API_TARGET, ws: true },
        '/auth': { target: API_TARGET },
        ...Object.fromEntries((options.proxy ?? []).map((path) => [path, { target: API_TARGET }])),
      },
    },
  }
}
