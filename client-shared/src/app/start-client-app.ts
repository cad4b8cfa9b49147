import type { TypePolicies } from '@apollo/client/core'
import { DefaultApolloClient } from '@vue/apollo-composable'
import { createApp } from 'vue'
import type { App, Component } from 'vue'
import type { Router } from 'vue-router'
import { createApolloClient } from '../apollo/apollo-client'
import { auth } from '../auth/auth'
import type { Auth } from '../auth/auth'
import { createAppVuetify } from '../vuetify/vuetify'

export interface ClientAppOptions {
  /** The app's root component (its chrome around `<router-view>`). */
  root: Component
  createRouter: (auth: Auth) => Router
  /** The app's Apollo cache policies (how its objects are identified and merged). */
  typePolicies: TypePolicies
}

/** Builds a client (Apollo on the shared sign-in, router, Vuetify) and mounts it on `#app`. */
export function startClientApp(options: ClientAppOptions): App {
  const apollo = createApolloClient(auth, options.typePolicies)
  // A different user must never see the previous one's cached data.
  auth.onTokenChange((token) => {
    if (!token) void apollo.clearStore()
  })

  const app = createApp(options.root)
  app.provide(DefaultApolloClient, apollo)
  app.use(options.createRouter(auth))
  app.use(createAppVuetify())
  app.mount('#app')
  return app
}
