import { createHash } from 'node:crypto';
import type { TemplateEnvVar, TemplateSpec } from './template.crd';

/**
 * What a template may ask of the cluster beyond the restricted pod security every session gets, and who may see
 * what of it. Pure: no I/O.
 *
 * - Exceptions (`spec.security.runAsRoot`, `spec.security.addCapabilities`) must be approved by an admin before a
 *   session of the template can start. The approval is the annotation APPROVAL_ANNOTATION holding the fingerprint
 *   of the exceptions it approved, so a catalog update that asks for more voids it.
 * - Env `valueFrom` and `envFrom` may only name Secrets and ConfigMaps labelled SESSION_VISIBLE_LABEL=true (never the
 *   platform's own Secret, which carries no such label).
 * - Literal env values are for admins only (a template author may have put a token there).
 */

/** The capabilities a template may add back: the Pod Security Standards' baseline set (the namespace enforces baseline). */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
] as const;

/** The fingerprint of the security exceptions an admin approved (see approveTemplateSecurity). */
export const APPROVAL_ANNOTATION = 'stream.streamspace.io/security-approved';
/** Secrets and ConfigMaps a template's env may read carry this label with the value "true". */
export const SESSION_VISIBLE_LABEL = 'stream.streamspace.io/session-visible';

/** The uid/gid sessions run as unless their template chooses another non-root one. */
export const DEFAULT_SESSION_UID = 1000;

/** The exceptions a spec asks for, in words an admin can judge ("runs as root", "adds capability CHOWN"). */
export function securityExceptions(spec: Pick<TemplateSpec, 'security'>): string[] {
  const s = spec.security;
  if (!s) return [];
  const out: string[] = [];
  if (s.runAsRoot) out.push('runs as root (the image\'s user)');
  for (const cap of [...new Set(s.addCapabilities ?? [])].sort()) out.push(`adds capability ${cap}`);
  return out;
}

/** A stable fingerprint of the exceptions, or null when there are none (nothing to approve). */
export function securityFingerprint(spec: Pick<TemplateSpec, 'security'>): string | null {
  const exceptions = securityExceptions(spec);
  if (!exceptions.length) return null;
  return `sha256:${createHash('sha256').update(JSON.stringify(exceptions)).digest('hex').slice(0, 32)}`;
}

/** True when the template asks for no exception, or an admin approved exactly the ones it asks for. */
export function isSecurityApproved(template: { metadata: { annotations?: Record<string, string> }; spec: Pick<TemplateSpec, 'security'> }): boolean {
  const fingerprint = securityFingerprint(template.spec);
  return fingerprint === null || template.metadata.annotations?.[APPROVAL_ANNOTATION] === fingerprint;
}

export const notApprovedMessage = (name: string, spec: Pick<TemplateSpec, 'security'>) =>
  `Template "${name}" asks for security exceptions an admin has not approved (${securityExceptions(spec).join(', ')}); an admin must approve them (approveTemplateSecurity) before sessions can start`;

export interface EnvReference {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  /** Where the template names it, e.g. spec.env[2].valueFrom.secretKeyRef. */
  path: string;
  optional: boolean;
}

/** Every Secret and ConfigMap the template's env reads. */
export function envReferences(spec: Pick<TemplateSpec, 'env' | 'envFrom'>): EnvReference[] {
  const out: EnvReference[] = [];
  (spec.env ?? []).forEach((e, i) => {
    const s = e.valueFrom?.secretKeyRef;
    if (s) out.push({ kind: 'Secret', name: s.name, path: `spec.env[${i}].valueFrom.secretKeyRef`, optional: Boolean(s.optional) });
    const c = e.valueFrom?.configMapKeyRef;
    if (c) out.push({ kind: 'ConfigMap', name: c.name, path: `spec.env[${i}].valueFrom.configMapKeyRef`, optional: Boolean(c.optional) });
  });
  (spec.envFrom ?? []).forEach((e, i) => {
    if (e.secretRef) out.push({ kind: 'Secret', name: e.secretRef.name, path: `spec.envFrom[${i}].secretRef`, optional: Boolean(e.secretRef.optional) });
    if (e.configMapRef) out.push({ kind: 'ConfigMap', name: e.configMapRef.name, path: `spec.envFrom[${i}].configMapRef`, optional: Boolean(e.configMapRef.optional) });
  });
  return out;
}

/**
 * Why a referenced object may not be read by a session (null: it may). `labels` is null when the object does not
 * exist: an optional reference to a missing object is fine (the kubelet skips it), a required one is not.
 */
export function referenceProblem(ref: EnvReference, labels: Record<string, string> | null, namespace: string): string | null {
  if (labels === null) return ref.optional ? null : `${ref.path}: ${ref.kind} "${ref.name}" does not exist in namespace ${namespace}`;
  if (labels[SESSION_VISIBLE_LABEL] === 'true') return null;
  return `${ref.path}: ${ref.kind} "${ref.name}" is not labelled ${SESSION_VISIBLE_LABEL}=true; sessions may only read Secrets and ConfigMaps labelled for them`;
}

/** A spec as a non-admin may see it: env names only (no values, no Secret or ConfigMap names), no envFrom. */
export function specForUser(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  if (Array.isArray(spec.env)) out.env = (spec.env as TemplateEnvVar[]).map((e) => ({ name: e.name }));
  delete out.envFrom;
  return out;
}
