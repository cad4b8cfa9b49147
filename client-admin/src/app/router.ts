import type { Auth } from '@streamspace/client-shared/auth'
import { createClientRouter } from '@streamspace/client-shared/router'
import type { Router, RouteRecordRaw } from 'vue-router'
import { CONSOLE_ROLES, sectionRoles } from './access'
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
  alerts: () => import('../modules/alerts/AlertsPage.vue'),
  configuration: () => import('../modules/configuration/ConfigurationPage.vue'),
}

const sectionRoutes: RouteRecordRaw[] = sectionItems.map((item) => {
  const page = pages[item.name]
  if (!page) throw new Error(`No page for the admin section "${item.name}"`)
  return { name: item.name, path: item.path, meta: { title: item.title, roles: sectionRoles(item.name) }, component: page as never }
})

const ADMINS_ONLY = 'This console is for administrators, operators and auditors.'

/** Admins, operators and auditors use this console (each sees its sections): anyone else is sent to the sign-in page. */
export function createAppRouter(auth: Auth): Router {
  return createClientRouter(auth, {
    appName: 'StreamSpace Admin',
    requiredRoles: CONSOLE_ROLES,
    routes: [
      {
        name: 'login',
        path: '/login',
        meta: { public: true, title: 'Sign in' },
        props: {
          title: 'StreamSpace Admin',
          subtitle: 'Sign in with an administrator, operator or auditor account.',
          // Single sign-on (when the server has OIDC) comes back to this console, not the portal.
          singleSignOn: true,
          singleSignOnReturn: '/admin/',
          roleRequired: {
            role: 'admin',
            roles: CONSOLE_ROLES,
            denied: `${ADMINS_ONLY} Sign in with such an account.`,
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
