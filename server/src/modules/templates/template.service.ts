import type { AuditService, AuditSource } from '../audit/audit.service';
import { AppError, ErrorCode, badInput, notFound } from '../../platform/graphql/errors';
import { isConflict, isNotFound, kubeMessage, kubeStatusCode, noCluster } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type CustomResourceClient, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import { invalidTemplate, templateExists } from './template.errors';
import { isDnsLabel, normalizeTemplate, normalizeTemplateYaml } from './template-normalize';
import { APPROVAL_ANNOTATION, envReferences, isSecurityApproved, referenceProblem, securityExceptions, securityFingerprint } from './template-security';
import { templateObjects, type TemplateManifest, type TemplateSpec } from './template.crd';
import type { ResourceListType, TemplateType } from './dto/template.type';
import { AppTypeEnum } from './dto/template.type';
import type { CreateTemplateInput, ResourcesInput, TemplateSpecInput } from './dto/template.input';
import type { TemplateFilterInput } from './dto/template-filter.input';
import type { TemplateCache } from './template-cache';

type TemplateObject = TemplateManifest & { metadata: TemplateManifest['metadata'] & { resourceVersion?: string } };

function resourceList(m: Record<string, string | number> | undefined): ResourceListType | null {
  if (!m) return null;
  return { cpu: m.cpu !== undefined ? String(m.cpu) : null, memory: m.memory !== undefined ? String(m.memory) : null };
}

export function toTemplateType(obj: TemplateObject): TemplateType {
  const s = (obj.spec ?? {}) as Partial<TemplateSpec>;
  return {
    name: obj.metadata.name,
    displayName: s.displayName ?? obj.metadata.name,
    description: s.description ?? '',
    category: s.category ?? 'Other',
    icon: s.icon ?? null,
    tags: s.tags ?? [],
    baseImage: s.baseImage ?? '',
    appType: (s.appType as AppTypeEnum) ?? AppTypeEnum.webapp,
    webappPort: s.webapp?.port ?? null,
    vncPort: s.vnc?.enabled !== false ? (s.vnc?.port ?? null) : null,
    defaultResources: s.defaultResources ? { requests: resourceList(s.defaultResources.requests), limits: resourceList(s.defaultResources.limits) } : null,
    capabilities: s.capabilities ?? [],
    securityExceptions: securityExceptions(s),
    securityApproved: isSecurityApproved({ metadata: obj.metadata, spec: s }),
    valid: obj.status?.valid ?? null,
    message: obj.status?.message ?? null,
    createdAt: obj.metadata.creationTimestamp ? new Date(obj.metadata.creationTimestamp) : null,
    spec: s as Record<string, unknown>,
  };
}

function resourcesFromInput(r: ResourcesInput | undefined): Record<string, unknown> | undefined {
  if (!r) return undefined;
  const list = (l?: { cpu?: string; memory?: string }) => (l ? Object.fromEntries(Object.entries({ cpu: l.cpu, memory: l.memory }).filter(([, v]) => v !== undefined && v !== null)) : undefined);
  return { ...(r.requests ? { requests: list(r.requests) } : {}), ...(r.limits ? { limits: list(r.limits) } : {}) };
}

/** Applies input fields onto a spec in our format (unknown-to-input fields, like env, are kept). */
function mergeSpec(base: Record<string, unknown>, input: TemplateSpecInput): Record<string, unknown> {
  const spec: Record<string, unknown> = { ...base };
  for (const key of ['displayName', 'description', 'category', 'icon', 'tags', 'baseImage', 'appType', 'capabilities'] as const) {
    if (input[key] !== undefined && input[key] !== null) spec[key] = input[key];
  }
  if (input.webappPort !== undefined && input.webappPort !== null) spec.webapp = { ...((spec.webapp as object) ?? {}), port: input.webappPort };
  if (input.vncPort !== undefined && input.vncPort !== null) spec.vnc = { ...((spec.vnc as object) ?? {}), enabled: true, port: input.vncPort };
  if (input.defaultResources) spec.defaultResources = resourcesFromInput(input.defaultResources);
  return spec;
}

/**
 * Templates live in the cluster (Template objects in the StreamSpace namespace); this service reads and
 * writes them. Every write goes through normalizeTemplate first, so the API and the reconciler agree on
 * what is valid, and an invalid template is never stored.
 */
export class TemplateService {
  constructor(
    private readonly deps: {
      kube: StreamSpaceApi | null;
      audit: AuditService;
      cache?: TemplateCache;
      /**
       * Labels of a Secret or ConfigMap in the session namespace (null: it does not exist), to check what a
       * template's env may read; without it (no cluster) references cannot be checked and writes are refused.
       */
      envObjectLabels?: (kind: 'Secret' | 'ConfigMap', name: string) => Promise<Record<string, string> | null>;
    },
  ) {}

