/** Whether a repository URL is fetched over ssh (ssh://... or scp-like user@host:path): such URLs need pinned host keys. */
export function isSshUrl(url: string): boolean {
  const u = url.trim()
  return /^ssh:\/\//i.test(u) || /^[^/@\s]+@[^:/\s]+:(?!\/\/)/.test(u)
}
