import { createRouter, createWebHistory } from 'vue-router'
import type { Router } from 'vue-router'

// Every page is a lazy import so the first load carries only the shell.
export function createAppRouter(): Router {
  return createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes: [
      { name: 'home', path: '/', component: () => import('../modules/launcher/LauncherPage.vue') },
      { path: '/:pathMatch(.*)*', component: () => import('../modules/shell/NotFoundPage.vue') },
    ],
  })
}