  /** Refuses a template whose env names a Secret or ConfigMap not labelled for sessions (the platform's own Secret included). */
  async checkEnvReferences(template: TemplateManifest): Promise<void> {
    const refs = envReferences(template.spec);
    if (!refs.length) return;
    const lookup = this.deps.envObjectLabels;
    if (!lookup) throw invalidTemplate(['spec.env: Secret and ConfigMap references cannot be checked without a cluster']);
    const namespace = this.objects().namespace;
    const problems: string[] = [];
    for (const ref of refs) {
      const problem = referenceProblem(ref, await lookup(ref.kind, ref.name), namespace);
      if (problem) problems.push(problem);
    }
    if (problems.length) throw invalidTemplate(problems);
  }

  /**
   * Annotations for a template an admin wrote: an approval of its exceptions (the admin authored them), never one
   * copied from the input. `approve: false` (catalog installs) keeps only an earlier approval, which counts only while
   * it matches the exceptions.
   */
  private approvalAnnotations(template: TemplateManifest, approve: boolean, existing: TemplateObject | null): Record<string, string> | undefined {
    const annotations = { ...(template.metadata.annotations ?? {}) };
    delete annotations[APPROVAL_ANNOTATION];
    const fingerprint = securityFingerprint(template.spec);
    const earlier = existing?.metadata.annotations?.[APPROVAL_ANNOTATION];
    if (fingerprint && approve) annotations[APPROVAL_ANNOTATION] = fingerprint;
    else if (fingerprint && earlier) annotations[APPROVAL_ANNOTATION] = earlier;
    return Object.keys(annotations).length ? annotations : undefined;
  }

  /** An admin approves the security exceptions a template asks for now (a later change of them needs a new approval). */
  async approveSecurity(name: string, source: AuditSource): Promise<TemplateType> {
    const existing = await this.getObject(name);
    if (!existing) throw notFound('Template', name);
    const fingerprint = securityFingerprint(existing.spec);
    if (!fingerprint) throw badInput(`Template "${name}" asks for no security exceptions; there is nothing to approve`, { name });
    let saved: TemplateObject;
    try {
      saved = await this.objects().replace(name, { ...existing, metadata: { ...existing.metadata, annotations: { ...(existing.metadata.annotations ?? {}), [APPROVAL_ANNOTATION]: fingerprint } } });
    } catch (err) {
      if (isConflict(err)) throw new AppError(ErrorCode.CONFLICT, `Template "${name}" changed while it was being approved; look at it again`, { name });
      throw err;
    }
    await this.deps.audit.record({
      action: 'template.approve-security',
      resourceType: 'template',
      resourceId: name,
      changes: { exceptions: securityExceptions(existing.spec), fingerprint },
      source,
    });
    return toTemplateType(saved);
  }

  private objects(): CustomResourceClient<TemplateObject> {
    if (!this.deps.kube) throw noCluster('sessions and templates');
    return templateObjects(this.deps.kube) as CustomResourceClient<TemplateObject>;
  }

  /** One template object from the watch cache once it has synced, else from the API server; null when it does not exist. */
  async cachedObject(name: string): Promise<TemplateObject | null> {
    const now = this.cachedObjectNow(name);
    return now !== undefined ? now : await this.getObject(name);
  }

  /**
   * One template object from the synced watch cache, without waiting: null when it does not exist, undefined when
   * the cache cannot tell yet (not synced, or no cache): the caller then takes its asynchronous path.
   */
  cachedObjectNow(name: string): TemplateObject | null | undefined {
    const hit = this.deps.cache ? this.deps.cache.find(name) : null;
    if (hit === null) return undefined;
    return hit ?? null;
  }

  /** Every template object: from the watch cache once it has synced, else from the API server. */
  cachedObjects(): Promise<TemplateObject[]> {
    return this.all();
  }

  /** Every template: from the watch cache once it has synced, else from the API server. */
  private async all(): Promise<TemplateObject[]> {
    const objects = this.objects();
    return this.deps.cache?.items() ?? (await objects.list());
  }

