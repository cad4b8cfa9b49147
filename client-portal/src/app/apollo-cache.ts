import type { TypePolicies } from '@apollo/client/core'

/** The portal's cache keys: templates are identified by name; sessions by id (the default). */
export const PORTAL_TYPE_POLICIES: TypePolicies = {
  Template: { keyFields: ['name'] },
  Favorite: { keyFields: ['templateName'] },
  RecentApp: { keyFields: ['templateName'] },
  Query: {
    fields: {
      myFavorites: { merge: false },
      recentApps: { merge: false },
    },
  },
}
