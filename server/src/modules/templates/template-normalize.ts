import { parseAllDocuments } from 'yaml';
import { STREAMSPACE_API_VERSION } from '../../platform/kube/streamspace-api';
import { isNonNegativeQuantity } from './quantity';
import { BASELINE_CAPABILITIES } from './template-security';
import {
  APP_TYPES,
  LEGACY_GROUP,
  type AppType,
  type ResourceRequirements,
  type TemplateEnvFrom,
  type TemplateEnvVar,
  type TemplateManifest,
  type TemplateSecurity,
  type TemplateSpec,
} from './template.crd';

/**
 * Turns a parsed Template manifest in either accepted format into a validated
 * stream.streamspace.io/v1alpha1 Template. Pure: no I/O, no clock.
 *
 * Formats:
 * - ours: `apiVersion: stream.streamspace.io/v1alpha1` (crds/template.yaml);
 * - the original StreamSpace project's: `apiVersion: stream.space/v1alpha1`, where
 *   `kasmvnc: {enabled: true, port}` means a VNC desktop served on that port (KasmVNC's web client, so
 *   protocol http), `kasmvnc.enabled: false` means a web app on the template's (first) port, and
 *   `defaultResources: {memory, cpu}` is flat (read as requests, with memory also as the limit).
 *
 * Names: ours must already be a DNS label. Original-format names are made into one (lower case,
 * other characters to "-"; `your_spotify` -> `your-spotify`) and the original name is kept in the
 * annotation ORIGINAL_NAME_ANNOTATION. metadata.namespace is dropped: the server installs templates
 * into its own namespace.
 */

export type NormalizeResult = { ok: true; template: TemplateManifest; format: 'streamspace' | 'legacy' } | { ok: false; errors: string[] };

export const ORIGINAL_NAME_ANNOTATION = 'stream.streamspace.io/original-name';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const IMAGE = /^[^\s]+$/;

const COMMON_SPEC_FIELDS = [
  'displayName',
  'description',
  'category',
  'icon',
  'tags',
  'baseImage',
  'appType',
  'webapp',
  'vnc',
  'ports',
  'env',
  'volumeMounts',
  'defaultResources',
  'capabilities',
  'multiUser',
  'maxConcurrentUsers',
  'autoScaling',
  'idleTimeout',
  'envFrom',
  'security',
];
const LEGACY_ONLY_SPEC_FIELDS = ['kasmvnc'];

export function isDnsLabel(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 63 && DNS_LABEL.test(name);
}

