/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
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
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1')
    const value = Number(m[3])
    if (Number.isFinite(value)) samples.push({ name: m[1]!, labels, value })
  }
  return samples
}
