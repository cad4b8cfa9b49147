import { createRouter, createWebHistory } from 'vue-router'
import type { Router, RouteRecordRaw } from 'vue-router'
import type { Auth } from './auth'
import { homeItem, sectionItems } from './navigation'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Page title (the document title becomes "<title> · StreamSpace Admin"). */
    title?: string
  }
}

// Every page is a lazy import (its own chunk), so the first load carries only the shell; CodeMirror and
// Chart.js load with the pages that use them.
const pages: Record<string, () => Promise<unknown>> = {
  cluster: () => import('../modules/cluster/ClusterPage.vue'),
  sessions: () => import('../modules/sessions/SessionsPage.vue'),
  templates: () => import('../modules/templates/TemplatesPage.vue'),
  catalog: () => import('../modules/catalog/CatalogPage.vue'),
  users: () => import('../modules/users/UsersPage.vue'),
  'audit-log': () => import('../modules/audit/AuditLogPage.vue'),
  metrics: () => import('../modules/metrics/MetricsPage.vue'),
  configuration: () => import('../modules/configuration/ConfigurationPage.vue'),
}

const sectionRoutes: RouteRecordRaw[] = sectionItems.map((item) => {
  const page = pages[item.name]
  if (!page) throw new Error(`No page for the admin section "${item.name}"`)
  return { name: item.name, path: item.path, meta: { title: item.title }, component: page as never }
})

/** Only admins use this console: anyone else is sent to the sign-in page with an explanation. */
export function createAppRouter(auth: Auth): Router {
  const router = createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes: [
      { name: 'login', path: '/login', meta: { public: true, title: 'Sign in' }, component: () => import('../modules/auth/LoginPage.vue') },
      { name: homeItem.name, path: homeItem.path, meta: { title: homeItem.title }, component: () => import('../modules/home/HomePage.vue') },
      ...sectionRoutes,
      { path: '/:pathMatch(.*)*', meta: { title: 'Not found' }, component: () => import('../modules/shell/NotFoundPage.vue') },
    ],
  })

  router.beforeEach(async (to) => {
    if (auth.state.status === 'unknown') await auth.restore()
    const isAdmin = auth.state.status === 'signed-in' && auth.state.user?.role === 'admin'
    if (to.meta.public) {
      if (to.name === 'login' && isAdmin) {
        const redirect = typeof to.query['redirect'] === 'string' && to.query['redirect'].startsWith('/') && !to.query['redirect'].startsWith('//') ? to.query['redirect'] : '/'
        return redirect
      }
      return true
    }
    if (auth.state.status !== 'signed-in') return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    if (!isAdmin) return { name: 'login', query: { denied: '1' } }
    return true
  })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · StreamSpace Admin` : 'StreamSpace Admin'
  })
  return router
}
