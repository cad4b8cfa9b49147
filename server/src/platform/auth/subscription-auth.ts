import type { GraphQLSchema } from 'graphql';
import { getMetadataStorage, type ResolverData } from 'type-graphql';
import { RoleAuthChecker, type Role } from '../graphql/authorization';
import type { GraphQLContext } from '../graphql/context';

/**
 * type-graphql applies `@Authorized` to a subscription only when an event is resolved, so an anonymous
 * client could open any subscription and wait. This applies the same rule when the subscription starts:
 * a caller without the role gets UNAUTHENTICATED / FORBIDDEN at once, and no stream is opened.
 */
export function enforceSubscriptionAuthorization(schema: GraphQLSchema): void {
  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType) return;
  const rolesByField = new Map<string, Role[] | undefined>();
  for (const def of getMetadataStorage().subscriptions) rolesByField.set(def.schemaName, def.roles as Role[] | undefined);
  const checker = new RoleAuthChecker();
  for (const field of Object.values(subscriptionType.getFields())) {
    const roles = rolesByField.get(field.name);
    const original = field.subscribe;
    if (roles === undefined || !original) continue; // no @Authorized: public
    field.subscribe = (source, args, context, info) => {
      checker.check({ root: source, args, context, info } as ResolverData<GraphQLContext>, roles);
      return original(source, args, context, info);
    };
  }
}
