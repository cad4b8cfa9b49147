import type { Auth } from '@streamspace/client-shared/auth'
import { createClientRouter } from '@streamspace/client-shared/router'
import type { Router } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Full-bleed page without the app bar (the session view). */
    bare?: boolean
  }
}

// Every page is a lazy import so the first load carries only the shell.
export function createAppRouter(auth: Auth): Router {
  return createClientRouter(auth, {
    appName: 'StreamSpace',
    routes: [
      {
        name: 'login',
        path: '/login',
        meta: { public: true, title: 'Sign in' },
        props: { title: 'Sign in to StreamSpace', subtitle: 'Your apps and desktops, in the browser.', singleSignOn: true },
        component: () => import('@streamspace/client-shared/pages/LoginPage.vue'),
      },
      { name: 'home', path: '/', meta: { title: 'Apps' }, component: () => import('../modules/launcher/LauncherPage.vue') },
      { name: 'catalog', path: '/catalog', meta: { title: 'Catalog' }, component: () => import('../modules/catalog/CatalogPage.vue') },
      { name: 'account-password', path: '/account/password', meta: { title: 'Change password' }, component: () => import('../modules/account/ChangePasswordPage.vue') },
      { name: 'sessions', path: '/sessions', meta: { title: 'My sessions' }, component: () => import('../modules/sessions/MySessionsPage.vue') },
      {
        name: 'session',
        path: '/sessions/:id',
        meta: { title: 'Session', bare: true },
        props: true,
        component: () => import('../modules/session-view/SessionViewPage.vue'),
      },
      {
        path: '/:pathMatch(.*)*',
        meta: { title: 'Not found' },
        props: { homeLabel: 'Back to my apps' },
        component: () => import('@streamspace/client-shared/pages/NotFoundPage.vue'),
      },
    ],
  })
}
