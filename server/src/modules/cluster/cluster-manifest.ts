import { parseAllDocuments, stringify } from 'yaml';
import { isNamespaceName, isObjectName, kindInfo, type KindInfo } from './cluster-kinds';

/**
 * Pure rules of the cluster API: what a Secret may show, how an object becomes YAML, and what an applied
 * manifest must look like. No I/O here, so every rule is unit-tested with plain objects.
 */

/** Shown instead of every Secret value. Not valid base64 (the asterisks), so it can never be a real `data` value. */
export const SECRET_PLACEHOLDER = '**redacted**';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Largest manifest accepted by applyClusterResourceYaml (the API server's own request limit is 3 MiB). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export class ManifestError extends Error {
  constructor(
    readonly problems: string[],
    /** Set when the manifest's kind is not on the write allow-list (the API answers KindNotWritable). */
    readonly notWritableKind?: string,
  ) {
    super(problems.join('; '));
    this.name = 'ManifestError';
  }
}

/**
 * The object as the API may show it: managedFields dropped (noise), and for a Secret every value replaced with
 * SECRET_PLACEHOLDER, stringData removed and the last-applied annotation (which holds the values in clear)
 * replaced too. Every response of the cluster API passes through here first.
 */
export function sanitizeObject<T extends KubeObject>(kind: string, obj: T): T {
  const copy = structuredClone(obj);
  if (copy.metadata) delete copy.metadata.managedFields;
  if (kind === 'Secret') {
    const data = copy.data as Record<string, string> | undefined;
    if (data && typeof data === 'object') for (const key of Object.keys(data)) data[key] = SECRET_PLACEHOLDER;
    delete copy.stringData;
    const annotations = copy.metadata?.annotations;
    if (annotations && LAST_APPLIED in annotations) annotations[LAST_APPLIED] = SECRET_PLACEHOLDER;
  }
  return copy;
}

/** Keys and decoded sizes of a Secret's data (never the values). */
export function secretKeys(obj: KubeObject): { key: string; size: number }[] {
  const data = (obj.data ?? {}) as Record<string, string>;
  return Object.keys(data)
    .sort()
    .map((key) => ({ key, size: typeof data[key] === 'string' && data[key] !== SECRET_PLACEHOLDER ? Buffer.from(data[key], 'base64').length : 0 }));
}

/** YAML of an (already sanitized) object, with apiVersion and kind first as kubectl prints them. */
export function toYaml(info: KindInfo, obj: KubeObject): string {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return stringify({ apiVersion: info.apiVersion, kind: info.kind, ...rest }, { lineWidth: 0 });
}

/** A one-line state for lists: a pod's phase, a deployment's ready replicas, a node's readiness. */
export function statusSummary(kind: string, obj: KubeObject): string | null {
  const status = (obj.status ?? {}) as Record<string, unknown>;
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'Pod':
    case 'Namespace':
    case 'PersistentVolumeClaim':
    case 'Session':
      return typeof status.phase === 'string' ? status.phase : null;
    case 'Deployment':
    case 'StatefulSet':
      return `${Number(status.readyReplicas ?? 0)}/${Number(spec.replicas ?? 0)} ready`;
    case 'Node': {
      const ready = ((status.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === 'Ready');
      return ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
    }
    case 'PodDisruptionBudget':
      return `${Number(status.disruptionsAllowed ?? 0)} disruptions allowed`;
    case 'Service':
      return typeof spec.type === 'string' ? spec.type : null;
    case 'Event':
      return [obj.type, obj.reason].filter((v) => typeof v === 'string').join(' ') || null;
    case 'Template':
      return status.valid === undefined ? null : status.valid ? 'Valid' : 'Invalid';
    case 'Secret':
      return typeof obj.type === 'string' ? obj.type : null;
    default:
      return null;
  }
}

/**
 * Parses and validates one manifest for server-side apply: exactly one YAML document, a mapping with
 * apiVersion, kind and metadata.name; the kind on the allow-list with its apiVersion; a namespace for
 * namespaced kinds and none for cluster-scoped ones. Throws ManifestError listing every problem.
 */
