import type { ClusterResourceKind } from '../../generated/graphql'

/** The allow-listed kinds in the order the browser offers them, and whether each lives in a namespace. */
export const KINDS: readonly { kind: ClusterResourceKind; namespaced: boolean }[] = [
  { kind: 'Pod', namespaced: true },
  { kind: 'Deployment', namespaced: true },
  { kind: 'StatefulSet', namespaced: true },
  { kind: 'Service', namespaced: true },
  { kind: 'ConfigMap', namespaced: true },
  { kind: 'Secret', namespaced: true },
  { kind: 'Ingress', namespaced: true },
  { kind: 'PersistentVolumeClaim', namespaced: true },
  { kind: 'PodDisruptionBudget', namespaced: true },
  { kind: 'Event', namespaced: true },
  { kind: 'Session', namespaced: true },
  { kind: 'Template', namespaced: true },
  { kind: 'TemplateRepository', namespaced: true },
  { kind: 'Connection', namespaced: true },
  { kind: 'Namespace', namespaced: false },
  { kind: 'Node', namespaced: false },
]

export function isNamespaced(kind: ClusterResourceKind): boolean {
  return KINDS.find((k) => k.kind === kind)?.namespaced ?? true
}

/** A starting manifest for "Create from YAML". */
export function newManifest(kind: ClusterResourceKind, namespace: string | null): string {
  const ns = namespace ?? 'default'
  if (kind === 'ConfigMap') return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: example\n  namespace: ${ns}\ndata:\n  key: value\n`
  if (kind === 'Secret') return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: example\n  namespace: ${ns}\ntype: Opaque\nstringData:\n  key: value\n`
  if (kind === 'Namespace') return 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: example\n'
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: example\n  namespace: ${ns}\ndata: {}\n`
}

export function age(iso: string | null | undefined): string {
  if (!iso) return ''
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`
  return `${Math.round(seconds / 86400)}d`
}