/** `your_spotify` -> `your-spotify`, `changedetection.io` -> `changedetection-io`; null if nothing is left. */
export function toDnsLabel(name: string): string | null {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label ? label : null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly errors: string[] = [];
  add(path: string, message: string) {
    this.errors.push(`${path}: ${message}`);
  }
  str(v: unknown, path: string, opts: { required?: boolean; max?: number; pattern?: RegExp; patternHint?: string } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.add(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, 'must be a string');
      return undefined;
    }
    if (opts.required && v.trim() === '') {
      this.add(path, 'must not be empty');
      return undefined;
    }
    if (opts.max !== undefined && v.length > opts.max) this.add(path, `must be at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) this.add(path, opts.patternHint ?? `must match ${opts.pattern.source}`);
    return v;
  }
  int(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER, required = false): number | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(path, 'must be a whole number');
      return undefined;
    }
    if (v < min || v > max) this.add(path, `must be between ${min} and ${max}`);
    return v;
  }
  port(v: unknown, path: string, required = false): number | undefined {
    return this.int(v, path, 1, 65535, required);
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.add(path, 'must be true or false');
      return undefined;
    }
    return v;
  }
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      this.add(path, `must be one of ${values.join(', ')}`);
      return undefined;
    }
    return v as T;
  }
  obj(v: unknown, path: string): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.add(path, 'must be an object');
      return undefined;
    }
    return v;
  }
  arr(v: unknown, path: string, max: number): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.add(path, 'must be a list');
      return undefined;
    }
    if (v.length > max) this.add(path, `must have at most ${max} items`);
    return v;
  }
  known(o: Obj, path: string, fields: readonly string[]) {
    for (const key of Object.keys(o)) if (!fields.includes(key)) this.add(`${path}.${key}`, 'is not a known field');
  }
  stringMap(v: unknown, path: string): Record<string, string> | undefined {
    const o = this.obj(v, path);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) {
      if (typeof val !== 'string') this.add(`${path}.${k}`, 'must be a string');
      else out[k] = val;
    }
    return out;
  }
}

/** Validates a resource requirements object ({requests, limits} of quantities); used for session overrides too. */
export function checkResources(value: unknown, path: string, errors: string[]): ResourceRequirements | undefined {
  const c = new Checker();
  const out = resources(c, value, path);
  errors.push(...c.errors);
  return out;
}

function quantityMap(c: Checker, v: unknown, path: string): Record<string, string | number> | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  const out: Record<string, string | number> = {};
  for (const [k, q] of Object.entries(o)) {
    if (!/^([a-z0-9.-]+\/)?[a-zA-Z0-9][-a-zA-Z0-9_.]*$/.test(k)) c.add(`${path}.${k}`, 'is not a valid resource name');
    if ((typeof q !== 'string' && typeof q !== 'number') || !isNonNegativeQuantity(q)) {
      c.add(`${path}.${k}`, `"${String(q)}" is not a resource quantity (e.g. 500m, 2, 1Gi)`);
    } else out[k] = q;
  }
  return out;
}

function resources(c: Checker, v: unknown, path: string): ResourceRequirements | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  c.known(o, path, ['requests', 'limits']);
  const out: ResourceRequirements = {};
  const requests = quantityMap(c, o.requests, `${path}.requests`);
  const limits = quantityMap(c, o.limits, `${path}.limits`);
  if (requests && Object.keys(requests).length) out.requests = requests;
  if (limits && Object.keys(limits).length) out.limits = limits;
  return out;
}

/** Original format: `{memory, cpu}` -> requests (memory also the limit, so a leaking app is OOM-killed, not the node). */
function legacyResources(c: Checker, v: unknown, path: string): ResourceRequirements | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  if ('requests' in o || 'limits' in o) return resources(c, o, path);
  c.known(o, path, ['memory', 'cpu']);
  const flat = quantityMap(c, o, path);
  if (!flat || !Object.keys(flat).length) return undefined;
  const out: ResourceRequirements = { requests: { ...flat } };
  if (flat.memory !== undefined) out.limits = { memory: flat.memory };
  return out;
}

function normalizeSpec(c: Checker, s: Obj, legacy: boolean, name: string): TemplateSpec | undefined {
  c.known(s, 'spec', legacy ? [...COMMON_SPEC_FIELDS, ...LEGACY_ONLY_SPEC_FIELDS] : COMMON_SPEC_FIELDS);
  const displayName = legacy
    ? (c.str(s.displayName, 'spec.displayName', { max: 256 }) ?? name)
    : c.str(s.displayName, 'spec.displayName', { required: true, max: 256 });
  const baseImage = c.str(s.baseImage, 'spec.baseImage', {
    required: true,
    max: 1024,
    pattern: IMAGE,
    patternHint: 'must be a container image reference without spaces',
  });
  const spec: Partial<TemplateSpec> = { displayName, baseImage };
  const description = c.str(s.description, 'spec.description', { max: 65536 });
  if (description !== undefined) spec.description = description;
  const category = c.str(s.category, 'spec.category', { max: 256 });
  if (category !== undefined) spec.category = category;
  const icon = c.str(s.icon, 'spec.icon', { max: 262144 });
  if (icon !== undefined) spec.icon = icon;

  const tags = c.arr(s.tags, 'spec.tags', 64);
  if (tags) spec.tags = tags.map((t, i) => c.str(t, `spec.tags[${i}]`, { required: true, max: 128 }) ?? '').filter(Boolean);
  const caps = c.arr(s.capabilities, 'spec.capabilities', 32);
  if (caps) spec.capabilities = caps.map((t, i) => c.str(t, `spec.capabilities[${i}]`, { required: true, max: 64 }) ?? '').filter(Boolean);

  // ports
  const ports = c.arr(s.ports, 'spec.ports', 64);
  if (ports) {
    spec.ports = [];
    const seen = new Set<string>();
    ports.forEach((p, i) => {
      const path = `spec.ports[${i}]`;
      const o = c.obj(p, path);
      if (!o) return;
      c.known(o, path, ['name', 'containerPort', 'protocol']);
      const containerPort = c.port(o.containerPort, `${path}.containerPort`, true);
      const portName = c.str(o.name, `${path}.name`, { max: 15, pattern: PORT_NAME, patternHint: 'must be a lower-case DNS label of at most 15 characters' });
      const protocol = c.oneOf(o.protocol, `${path}.protocol`, ['TCP', 'UDP', 'SCTP'] as const) ?? 'TCP';
      if (containerPort === undefined) return;
      const key = `${containerPort}/${protocol}`;
      if (seen.has(key)) c.add(path, `duplicate port ${key}`);
      seen.add(key);
      spec.ports!.push({ ...(portName ? { name: portName } : {}), containerPort, protocol });
    });
  }

  // env
  const env = c.arr(s.env, 'spec.env', 256);
  if (env) {
    spec.env = [];
    const seen = new Set<string>();
    env.forEach((e, i) => {
      const path = `spec.env[${i}]`;
      const o = c.obj(e, path);
      if (!o) return;
      c.known(o, path, ['name', 'value', 'valueFrom']);
      const envName = c.str(o.name, `${path}.name`, { required: true, max: 256, pattern: ENV_NAME, patternHint: 'must be a valid environment variable name' });
      if (envName && seen.has(envName)) c.add(path, `duplicate variable ${envName}`);
      if (envName) seen.add(envName);
      // YAML turns `value: 1000` into a number; the container wants a string.
      let value: string | undefined;
      if (typeof o.value === 'number' || typeof o.value === 'boolean') value = String(o.value);
      else value = c.str(o.value, `${path}.value`);
      const valueFrom = c.obj(o.valueFrom, `${path}.valueFrom`);
      if (valueFrom) {
        c.known(valueFrom, `${path}.valueFrom`, ['secretKeyRef', 'configMapKeyRef']);
        for (const ref of ['secretKeyRef', 'configMapKeyRef'] as const) {
          const r = c.obj(valueFrom[ref], `${path}.valueFrom.${ref}`);
          if (!r) continue;
          c.str(r.name, `${path}.valueFrom.${ref}.name`, { required: true });
          c.str(r.key, `${path}.valueFrom.${ref}.key`, { required: true });
        }
        if (value !== undefined) c.add(path, 'must set value or valueFrom, not both');
      }
      if (!envName) return;
      spec.env!.push({
        name: envName,
        ...(value !== undefined ? { value } : {}),
        ...(valueFrom ? { valueFrom: valueFrom as TemplateEnvVar['valueFrom'] } : {}),
      });
    });
  }

  // envFrom: every key of a Secret or ConfigMap
  const envFrom = c.arr(s.envFrom, 'spec.envFrom', 32);
  if (envFrom) {
    spec.envFrom = [];
    envFrom.forEach((e, i) => {
      const path = `spec.envFrom[${i}]`;
      const o = c.obj(e, path);
      if (!o) return;
      c.known(o, path, ['prefix', 'secretRef', 'configMapRef']);
      const prefix = c.str(o.prefix, `${path}.prefix`, { max: 256, pattern: ENV_NAME, patternHint: 'must be a valid environment variable name' });
      const item: TemplateEnvFrom = prefix !== undefined ? { prefix } : {};
      for (const ref of ['secretRef', 'configMapRef'] as const) {
        const r = c.obj(o[ref], `${path}.${ref}`);
        if (!r) continue;
        c.known(r, `${path}.${ref}`, ['name', 'optional']);
        const refName = c.str(r.name, `${path}.${ref}.name`, { required: true, max: 253 });
        const optional = c.bool(r.optional, `${path}.${ref}.optional`);
        if (refName) item[ref] = { name: refName, ...(optional !== undefined ? { optional } : {}) };
      }
      if (item.secretRef && item.configMapRef) c.add(path, 'must name a Secret or a ConfigMap, not both');
      else if (!item.secretRef && !item.configMapRef) c.add(path, 'must name a Secret (secretRef) or a ConfigMap (configMapRef)');
      else spec.envFrom!.push(item);
    });
  }

  // security: exceptions to the restricted pod security (approved by an admin, see template-security.ts)
  const secIn = c.obj(s.security, 'spec.security');
  if (secIn) {
    c.known(secIn, 'spec.security', ['runAsRoot', 'runAsUser', 'runAsGroup', 'fsGroup', 'addCapabilities']);
    const security: TemplateSecurity = {};
    const runAsRoot = c.bool(secIn.runAsRoot, 'spec.security.runAsRoot');
    if (runAsRoot !== undefined) security.runAsRoot = runAsRoot;
    for (const k of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
      const v = c.int(secIn[k], `spec.security.${k}`, 1, 2147483647);
      if (v !== undefined) security[k] = v;
    }
    if (security.runAsRoot && security.runAsUser !== undefined) c.add('spec.security', 'set runAsRoot or runAsUser, not both');
    const capsIn = c.arr(secIn.addCapabilities, 'spec.security.addCapabilities', 16);
    if (capsIn) {
      const caps: string[] = [];
      capsIn.forEach((cap, i) => {
        const capPath = `spec.security.addCapabilities[${i}]`;
        const value = typeof cap === 'string' ? cap.toUpperCase().replace(/^CAP_/, '') : cap;
        const ok = c.oneOf(value, capPath, BASELINE_CAPABILITIES);
        if (ok && !caps.includes(ok)) caps.push(ok);
      });
      if (caps.length) security.addCapabilities = caps;
    }
    if (Object.keys(security).length) spec.security = security;
  }

  // volumeMounts
  const mounts = c.arr(s.volumeMounts, 'spec.volumeMounts', 64);
  if (mounts) {
    spec.volumeMounts = [];
    mounts.forEach((m, i) => {
      const path = `spec.volumeMounts[${i}]`;
      const o = c.obj(m, path);
      if (!o) return;
      c.known(o, path, ['name', 'mountPath', 'subPath', 'readOnly']);
      const vName = c.str(o.name, `${path}.name`, { required: true, max: 63, pattern: DNS_LABEL, patternHint: 'must be a DNS label' });
      const mountPath = c.str(o.mountPath, `${path}.mountPath`, { required: true, pattern: /^\//, patternHint: 'must be an absolute path' });
      const subPath = c.str(o.subPath, `${path}.subPath`);
      const readOnly = c.bool(o.readOnly, `${path}.readOnly`);
      if (!vName || !mountPath) return;
      spec.volumeMounts!.push({ name: vName, mountPath, ...(subPath !== undefined ? { subPath } : {}), ...(readOnly !== undefined ? { readOnly } : {}) });
    });
  }

  // resources
  const res = legacy ? legacyResources(c, s.defaultResources, 'spec.defaultResources') : resources(c, s.defaultResources, 'spec.defaultResources');
  if (res && (res.requests || res.limits)) spec.defaultResources = res;

  // webapp / vnc / appType
  const webappIn = c.obj(s.webapp, 'spec.webapp');
  if (webappIn) {
    c.known(webappIn, 'spec.webapp', ['port', 'protocol', 'path', 'healthCheck']);
    const port = c.port(webappIn.port, 'spec.webapp.port', true);
    const protocol = c.oneOf(webappIn.protocol, 'spec.webapp.protocol', ['http', 'https'] as const);
    const path = c.str(webappIn.path, 'spec.webapp.path', { max: 2048, pattern: /^\//, patternHint: 'must start with /' });
    // The seed catalog's short form `healthCheck: /api/health` is the path alone.
    const hcRaw = typeof webappIn.healthCheck === 'string' ? { path: webappIn.healthCheck } : webappIn.healthCheck;
    const hcIn = c.obj(hcRaw, 'spec.webapp.healthCheck');
    let healthCheck: NonNullable<TemplateSpec['webapp']>['healthCheck'];
    if (hcIn) {
      c.known(hcIn, 'spec.webapp.healthCheck', ['path', 'port', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold']);
      healthCheck = {};
      const hp = c.str(hcIn.path, 'spec.webapp.healthCheck.path', { max: 2048, pattern: /^\//, patternHint: 'must start with /' });
      if (hp !== undefined) healthCheck.path = hp;
      const hport = c.port(hcIn.port, 'spec.webapp.healthCheck.port');
      if (hport !== undefined) healthCheck.port = hport;
      for (const [k, min] of [
        ['initialDelaySeconds', 0],
        ['periodSeconds', 1],
        ['timeoutSeconds', 1],
        ['failureThreshold', 1],
      ] as const) {
        const v = c.int(hcIn[k], `spec.webapp.healthCheck.${k}`, min);
        if (v !== undefined) healthCheck[k] = v;
      }
    }
    if (port !== undefined) {
      spec.webapp = { port, protocol: protocol ?? 'http', ...(path !== undefined ? { path } : {}), ...(healthCheck ? { healthCheck } : {}) };
    }
  }
  const vncIn = c.obj(s.vnc, 'spec.vnc');
  if (vncIn) {
    c.known(vncIn, 'spec.vnc', ['enabled', 'port', 'protocol']);
    const enabled = c.bool(vncIn.enabled, 'spec.vnc.enabled') ?? true;
    const port = c.port(vncIn.port, 'spec.vnc.port');
    const protocol = c.oneOf(vncIn.protocol, 'spec.vnc.protocol', ['rfb', 'websocket', 'http', 'https'] as const);
    spec.vnc = { enabled, ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) };
  }

  if (legacy) {
    const kasm = c.obj(s.kasmvnc, 'spec.kasmvnc');
    if (kasm) {
      c.known(kasm, 'spec.kasmvnc', ['enabled', 'port']);
      const enabled = c.bool(kasm.enabled, 'spec.kasmvnc.enabled') ?? false;
      const kport = c.port(kasm.port, 'spec.kasmvnc.port');
      if (enabled && !spec.vnc) {
        spec.vnc = { enabled: true, port: kport ?? spec.ports?.[0]?.containerPort ?? 3000, protocol: 'http' };
      } else if (!enabled && !spec.webapp) {
        const httpPort = spec.ports?.find((p) => p.name === 'http') ?? spec.ports?.[0];
        const port = httpPort?.containerPort ?? kport;
        if (port !== undefined) spec.webapp = { port, protocol: 'http', path: '/' };
      }
    } else if (!spec.webapp && !spec.vnc && spec.ports?.length) {
      spec.webapp = { port: spec.ports[0].containerPort, protocol: 'http', path: '/' };
    }
  }

  const declared = c.oneOf(s.appType, 'spec.appType', APP_TYPES);
  const vncOn = spec.vnc?.enabled !== false && spec.vnc !== undefined;
  let appType: AppType | undefined = declared;
  if (!appType) {
    if (spec.webapp && vncOn) appType = 'hybrid';
    else if (vncOn) appType = 'desktop';
    else if (spec.webapp) appType = 'webapp';
  }
  if (!appType) {
    c.add('spec', 'the template defines neither a web app port (spec.webapp.port) nor a VNC endpoint (spec.vnc); set one and spec.appType');
  } else {
    if ((appType === 'webapp' || appType === 'hybrid') && !spec.webapp) c.add('spec.webapp', `is required for appType ${appType}`);
    if ((appType === 'desktop' || appType === 'hybrid') && !vncOn) c.add('spec.vnc', `must be enabled for appType ${appType}`);
    if (vncOn && spec.vnc?.port === undefined) c.add('spec.vnc.port', 'is required when VNC is enabled');
    spec.appType = appType;
  }

  spec.multiUser = c.bool(s.multiUser, 'spec.multiUser');
  if (spec.multiUser === undefined) delete spec.multiUser;
  const mcu = c.int(s.maxConcurrentUsers, 'spec.maxConcurrentUsers', 1);
  if (mcu !== undefined) spec.maxConcurrentUsers = mcu;
  const asIn = c.obj(s.autoScaling, 'spec.autoScaling');
  if (asIn) {
    c.known(asIn, 'spec.autoScaling', ['enabled', 'minReplicas', 'maxReplicas', 'targetConnections']);
    const as: NonNullable<TemplateSpec['autoScaling']> = {};
    const enabled = c.bool(asIn.enabled, 'spec.autoScaling.enabled');
    if (enabled !== undefined) as.enabled = enabled;
    const minR = c.int(asIn.minReplicas, 'spec.autoScaling.minReplicas', 0);
    const maxR = c.int(asIn.maxReplicas, 'spec.autoScaling.maxReplicas', 1);
    const tc = c.int(asIn.targetConnections, 'spec.autoScaling.targetConnections', 1);
    if (minR !== undefined) as.minReplicas = minR;
    if (maxR !== undefined) as.maxReplicas = maxR;
    if (tc !== undefined) as.targetConnections = tc;
    if (minR !== undefined && maxR !== undefined && minR > maxR) c.add('spec.autoScaling', 'minReplicas must not exceed maxReplicas');
    spec.autoScaling = as;
  }
  // Default idle timeout of the template's sessions (a session's own idleTimeout wins).
  const idleTimeout = c.str(s.idleTimeout, 'spec.idleTimeout', { pattern: /^[0-9]+(s|m|h)$/, patternHint: 'must be a duration such as 30s, 15m or 8h' });
  if (idleTimeout !== undefined) spec.idleTimeout = idleTimeout;
  return spec as TemplateSpec;
}

/** Normalizes one parsed manifest (see the module comment). */
export function normalizeTemplate(input: unknown): NormalizeResult {
  const c = new Checker();
  if (!isObj(input)) return { ok: false, errors: ['the manifest must be a YAML/JSON object'] };
  const apiVersion = input.apiVersion;
  const group = typeof apiVersion === 'string' ? apiVersion.split('/')[0] : undefined;
  let legacy: boolean;
  if (apiVersion === STREAMSPACE_API_VERSION) legacy = false;
  else if (group === LEGACY_GROUP && typeof apiVersion === 'string' && /^stream\.space\/v1(alpha1|beta1)?$/.test(apiVersion)) legacy = true;
  else {
    return {
      ok: false,
      errors: [`apiVersion: must be ${STREAMSPACE_API_VERSION} or ${LEGACY_GROUP}/v1alpha1 (got ${JSON.stringify(apiVersion ?? null)})`],
    };
  }
  if (input.kind !== 'Template') return { ok: false, errors: [`kind: must be Template (got ${JSON.stringify(input.kind ?? null)})`] };

  const meta = c.obj(input.metadata, 'metadata');
  if (!meta) c.add('metadata', 'is required');
  const rawName = c.str(meta?.name, 'metadata.name', { required: true });
  let name: string | undefined;
  const annotations: Record<string, string> = { ...(c.stringMap(meta?.annotations, 'metadata.annotations') ?? {}) };
  const labels = c.stringMap(meta?.labels, 'metadata.labels');
  if (rawName !== undefined) {
    if (isDnsLabel(rawName)) name = rawName;
    else if (legacy) {
      name = toDnsLabel(rawName) ?? undefined;
      if (!name) c.add('metadata.name', `"${rawName}" cannot be made into a DNS label`);
      else annotations[ORIGINAL_NAME_ANNOTATION] = rawName;
    } else {
      c.add('metadata.name', `"${rawName}" is not a DNS label (lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit)`);
    }
  }

  const specIn = c.obj(input.spec, 'spec');
  if (!specIn) {
    if (input.spec === undefined) c.add('spec', 'is required');
    return { ok: false, errors: c.errors };
  }
  const spec = normalizeSpec(c, specIn, legacy, name ?? rawName ?? '');
  if (c.errors.length || !spec || !name) return { ok: false, errors: c.errors.length ? c.errors : ['metadata.name: is required'] };

  const metadata: TemplateManifest['metadata'] = { name };
  if (labels && Object.keys(labels).length) metadata.labels = labels;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return {
    ok: true,
    format: legacy ? 'legacy' : 'streamspace',
    template: { apiVersion: STREAMSPACE_API_VERSION, kind: 'Template', metadata, spec },
  };
}

/** Parses YAML text holding exactly one Template manifest (either format) and normalizes it. */
export function normalizeTemplateYaml(text: string): NormalizeResult {
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return { ok: false, errors: [`YAML: ${(err as Error).message}`] };
  }
  if (!Array.isArray(docs)) return { ok: false, errors: ['YAML: could not be parsed'] };
  const nonEmpty = docs.filter((d) => d.contents !== null);
  if (nonEmpty.length !== 1) return { ok: false, errors: [`YAML: expected exactly one document, found ${nonEmpty.length}`] };
  const doc = nonEmpty[0];
  if (doc.errors.length) return { ok: false, errors: doc.errors.map((e) => `YAML: ${e.message}`) };
  return normalizeTemplate(doc.toJS({ maxAliasCount: 100 }));
}
