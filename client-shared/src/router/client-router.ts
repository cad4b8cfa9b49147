import { createRouter, createWebHistory } from 'vue-router'
import type { Router, RouteRecordRaw } from 'vue-router'
import type { Auth } from '../auth/auth'
import { safeRedirect } from '../auth/redirect'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Page title (the document title becomes "<title> · <app name>"). */
    title?: string
    /** Only these roles may open the page (others are sent to the `home` route); absent: every permitted account. */
    roles?: readonly string[]
  }
}

export interface ClientRouterOptions {
  /** Ends every document title, e.g. "StreamSpace Admin". */
  appName: string
  /** Must include a public route named `login` (the sign-in page) and one named `home`. */
  routes: RouteRecordRaw[]
  /** Only accounts with this role may use the app; anyone else is sent to the sign-in page with `?denied=1`. */
  requiredRole?: string
  /** Like `requiredRole`, for several roles (the admin console lets operators and auditors in too). */
  requiredRoles?: readonly string[]
}

/**
 * The router both clients use: the first navigation turns the refresh cookie into a sign-in, pages that are not
 * `meta.public` need a signed-in (and, with `requiredRole`, permitted) account, and the sign-in page sends an account
 * that is already signed in on to where it wanted to go.
 */
export function createClientRouter(auth: Auth, options: ClientRouterOptions): Router {
  const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes: options.routes })
  const roles = options.requiredRoles ?? (options.requiredRole ? [options.requiredRole] : null)
  const permitted = (): boolean => auth.state.status === 'signed-in' && (!roles || roles.includes(auth.state.user?.role ?? ''))

  router.beforeEach(async (to) => {
    if (auth.state.status === 'unknown') await auth.restore()
    if (to.meta.public) {
      // Already signed in (e.g. back from single sign-on): go where the user wanted.
      if (to.name === 'login' && permitted()) return safeRedirect(to.query['redirect'])
      return true
    }
    if (auth.state.status !== 'signed-in') {
      // A failed single sign-on comes back with ?login_error=...: show it on the sign-in page.
      const loginError = to.query['login_error']
      if (typeof loginError === 'string') return { name: 'login', query: { login_error: loginError } }
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (!permitted()) return { name: 'login', query: { denied: '1' } }
    // A page this role may not open (a link, a bookmark): the overview instead.
    if (to.meta.roles && !to.meta.roles.includes(auth.state.user?.role ?? '') && to.name !== 'home') return { name: 'home' }
    return true
  })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · ${options.appName}` : options.appName
  })
  return router
}
