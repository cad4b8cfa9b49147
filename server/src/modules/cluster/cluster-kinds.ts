/**
 * The kinds the admin cluster API can browse, edit and delete: a fixed allow-list, so the API can never be
 * pointed at an arbitrary path of the API server (RBAC objects, webhooks, CSRs stay out of reach).
 * Each entry says where its collection lives; paths are built here and nowhere else.
 */
export const CLUSTER_KINDS = {
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  Node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  Ingress: { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  PodDisruptionBudget: { apiVersion: 'policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
  Event: { apiVersion: 'v1', plural: 'events', namespaced: true },
  Session: { apiVersion: 'stream.streamspace.io/v1alpha1', plural: 'sessions', namespaced: true },
  Template: { apiVersion: 'stream.streamspace.io/v1alpha1', plural: 'templates', namespaced: true },
  TemplateRepository: { apiVersion: 'stream.streamspace.io/v1alpha1', plural: 'templaterepositories', namespaced: true },
  Connection: { apiVersion: 'stream.streamspace.io/v1alpha1', plural: 'connections', namespaced: true },
} as const;

export type ClusterKind = keyof typeof CLUSTER_KINDS;

export interface KindInfo {
  kind: ClusterKind;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

export function kindInfo(kind: string): KindInfo | undefined {
  if (!Object.prototype.hasOwnProperty.call(CLUSTER_KINDS, kind)) return undefined;
  const k = kind as ClusterKind;
  return { kind: k, ...CLUSTER_KINDS[k] };
}

/** DNS-1123 subdomain (names of most objects, at most 253 characters): what may appear in a URL path. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
export function isObjectName(value: string): boolean {
  return NAME.test(value);
}

/** DNS-1123 label (namespace names, at most 63 characters, no dots). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export function isNamespaceName(value: string): boolean {
  return NAMESPACE.test(value);
}

/**
 * The REST path of a collection (`name` omitted) or one object. `namespace` undefined on a namespaced kind
 * means every namespace (lists and watches only).
 */
export function resourcePath(info: KindInfo, namespace?: string | null, name?: string): string {
  const base = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}
