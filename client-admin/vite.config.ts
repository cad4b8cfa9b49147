import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import vuetify from 'vite-plugin-vuetify'

const apiTarget = 'http://localhost:8080'

export default defineConfig({
  // Served by the server under /admin/ in production.
  base: '/admin/',
  plugins: [vue(), vuetify({ autoImport: true })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: true,
    // CodeMirror and Chart.js are split into the routes that use them.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/graphql': { target: apiTarget, ws: true },
      '/auth': { target: apiTarget },
      '/metrics': { target: apiTarget },
    },
  },
})