  async list(filter: TemplateFilterInput = {}): Promise<TemplateType[]> {
    const items = await this.all();
    const search = filter.search?.toLowerCase();
    return items
      .map(toTemplateType)
      .filter((t) => (filter.category ? t.category === filter.category : true))
      .filter((t) => (filter.appType ? t.appType === filter.appType : true))
      .filter((t) => (filter.valid !== undefined && filter.valid !== null ? t.valid === filter.valid : true))
      .filter((t) =>
        search ? [t.name, t.displayName, t.description, ...t.tags].some((v) => v.toLowerCase().includes(search)) : true,
      )
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.name.localeCompare(b.name));
  }

  async getObject(name: string): Promise<TemplateObject | null> {
    if (!isDnsLabel(name)) return null;
    return this.objects().find(name);
  }

  async get(name: string): Promise<TemplateType | null> {
    if (!isDnsLabel(name)) return null;
    const obj = await this.cachedObject(name);
    return obj ? toTemplateType(obj) : null;
  }

  /** Many templates by name in one list call (the DataLoader's batch). */
  async getMany(names: readonly string[]): Promise<(TemplateType | null)[]> {
    if (!this.deps.kube) return names.map(() => null);
    const all = await this.all();
    const byName = new Map(all.map((t) => [t.metadata.name, t]));
    return names.map((n) => (byName.has(n) ? toTemplateType(byName.get(n)!) : null));
  }

  /** Creates or updates from YAML in either format. */
  async applyYaml(yaml: string, source: AuditSource, options: { approveSecurity?: boolean } = {}): Promise<TemplateType> {
    const r = normalizeTemplateYaml(yaml);
    if (!r.ok) throw invalidTemplate(r.errors);
    await this.checkEnvReferences(r.template);
    const existing = await this.getObject(r.template.metadata.name);
    const annotations = this.approvalAnnotations(r.template, options.approveSecurity ?? true, existing);
    const template = { ...r.template, metadata: { ...r.template.metadata, annotations } };
    const saved = existing ? await this.replace(existing, template) : await this.create(template);
    await this.deps.cache?.observed(saved.metadata.name, saved.metadata.resourceVersion ?? null);
    await this.deps.audit.record({
      action: 'template.apply',
      resourceType: 'template',
      resourceId: saved.metadata.name,
      changes: { created: !existing, format: r.format, spec: r.template.spec, securityExceptions: securityExceptions(r.template.spec), securityApproved: isSecurityApproved(saved) },
      source,
    });
    return toTemplateType(saved);
  }

  async createFromInput(input: CreateTemplateInput, source: AuditSource): Promise<TemplateType> {
    if (!isDnsLabel(input.name)) throw badInput(`"${input.name}" is not a valid template name: use a DNS label (lower-case letters, digits and "-", at most 63 characters)`, { name: input.name });
    const manifest = { apiVersion: STREAMSPACE_API_VERSION, kind: 'Template', metadata: { name: input.name }, spec: mergeSpec({}, input) };
    const r = normalizeTemplate(manifest);
    if (!r.ok) throw invalidTemplate(r.errors);
    if (await this.getObject(input.name)) throw templateExists(input.name);
    const saved = await this.create({ ...r.template, metadata: { ...r.template.metadata, annotations: this.approvalAnnotations(r.template, true, null) } });
    await this.deps.cache?.observed(saved.metadata.name, saved.metadata.resourceVersion ?? null);
    await this.deps.audit.record({ action: 'template.create', resourceType: 'template', resourceId: input.name, changes: { spec: r.template.spec }, source });
    return toTemplateType(saved);
  }

  async update(name: string, input: TemplateSpecInput, source: AuditSource): Promise<TemplateType> {
    const existing = await this.getObject(name);
    if (!existing) throw notFound('Template', name);
    const manifest = {
      apiVersion: STREAMSPACE_API_VERSION,
      kind: 'Template',
      metadata: { name, ...(existing.metadata.labels ? { labels: existing.metadata.labels } : {}), ...(existing.metadata.annotations ? { annotations: existing.metadata.annotations } : {}) },
      spec: mergeSpec(existing.spec as unknown as Record<string, unknown>, input),
    };
    const r = normalizeTemplate(manifest);
    if (!r.ok) throw invalidTemplate(r.errors);
    await this.checkEnvReferences(r.template);
    // An update through the API keeps the approval state: the input cannot change the security exceptions.
    const saved = await this.replace(existing, r.template);
    await this.deps.cache?.observed(name, saved.metadata.resourceVersion ?? null);
    await this.deps.audit.record({ action: 'template.update', resourceType: 'template', resourceId: name, changes: { input: { ...input } }, source });
    return toTemplateType(saved);
  }

  async delete(name: string, source: AuditSource): Promise<boolean> {
    const existing = await this.getObject(name);
    if (!existing) throw notFound('Template', name);
    try {
      await this.objects().delete(name);
    } catch (err) {
      if (isNotFound(err)) throw notFound('Template', name);
      throw err;
    }
    await this.deps.cache?.observed(name, null);
    await this.deps.audit.record({ action: 'template.delete', resourceType: 'template', resourceId: name, source });
    return true;
  }

  private async create(template: TemplateManifest): Promise<TemplateObject> {
    try {
      const objects = this.objects();
      return await objects.create({ ...template, metadata: { ...template.metadata, namespace: objects.namespace } });
    } catch (err) {
      if (isConflict(err)) throw templateExists(template.metadata.name);
      if (kubeStatusCode(err) === 422) throw invalidTemplate([kubeMessage(err)]);
      throw err;
    }
  }

  private async replace(existing: TemplateObject, template: TemplateManifest): Promise<TemplateObject> {
    try {
      return await this.objects().replace(existing.metadata.name, {
        ...template,
        metadata: { ...existing.metadata, labels: template.metadata.labels ?? existing.metadata.labels, annotations: template.metadata.annotations ?? existing.metadata.annotations },
      });
    } catch (err) {
      if (kubeStatusCode(err) === 422) throw invalidTemplate([kubeMessage(err)]);
      throw err;
    }
  }
}
