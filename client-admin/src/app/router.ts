import type { Auth } from '@streamspace/client-shared/auth'
import { createClientRouter } from '@streamspace/client-shared/router'
import type { Router, RouteRecordRaw } from 'vue-router'
import { homeItem, sectionItems } from './navigation'

// Every page is a lazy import (its own chunk), so the first load carries only the shell; CodeMirror and
// Chart.js load with the pages that use them.
const pages: Record<string, () => Promise<unknown>> = {
  cluster: () => import('../modules/cluster/ClusterPage.vue'),
  sessions: () => import('../modules/sessions/SessionsPage.vue'),
  templates: () => import('../modules/templates/TemplatesPage.vue'),
  catalog: () => import('../modules/catalog/CatalogPage.vue'),
  users: () => import('../modules/users/UsersPage.vue'),
  groups: () => import('../modules/groups/GroupsPage.vue'),
  'audit-log': () => import('../modules/audit/AuditLogPage.vue'),
  metrics: () => import('../modules/metrics/MetricsPage.vue'),
  configuration: () => import('../modules/configuration/ConfigurationPage.vue'),
}

const sectionRoutes: RouteRecordRaw[] = sectionItems.map((item) => {
  const page = pages[item.name]
  if (!page) throw new Error(`No page for the admin section "${item.name}"`)
  return { name: item.name, path: item.path, meta: { title: item.title }, component: page as never }
})

const ADMINS_ONLY = 'This console is for administrators.'

/** Only admins use this console: anyone else is sent to the sign-in page with an explanation. */
export function createAppRouter(auth: Auth): Router {
  return createClientRouter(auth, {
    appName: 'StreamSpace Admin',
    requiredRole: 'admin',
    routes: [
      {
        name: 'login',
        path: '/login',
        meta: { public: true, title: 'Sign in' },
        props: {
          title: 'StreamSpace Admin',
          subtitle: 'Sign in with an administrator account.',
          roleRequired: {
            role: 'admin',
            denied: `${ADMINS_ONLY} Sign in with an admin account.`,
            wrongAccount: `${ADMINS_ONLY} Your account can use the portal instead.`,
          },
        },
        component: () => import('@streamspace/client-shared/pages/LoginPage.vue'),
      },
      { name: homeItem.name, path: homeItem.path, meta: { title: homeItem.title }, component: () => import('../modules/home/HomePage.vue') },
      ...sectionRoutes,
      {
        path: '/:pathMatch(.*)*',
        meta: { title: 'Not found' },
        props: { homeLabel: 'Back to the overview' },
        component: () => import('@streamspace/client-shared/pages/NotFoundPage.vue'),
      },
    ],
  })
}
