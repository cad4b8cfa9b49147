// The admin console signs in exactly as the portal does (same endpoints, the same refresh cookie scoped to /auth,
// refreshes serialized across tabs): one implementation, kept in the portal, bundled into each client.
export * from '../../../client-portal/src/app/auth'
