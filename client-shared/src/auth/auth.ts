import { reactive, readonly } from 'vue'

/** The signed-in user as /auth/login and /auth/refresh describe it. */
export interface SignedInUser {
  id: string
  username: string
  role: string
}

export type AuthStatus = 'unknown' | 'signed-in' | 'signed-out'

interface AuthState {
  status: AuthStatus
  accessToken: string | null
  /** Milliseconds since the epoch. */
  expiresAt: number
  user: SignedInUser | null
}

/** Which sign-in methods the server offers (GET /auth/providers). */
export interface AuthProviders {
  local: boolean
  oidc: boolean
  oidcLoginUrl: string | null
  /** Shown on the single sign-on button, e.g. "Sign in with Keycloak". */
  oidcName?: string | null
}

/** A sign-in the server refused; `message` is the server's, meant for people. */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.name = 'AuthError'
  }
}

interface TokenResponse {
  accessToken: string
  expiresAt: string
  user: SignedInUser
}

/** Refresh this long before the access token expires, so requests and the socket never carry a stale one. */
const REFRESH_MARGIN_MS = 60_000
/** A token closer than this to expiry is refreshed before use. */
const MIN_TOKEN_LIFE_MS = 15_000
const LOCK_NAME = 'streamspace-auth-refresh'

/**
 * The access token lives in memory only; the refresh token is an HttpOnly cookie scoped to /auth that
 * script never sees. A timer refreshes shortly before expiry (silent refresh); a reload restores the
 * sign-in with the same call. Refreshes across tabs are serialized with a Web Lock because the server
 * rotates the refresh cookie and treats a reused one as theft.
 */
export function createAuth(fetchImpl: typeof fetch = (...args) => fetch(...args)) {
  const state = reactive<AuthState>({ status: 'unknown', accessToken: null, expiresAt: 0, user: null })
  const tokenListeners = new Set<(token: string | null) => void>()
  let refreshing: Promise<boolean> | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  /** Lifetime of the current token as issued; margins scale down for short-lived tokens (a server may issue 1-minute ones). */
  let lifetimeMs = 15 * 60_000

  function notify(): void {
    for (const listener of tokenListeners) listener(state.accessToken)
  }

  function schedule(): void {
    clearTimeout(timer)
    if (!state.accessToken) return
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 4)
    const delay = Math.max(Math.min(5_000, lifetimeMs / 2), state.expiresAt - Date.now() - margin)
    timer = setTimeout(() => void refresh(), delay)
  }

  function apply(body: TokenResponse): void {
    state.accessToken = body.accessToken
    state.expiresAt = Date.parse(body.expiresAt)
    lifetimeMs = Math.max(1_000, state.expiresAt - Date.now())
    state.user = body.user
    state.status = 'signed-in'
    schedule()
    notify()
  }

  function clear(): void {
    clearTimeout(timer)
    const had = state.accessToken !== null
    state.accessToken = null
    state.expiresAt = 0
    state.user = null
    state.status = 'signed-out'
    if (had) notify()
  }

  async function errorOf(response: Response): Promise<AuthError> {
    let message = `The server answered ${response.status}`
    try {
      const body = (await response.json()) as { message?: string }
      if (body.message) message = body.message
    } catch {
      // not JSON: keep the status line
    }
    const retry = Number(response.headers.get('retry-after'))
    return new AuthError(message, response.status, Number.isFinite(retry) && retry > 0 ? retry : undefined)
  }

  async function post(path: string, body?: unknown): Promise<Response> {
    return fetchImpl(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }

  async function login(username: string, password: string): Promise<SignedInUser> {
    const response = await post('/auth/login', { username, password })
    if (!response.ok) throw await errorOf(response)
    const body = (await response.json()) as TokenResponse
    apply(body)
    return body.user
  }

  async function doRefresh(): Promise<boolean> {
    try {
      const response = await post('/auth/refresh')
      if (response.ok) {
        apply((await response.json()) as TokenResponse)
        return true
      }
      if (response.status === 401 || response.status === 403) clear()
      else if (state.status === 'unknown') state.status = 'signed-out'
      return false
    } catch {
      // Offline or the server restarting: keep what we have and try again shortly.
      if (state.status === 'unknown') state.status = 'signed-out'
      else if (state.accessToken) {
        clearTimeout(timer)
        timer = setTimeout(() => void refresh(), 10_000)
      }
      return false
    }
  }

  /** Gets a new access token with the refresh cookie; false when the sign-in is over. Single-flight. */
  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      try {
        const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
        return locks ? await locks.request(LOCK_NAME, doRefresh) : await doRefresh()
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  /** A valid access token (refreshed first when about to expire), or null when signed out. */
  async function token(): Promise<string | null> {
    // Without the scaling, a token shorter-lived than the margin would be refreshed on every use, and each
    // refresh restarts the subscription socket before it can send anything.
    if (state.accessToken && state.expiresAt - Date.now() > Math.min(MIN_TOKEN_LIFE_MS, lifetimeMs / 4)) return state.accessToken
    if (state.status === 'signed-out') return null
    await refresh()
    return state.accessToken
  }

  /** On page load: turns the refresh cookie (if any) into a sign-in. */
  async function restore(): Promise<boolean> {
    if (state.status === 'signed-in') return true
    return refresh()
  }

  async function logout(): Promise<void> {
    try {
      await post('/auth/logout')
    } finally {
      clear()
    }
  }

  async function providers(): Promise<AuthProviders> {
    const response = await fetchImpl('/auth/providers', { credentials: 'same-origin' })
    if (!response.ok) return { local: true, oidc: false, oidcLoginUrl: null }
    return (await response.json()) as AuthProviders
  }

  /** Called with the new token after every sign-in, refresh and sign-out (the socket restarts on it). */
  function onTokenChange(listener: (token: string | null) => void): () => void {
    tokenListeners.add(listener)
    return () => tokenListeners.delete(listener)
  }

  return { state: readonly(state), login, refresh, restore, token, logout, providers, onTokenChange }
}

export type Auth = ReturnType<typeof createAuth>

/**
 * This app's one sign-in. Both clients sign in through this package: each bundle gets its own instance, on the same
 * refresh cookie (scoped to /auth, refreshes serialized across tabs).
 */
export const auth: Auth = createAuth()
