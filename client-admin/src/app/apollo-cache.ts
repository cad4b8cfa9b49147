import type { TypePolicies } from '@apollo/client/core'

/** The admin console's cache keys: objects without an `id` are identified by their natural keys. */
export const ADMIN_TYPE_POLICIES: TypePolicies = {
  Template: { keyFields: ['name'] },
  ClusterNode: { keyFields: ['name'] },
  ClusterNamespace: { keyFields: ['name'] },
  ClusterResource: { keyFields: ['kind', 'namespace', 'name'] },
  MetricSeries: { keyFields: false },
  Query: {
    fields: {
      clusterNodes: { merge: false },
      clusterNamespaces: { merge: false },
      repositories: { merge: false },
      templates: { merge: false },
      metricSeries: { merge: false },
      alertRules: { merge: false },
      alerts: { merge: false },
    },
  },
}