export function parseManifest(text: string): { info: KindInfo; object: KubeObject } {
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) throw new ManifestError([`the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`]);
  const docs = parseAllDocuments(text).filter((d) => !(d.contents === null && d.errors.length === 0));
  if (docs.length !== 1) throw new ManifestError([`expected exactly one YAML document, found ${docs.length}`]);
  const doc = docs[0]!;
  if (doc.errors.length) throw new ManifestError(doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(['the manifest must be a YAML mapping (an object)']);
  const object = value as KubeObject;
  const problems: string[] = [];
  if (typeof object.apiVersion !== 'string') problems.push('apiVersion is required');
  if (typeof object.kind !== 'string') problems.push('kind is required');
  const meta = object.metadata;
  if (!meta || typeof meta !== 'object') problems.push('metadata is required');
  const name = meta?.name;
  if (typeof name !== 'string' || !isObjectName(name)) problems.push('metadata.name must be a DNS-1123 name (lower-case letters, digits, "-" and ".")');
  const info = typeof object.kind === 'string' ? kindInfo(object.kind) : undefined;
  if (typeof object.kind === 'string' && !info) problems.push(`kind "${object.kind}" is not one the admin API manages`);
  if (info && typeof object.apiVersion === 'string' && object.apiVersion !== info.apiVersion) {
    problems.push(`apiVersion of ${info.kind} must be "${info.apiVersion}", not "${object.apiVersion}"`);
  }
  if (info?.namespaced) {
    if (typeof meta?.namespace !== 'string' || meta.namespace === '') problems.push(`metadata.namespace is required for a ${info.kind}`);
    else if (!isNamespaceName(meta.namespace)) problems.push('metadata.namespace must be a DNS-1123 label (at most 63 lower-case letters, digits and "-")');
  } else if (info && meta?.namespace !== undefined) {
    problems.push(`${info.kind} is cluster-scoped: remove metadata.namespace`);
  }
  if (problems.length || !info) throw new ManifestError(problems, typeof object.kind === 'string' && !info ? object.kind : undefined);
  return { info, object };
}

/**
 * The body sent for server-side apply: read-only fields the YAML view shows (status, managedFields,
 * creationTimestamp, generation, selfLink) removed. For a Secret, every SECRET_PLACEHOLDER is replaced with the
 * value currently stored, so editing the redacted YAML keeps the values nobody saw; a placeholder for a key that
 * does not exist is an error, and a redacted last-applied annotation is dropped.
 */
export function prepareApply(info: KindInfo, object: KubeObject, current: KubeObject | null): KubeObject {
  const body = structuredClone(object);
  delete body.status;
  if (body.metadata) {
    for (const key of ['managedFields', 'creationTimestamp', 'generation', 'selfLink']) delete body.metadata[key];
  }
  if (info.kind === 'Secret') {
    const data = body.data as Record<string, unknown> | undefined;
    const stored = (current?.data ?? {}) as Record<string, string>;
    const missing: string[] = [];
    if (data && typeof data === 'object') {
      for (const [key, value] of Object.entries(data)) {
        if (value !== SECRET_PLACEHOLDER) continue;
        if (typeof stored[key] === 'string') data[key] = stored[key];
        else missing.push(key);
      }
    }
    if (missing.length) throw new ManifestError([`data.${missing.join(', data.')}: redacted value of a key the Secret does not have; give a value`]);
    const stringData = body.stringData as Record<string, unknown> | undefined;
    if (stringData && Object.values(stringData).includes(SECRET_PLACEHOLDER)) throw new ManifestError(['stringData holds a redacted placeholder; give the value']);
    const annotations = body.metadata?.annotations;
    if (annotations && annotations[LAST_APPLIED] === SECRET_PLACEHOLDER) delete annotations[LAST_APPLIED];
  }
  return body;
}

/** An API server message about a Secret, with any quoted value cut out (422 messages echo invalid values). */
export function scrubSecretMessage(message: string): string {
  return message.replace(/Invalid value: "(?:[^"\\]|\\.)*"/g, 'Invalid value: [redacted]').replace(/Invalid value: '[^']*'/g, 'Invalid value: [redacted]');
}
