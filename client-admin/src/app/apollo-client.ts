import type { ApolloClient, NormalizedCacheObject, TypePolicies } from '@apollo/client/core'
import { createApolloClient as createSharedClient } from '../../../client-portal/src/app/apollo-client'
import type { Auth } from './auth'

/** The admin console's cache keys: objects without an `id` are identified by their natural keys. */
const ADMIN_TYPE_POLICIES: TypePolicies = {
  Template: { keyFields: ['name'] },
  ClusterNode: { keyFields: ['name'] },
  ClusterNamespace: { keyFields: ['name'] },
  ClusterResource: { keyFields: ['kind', 'namespace', 'name'] },
  Query: {
    fields: {
      clusterNodes: { merge: false },
      clusterNamespaces: { merge: false },
      repositories: { merge: false },
      templates: { merge: false },
    },
  },
}

/** The same links as the portal (bearer token, refresh-and-retry, a socket that restarts on each new token). */
export function createApolloClient(auth: Auth): ApolloClient<NormalizedCacheObject> {
  return createSharedClient(auth, ADMIN_TYPE_POLICIES)
}
