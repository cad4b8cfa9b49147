import type { AuthCheckerInterface, ResolverData } from 'type-graphql';
import { AppError, ErrorCode } from './errors';
import type { Caller, GraphQLContext } from './context';

/**
 * Roles of the platform. `admin` may do everything; `user` acts on what it owns. Kept as a list (not a
 * boolean) so more roles can be added without touching every resolver.
 */
export const Role = {
  ADMIN: 'admin',
  USER: 'user',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

/**
 * The one rule type-graphql applies for `@Authorized(...)`:
 * - `@Authorized()`: any signed-in, enabled caller;
 * - `@Authorized('admin')`: only callers with one of the listed roles.
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
