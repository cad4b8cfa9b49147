import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import vuetify from 'vite-plugin-vuetify'
import { graphqlDocumentPlugin } from './build/graphql-document.plugin.ts'

const apiTarget = 'http://localhost:8080'

export default defineConfig({
  // Served by the server under /admin/ in production.
  base: '/admin/',
  plugins: [graphqlDocumentPlugin(), vue(), vuetify({ autoImport: true })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/graphql': { target: apiTarget, ws: true },
      '/auth': { target: apiTarget },
    },
  },
})
