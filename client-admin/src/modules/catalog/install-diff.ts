/** Field-level differences between the installed Template's spec and a catalog manifest's spec, e.g. `baseImage: "a:1" -> "a:2"`; arrays compare as a whole. */
export function specDiff(before: unknown, after: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((k) => specDiff(before[k], after[k], prefix ? `${prefix}.${k}` : k))
  }
  const a = JSON.stringify(before)
  const b = JSON.stringify(after)
  if (a === b) return []
  return [`${prefix}: ${a ?? '(none)'} -> ${b ?? '(none)'}`]
}
