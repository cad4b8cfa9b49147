import { clientViteConfig } from '@streamspace/client-shared/vite'
import { defineConfig } from 'vite'

// Served by the server under /admin/ in production; the metrics page reads the server's /metrics.
export default defineConfig(clientViteConfig({ base: '/admin/', proxy: ['/metrics'] }))
