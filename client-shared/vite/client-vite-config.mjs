// @ts-check
// Plain JavaScript (typed by client-vite-config.d.mts): Vite loads an app's vite.config.ts by bundling it, and leaves
// this package's files to Node, which cannot run TypeScript.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import purgeCSSPlugin from '@fullhuman/postcss-purgecss'
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
 * Apollo Client's development-only checks and messages leave the production build, as its documentation ("Reducing
 * bundle size") describes; the dev server keeps them.
 * @returns {import('vite').Plugin}
 */
function apolloProductionBuild() {
  return {
    name: 'streamspace-apollo-production',
    config: (_config, { command }) => (command === 'build' ? { define: { 'globalThis.__DEV__': 'false' } } : {}),
  }
}

/** Vuetify's utility classes (margins, flex, typography, ... in every breakpoint): 240 KB of CSS, 27 KB gzip. */
const VUETIFY_UTILITIES = /[\\/]vuetify[\\/]lib[\\/]styles[\\/]utilities\.css$/
const SHARED_SRC = fileURLToPath(new URL('../src', import.meta.url))
const VUETIFY_LIB = path.dirname(fileURLToPath(import.meta.resolve('vuetify')))

/**
 * A production build keeps only the Vuetify utility classes the app can use: the class names written in the app's
 * and the shared sources, those Vuetify's own components write, and the families Vuetify builds from a prop's
 * value at run time (`rounded="lg"` becomes `rounded-lg`; elevation, border, a row's justify/align). PurgeCSS
 * (a well-kept library) reads the sources; only vuetify/styles/utilities is purged, never a component's own CSS.
 * The dev server keeps them all, so a class added while editing works at once.
 * @returns {{ vite: import('vite').Plugin, postcss: import('postcss').Plugin }}
 */
function vuetifyUtilitiesPurge() {
  let appRoot = process.cwd()
  let build = false
  return {
    vite: {
      name: 'streamspace-vuetify-utilities',
      configResolved(config) {
        appRoot = config.root
        build = config.command === 'build'
      },
    },
    postcss: {
      postcssPlugin: 'streamspace-vuetify-utilities',
      async OnceExit(root, helpers) {
        if (!build || !VUETIFY_UTILITIES.test(root.source?.input.file ?? '')) return
        const purge = purgeCSSPlugin({
          content: [
            path.join(appRoot, 'index.html'),
            path.join(appRoot, 'src/**/*.{vue,ts}'),
            path.join(SHARED_SRC, '**/*.{vue,ts}'),
            path.join(VUETIFY_LIB, '{components,composables,directives,labs}/**/*.js'),
          ],
          safelist: { standard: [/^v-/, /^rounded/, /^elevation-/, /^border/, /^justify-/, /^align-/] },
        })
        await /** @type {any} */ (purge).OnceExit(root, helpers)
      },
    },
  }
}

/**
 * The Vite configuration both clients build with: Vue, Vuetify's auto-import, dist/ output and the API proxy.
 * @param {import('./client-vite-config.d.mts').ClientViteOptions} options
 * @returns {import('vite').UserConfig}
 */
export function clientViteConfig(options) {
  const utilities = vuetifyUtilitiesPurge()
  return {
    base: options.base,
    plugins: [vue(), vuetify({ autoImport: true }), documentHead(), utilities.vite, apolloProductionBuild()],
    css: { postcss: { plugins: [utilities.postcss] } },
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
