import { DefaultApolloClient } from '@vue/apollo-composable'
import { createApp } from 'vue'
import App from './App.vue'
import { createApolloClient } from './app/apollo-client'
import { createAppRouter } from './app/router'
import { createAppVuetify } from './app/vuetify'

const app = createApp(App)
app.provide(DefaultApolloClient, createApolloClient())
app.use(createAppRouter())
app.use(createAppVuetify())
app.mount('#app')
