export { auth, AuthError, createAuth } from './auth'
export type { Auth, AuthProviders, AuthStatus, SignedInUser } from './auth'
export { safeRedirect } from './redirect'
