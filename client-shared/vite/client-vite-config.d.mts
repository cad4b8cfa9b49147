import type { UserConfig } from 'vite'

export interface ClientViteOptions {
  /** Where the server serves the built app ('/' for the portal, '/admin/' for the console). */
  base: string
  /** Paths the dev server proxies to the API besides /graphql (with its socket) and /auth. */
  proxy?: string[]
}

/** The Vite configuration both clients build with: Vue, Vuetify's auto-import, dist/ output and the API proxy. */
export function clientViteConfig(options: ClientViteOptions): UserConfig
