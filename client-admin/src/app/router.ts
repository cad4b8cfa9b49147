import { createRouter, createWebHistory } from 'vue-router'
import type { Router, RouteRecordRaw } from 'vue-router'
import { homeItem, sectionItems } from './navigation'

// Every page is a lazy import so the first load carries only the shell.
const sectionRoutes: RouteRecordRaw[] = sectionItems.map((item) => ({
  name: item.name,
  path: item.path,
  component: () => import('../modules/shell/PlaceholderPage.vue'),
  props: { title: item.title, icon: item.icon },
}))

export function createAppRouter(): Router {
  return createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes: [
      { name: homeItem.name, path: homeItem.path, component: () => import('../modules/home/HomePage.vue') },
      ...sectionRoutes,
      { path: '/:pathMatch(.*)*', component: () => import('../modules/shell/NotFoundPage.vue') },
    ],
  })
}
