export interface NavigationItem {
  /** Route name, also the key in the drawer. */
  name: string
  path: string
  title: string
  icon: string
}

/** Sections of the admin console, in drawer order. */
export const sectionItems: readonly NavigationItem[] = [
  { name: 'cluster', path: '/cluster', title: 'Cluster', icon: 'mdi-kubernetes' },
  { name: 'sessions', path: '/sessions', title: 'Sessions', icon: 'mdi-monitor-multiple' },
  { name: 'templates', path: '/templates', title: 'Templates', icon: 'mdi-application-brackets-outline' },
  { name: 'catalog', path: '/catalog', title: 'Catalog', icon: 'mdi-store-outline' },
  { name: 'users', path: '/users', title: 'Users', icon: 'mdi-account-multiple-outline' },
  { name: 'groups', path: '/groups', title: 'Groups', icon: 'mdi-account-group-outline' },
  { name: 'configuration', path: '/configuration', title: 'Configuration', icon: 'mdi-cog-outline' },
  { name: 'audit-log', path: '/audit-log', title: 'Audit log', icon: 'mdi-clipboard-text-clock-outline' },
  { name: 'metrics', path: '/metrics', title: 'Metrics', icon: 'mdi-chart-line' },
  { name: 'alerts', path: '/alerts', title: 'Alerts', icon: 'mdi-bell-alert-outline' },
]

export const homeItem: NavigationItem = { name: 'home', path: '/', title: 'Overview', icon: 'mdi-view-dashboard-outline' }
