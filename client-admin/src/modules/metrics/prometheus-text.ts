/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A label value as written, without its escapes: \\ for a backslash, \" for a quote and \n for a line break. */
function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
}

/** Parses the Prometheus text format (what GET /metrics serves); comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = []
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g
  for (const raw of text.split('\n')) {
    if (!raw || raw.startsWith('#')) continue
    const m = line.exec(raw)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1]!] = unescapeLabel(l[2]!)
    const value = Number(m[3])
    if (Number.isFinite(value)) samples.push({ name: m[1]!, labels, value })
  }
  return samples
}
