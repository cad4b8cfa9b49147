import { computed, type ComputedRef } from 'vue'
import { auth } from '@streamspace/client-shared/auth'

/**
 * Who may use which part of the admin console: the client's mirror of the server's role sets (`Access` in
 * server/src/platform/graphql/authorization.ts, docs/decisions/*-roles-operator-auditor.md). The server enforces;
 * this only hides what a role cannot open or change.
 */
export const CONSOLE_ROLES = ['admin', 'operator', 'auditor'] as const

/** The roles that may open a section; a section not listed here is for admins only. */
const SECTION_ROLES: Record<string, readonly string[]> = {
  cluster: ['admin', 'auditor'],
  sessions: ['admin', 'operator', 'auditor'],
  templates: ['admin', 'operator', 'auditor'],
  catalog: ['admin', 'operator', 'auditor'],
  users: ['admin', 'auditor'],
  groups: ['admin', 'auditor'],
  configuration: ['admin', 'auditor'],
  'audit-log': ['admin', 'auditor'],
}

/** The roles that may change things in a section (auditors change nothing anywhere). */
const CHANGE_ROLES: Record<string, readonly string[]> = {
  sessions: ['admin', 'operator'],
  templates: ['admin', 'operator'],
  catalog: ['admin', 'operator'],
}

export function sectionRoles(section: string): readonly string[] {
  return SECTION_ROLES[section] ?? ['admin']
}

export function mayOpen(role: string | null | undefined, section: string): boolean {
  return !!role && sectionRoles(section).includes(role)
}

export function mayChange(role: string | null | undefined, section: string): boolean {
  return !!role && (CHANGE_ROLES[section] ?? ['admin']).includes(role)
}

/** In a page: whether the signed-in account may change things in `section` (false: show it read-only). */
export function useMayChange(section: string): ComputedRef<boolean> {
  return computed(() => mayChange(auth.state.user?.role, section))
}

/** In a page: whether the signed-in account may open `section` (e.g. to skip a query it would be refused). */
export function useMayOpen(section: string): ComputedRef<boolean> {
  return computed(() => mayOpen(auth.state.user?.role, section))
}
