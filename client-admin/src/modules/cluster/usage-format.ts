/** Resource usage as `kubectl top` prints it: CPU in cores (millicores below one core), memory in binary units. */
export function cpuText(millicores: number): string {
  return millicores >= 1000 ? `${(millicores / 1000).toFixed(2)} cores` : `${Math.round(millicores)}m`
}

export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

/** " (12.5%)" after a figure, or nothing when the share is unknown (no allocatable reported). */
export function percentText(p: number | null | undefined): string {
  return p === null || p === undefined ? '' : ` (${p.toFixed(1)}%)`
}

/** Usage of each pod by "namespace/name", for the pods table to look up its rows. */
export function usageByPod<T extends { namespace: string; name: string }>(pods: readonly T[]): Map<string, T> {
  return new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]))
}
