import { startClientApp } from '@streamspace/client-shared/app'
import App from './App.vue'
import { ADMIN_TYPE_POLICIES } from './app/apollo-cache'
import { createAppRouter } from './app/router'

startClientApp({ root: App, createRouter: createAppRouter, typePolicies: ADMIN_TYPE_POLICIES })
