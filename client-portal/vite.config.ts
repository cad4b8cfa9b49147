import { clientViteConfig } from '@streamspace/client-shared/vite'
import { defineConfig } from 'vite'

// Served by the server at the site root in production.
export default defineConfig(clientViteConfig({ base: '/' }))
