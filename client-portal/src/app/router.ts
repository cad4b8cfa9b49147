import { createRouter, createWebHistory } from 'vue-router'
import type { Router } from 'vue-router'
import type { Auth } from './auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Page title (the document title becomes "<title> · StreamSpace"). */
    title?: string
    /** Full-bleed page without the app bar (the session view). */
    bare?: boolean
  }
}

// Every page is a lazy import so the first load carries only the shell.
export function createAppRouter(auth: Auth): Router {
  const router = createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes: [
      { name: 'login', path: '/login', meta: { public: true, title: 'Sign in' }, component: () => import('../modules/auth/LoginPage.vue') },
      { name: 'home', path: '/', meta: { title: 'Apps' }, component: () => import('../modules/launcher/LauncherPage.vue') },
      { name: 'sessions', path: '/sessions', meta: { title: 'My sessions' }, component: () => import('../modules/sessions/MySessionsPage.vue') },
      {
        name: 'session',
        path: '/sessions/:id',
        meta: { title: 'Session', bare: true },
        props: true,
        component: () => import('../modules/session-view/SessionViewPage.vue'),
      },
      { path: '/:pathMatch(.*)*', meta: { title: 'Not found' }, component: () => import('../modules/shell/NotFoundPage.vue') },
    ],
  })

  router.beforeEach(async (to) => {
    if (auth.state.status === 'unknown') await auth.restore()
    if (to.meta.public) {
      // Already signed in (e.g. back from single sign-on): go where the user wanted.
      if (to.name === 'login' && auth.state.status === 'signed-in') {
        const redirect = typeof to.query['redirect'] === 'string' && to.query['redirect'].startsWith('/') ? to.query['redirect'] : '/'
        return redirect
      }
      return true
    }
    if (auth.state.status !== 'signed-in') {
      // A failed single sign-on comes back to the portal with ?login_error=...: show it on the sign-in page.
      const loginError = to.query['login_error']
      if (typeof loginError === 'string') return { name: 'login', query: { login_error: loginError } }
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    return true
  })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · StreamSpace` : 'StreamSpace'
  })
  return router
}
