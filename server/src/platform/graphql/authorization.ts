import type { AuthCheckerInterface, ResolverData } from 'type-graphql';
import { AppError, ErrorCode } from './errors';
import type { Caller, GraphQLContext } from './context';

/**
 * Roles of the platform (docs/decisions/NNNN-roles-operator-auditor.md):
 * - `admin` may do everything;
 * - `operator` manages every user's sessions and the templates and catalog (not the cluster, the configuration,
 *   users, groups or the audit log);
 * - `auditor` reads what admins read (audit log, users, sessions, templates, catalog, groups, settings, the cluster
 *   with Secrets redacted) and changes nothing, not even sessions of its own;
 * - `user` acts on what it owns.
 * A string list, not a boolean, so roles can be added without touching every resolver.
 */
export const Role = {
  ADMIN: 'admin',
  OPERATOR: 'operator',
  AUDITOR: 'auditor',
  USER: 'user',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

/**
 * Who may call an operation, by role set: `@Authorized(...Access.OPERATE)`. The one place that says which role may
 * do what; opening an admin-only operation to operators or auditors is a one-line change of its decorator
 * (`@Authorized(Role.ADMIN)` -> `@Authorized(...Access.AUDIT_READ)`). `@Authorized(Role.ADMIN)` keeps meaning "admins only".
 */
export const Access = {
  /** Admins only: users, groups, configuration, cluster changes, signing keys. */
  ADMIN: [Role.ADMIN],
  /** Changes to every user's sessions, the templates and the catalog. */
  OPERATE: [Role.ADMIN, Role.OPERATOR],
  /** Reads of the operations side (every session, repositories, a user's sessions): admins, operators, auditors. */
  OPERATIONS_READ: [Role.ADMIN, Role.OPERATOR, Role.AUDITOR],
  /** Reads of the administration side (audit log, users, groups, settings, the cluster): admins and auditors. */
  AUDIT_READ: [Role.ADMIN, Role.AUDITOR],
  /** A signed-in caller acting for itself (starting, sharing, connecting to sessions, pins): everyone but auditors. */
  ACT: [Role.ADMIN, Role.OPERATOR, Role.USER],
} as const satisfies Record<string, readonly Role[]>;

/**
 * The one rule type-graphql applies for `@Authorized(...)`:
 * - `@Authorized()`: any signed-in, enabled caller;
 * - `@Authorized('admin')`, `@Authorized(...Access.X)`: only callers with one of the listed roles.
 * Anonymous callers get UNAUTHENTICATED, signed-in callers without the role get FORBIDDEN.
 * Ownership (a user sees only their own sessions) is checked in services, which answer NOT_FOUND
 * for other people's objects so existence does not leak.
 */
export class RoleAuthChecker implements AuthCheckerInterface<GraphQLContext, Role> {
  check({ context }: ResolverData<GraphQLContext>, roles: Role[]): boolean {
    const caller = context.caller;
    if (!caller) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in to use this operation');
    if (roles.length === 0) return true;
    if (roles.includes(caller.role as Role)) return true;
    throw new AppError(ErrorCode.FORBIDDEN, `This operation needs one of the roles: ${roles.join(', ')}`);
  }
}

/** For services: the caller, or UNAUTHENTICATED. */
export function requireCaller(ctx: Pick<GraphQLContext, 'caller'>): Caller {
  if (!ctx.caller) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in to use this operation');
  return ctx.caller;
}

export function isAdmin(caller: Caller | null | undefined): boolean {
  return caller?.role === Role.ADMIN;
}

function hasRole(caller: Caller | null | undefined, roles: readonly Role[]): boolean {
  return !!caller && roles.includes(caller.role as Role);
}

/** Whether the caller may act on every user's sessions and see templates in full (admins, operators): ownership checks let them through. */
export function operatesAll(caller: Caller | null | undefined): boolean {
  return hasRole(caller, Access.OPERATE);
}

/**
 * Whether the caller may read every user's sessions, templates and catalog in full (admins, operators, auditors).
 * Auditors pass the ownership checks of reads only: every mutation refuses them in its `@Authorized` role set.
 */
export function readsAll(caller: Caller | null | undefined): boolean {
  return hasRole(caller, Access.OPERATIONS_READ);
}
