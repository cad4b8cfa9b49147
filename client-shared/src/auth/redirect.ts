/**
 * Where to go after signing in: the `redirect` query value when it is a path on this site, else the app's home.
 * A value starting with `//` is another host (a protocol-relative URL), so it is refused like any absolute URL.
 */
export function safeRedirect(redirect: unknown): string {
  return typeof redirect === 'string' && redirect.startsWith('/') && !redirect.startsWith('//') ? redirect : '/'
}
