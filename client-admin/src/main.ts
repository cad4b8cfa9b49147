import { DefaultApolloClient } from '@vue/apollo-composable'
import { createApp } from 'vue'
import App from './App.vue'
import { createApolloClient } from './app/apollo-client'
import { auth } from './app/auth'
import { createAppRouter } from './app/router'
import { createAppVuetify } from './app/vuetify'

const apollo = createApolloClient(auth)
// A different user must never see the previous one's cached data.
auth.onTokenChange((token) => {
  if (!token) void apollo.clearStore()
})

const app = createApp(App)
app.provide(DefaultApolloClient, apollo)
app.use(createAppRouter(auth))
app.use(createAppVuetify())
app.mount('#app')
