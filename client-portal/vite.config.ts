import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import vuetify from 'vite-plugin-vuetify'

const apiTarget = 'http://localhost:8080'

export default defineConfig({
  // Served by the server at the site root in production.
  base: '/',
  plugins: [vue(), vuetify({ autoImport: true })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Vite prints each chunk with its gzip size; keep that report on (route chunks stay small).
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/graphql': { target: apiTarget, ws: true },
      '/auth': { target: apiTarget },
    },
  },
})
