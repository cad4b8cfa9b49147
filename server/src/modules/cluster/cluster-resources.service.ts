import type { KubeConfig } from '@kubernetes/client-node';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { decodeCursor, encodeCursor, pageSize } from '../../platform/graphql/pagination';
import { createInformer } from '../../platform/kube/informer';
import { kubeGetJson, kubeRequest } from '../../platform/kube/kube-http';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { checkName, checkNamespace, kindOf, requireKubeConfig } from './cluster-checks';
import { CLUSTER_KINDS, resourcePath, type KindInfo } from './cluster-kinds';
import { auditedManifest } from './cluster-audit';
import { ManifestError, parseManifest, prepareApply, sanitizeObject, secretKeys, statusSummary, type KubeObject } from './cluster-manifest';
import { channel } from './cluster-stream';
import { objectKey, type ClusterWatchCache } from './cluster-watch-cache';
import { fromKube, invalidManifest, kindNotWritable } from './cluster.errors';
import { PlatformGuard } from './cluster-guard';
import {
  ClusterChangeTypeEnum,
  type ClusterNamespaceType,
  type ClusterNodeType,
  type ClusterResourceChangeType,
  type ClusterResourceConnectionType,
  type ClusterResourceType,
  type ResourceQuantityType,
} from './dto/cluster.type';

/** fieldManager of server-side apply: the admin console's edits show up under this name in managedFields. */
export const FIELD_MANAGER = 'streamspace-admin';

interface ObjectList {
  metadata?: { continue?: string; remainingItemCount?: number; resourceVersion?: string };
  items?: KubeObject[];
}

function date(value: unknown): Date | null {
  return typeof value === 'string' ? new Date(value) : null;
}

function quantities(map: Record<string, string> | undefined): ResourceQuantityType[] {
  return Object.entries(map ?? {})
    .map(([name, value]) => ({ name, value: String(value) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The GraphQL view of a node. */
export function toClusterNode(node: KubeObject): ClusterNodeType {
  const status = (node.status ?? {}) as {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
    nodeInfo?: { kubeletVersion?: string };
    addresses?: { type: string; address: string }[];
  };
  const conditions = status.conditions ?? [];
  return {
    name: node.metadata?.name ?? '',
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    unschedulable: Boolean((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable),
    kubeletVersion: status.nodeInfo?.kubeletVersion ?? null,
    internalIp: status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? null,
    capacity: quantities(status.capacity),
    allocatable: quantities(status.allocatable),
    conditions: conditions.map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? null,
      message: c.message ?? null,
      lastTransitionTime: date(c.lastTransitionTime),
    })),
    labels: node.metadata?.labels ?? {},
    taints: (((node.spec as { taints?: { key: string; value?: string; effect: string }[] } | undefined)?.taints) ?? []).map((t) => ({ key: t.key, value: t.value ?? null, effect: t.effect })),
    createdAt: date(node.metadata?.creationTimestamp),
  };
}

/** The GraphQL view of one object; sanitizes first, so no caller can forget to redact a Secret. */
export function toClusterResource(info: KindInfo, raw: KubeObject): ClusterResourceType {
  const obj = sanitizeObject(info.kind, raw);
  const meta = obj.metadata ?? {};
  const spec = (obj.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  return {
    kind: info.kind,
    apiVersion: info.apiVersion,
    name: meta.name ?? '',
    namespace: info.namespaced ? (meta.namespace ?? null) : null,
    uid: meta.uid ?? null,
    resourceVersion: meta.resourceVersion ?? null,
    createdAt: date(meta.creationTimestamp),
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    status: statusSummary(info.kind, obj),
    secretKeys: info.kind === 'Secret' ? secretKeys(raw) : null,
    containers: info.kind === 'Pod' ? [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name) : null,
    object: obj,
  };
}

/**
 * The admin's resource tools: nodes and namespaces, and generic list/get/apply/delete/watch over the allow-listed
 * kinds. Every change is audited; every object passes through toClusterResource, which redacts Secrets.
 */
export class ClusterResources {
  constructor(private readonly deps: { kubeConfig: KubeConfig | null; audit: AuditService; guard: PlatformGuard; cache?: ClusterWatchCache | null }) {}

  async nodes(): Promise<ClusterNodeType[]> {
    let list: ObjectList;
    const cached = this.deps.cache?.all(kindOf('Node'));
    try {
      list = cached ? { items: cached } : await kubeGetJson<ObjectList>(requireKubeConfig(this.deps.kubeConfig), '/api/v1/nodes');
    } catch (err) {
      throw fromKube(err, { what: 'listing nodes' });
    }
    return (list.items ?? [])
      .map(toClusterNode)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async namespaces(): Promise<ClusterNamespaceType[]> {
    let list: ObjectList;
    try {
      list = await kubeGetJson<ObjectList>(requireKubeConfig(this.deps.kubeConfig), '/api/v1/namespaces');
    } catch (err) {
      throw fromKube(err, { what: 'listing namespaces' });
    }
    return (list.items ?? [])
      .map((ns) => ({
        name: ns.metadata?.name ?? '',
        phase: ((ns.status as { phase?: string } | undefined)?.phase) ?? null,
        labels: ns.metadata?.labels ?? {},
        createdAt: date(ns.metadata?.creationTimestamp),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * One page of a kind, in the API server's order, paged with its own continue tokens (the cursor carries the
   * token and the offset, so totalCount stays right on later pages).
   */
  async list(kind: string, args: { namespace?: string | null; first?: number; after?: string; labelSelector?: string | null }): Promise<ClusterResourceConnectionType> {
    const info = kindOf(kind);
    const namespace = checkNamespace(info, args.namespace, false);
    const size = pageSize(args.first);
    let continueToken: string | undefined;
    let offset = 0;
    if (args.after) {
      const [token, at] = decodeCursor(args.after, 2);
      if (typeof token !== 'string' || typeof at !== 'number' || !token) throw badInput('The `after` cursor is not valid', { after: args.after });
      // The API server continues a list only from the end of a page.
      if (token.startsWith('@')) throw badInput('Only a page\'s endCursor continues a cluster list', { after: args.after });
      continueToken = token;
      offset = at;
    }
    if (args.labelSelector && args.labelSelector.length > 1024) throw badInput('labelSelector is too long (at most 1024 characters)');
    const fromCache = this.cachedPage(info, namespace, size, args.labelSelector, continueToken, offset);
    if (fromCache) return fromCache;
    if (continueToken?.startsWith('~')) throw badInput('The list this cursor continues is no longer cached; start from the first page', { after: args.after });
    let list: ObjectList;
    try {
      list = await kubeGetJson<ObjectList>(requireKubeConfig(this.deps.kubeConfig), resourcePath(info, namespace), {
        query: { limit: size, continue: continueToken, labelSelector: args.labelSelector || undefined },
      });
    } catch (err) {
      throw fromKube(err, { what: `listing ${info.plural}` });
    }
    const items = list.items ?? [];
    const next = list.metadata?.continue || null;
    const end = offset + items.length;
    const remaining = list.metadata?.remainingItemCount;
    const totalCount = next ? (typeof remaining === 'number' ? end + remaining : null) : end;
    const edges = items.map((item, i) => ({ node: toClusterResource(info, item), cursor: encodeCursor([`@${offset + i + 1}`, offset + i + 1]) }));
    // Only the last edge can continue the list (the API server has one token per page).
    if (edges.length && next) edges[edges.length - 1]!.cursor = encodeCursor([next, end]);
    return {
      edges,
      totalCount,
      pageInfo: {
        hasNextPage: Boolean(next),
        hasPreviousPage: Boolean(args.after),
        startCursor: edges[0]?.cursor ?? null,
        endCursor: next ? encodeCursor([next, end]) : (edges.at(-1)?.cursor ?? null),
      },
    };
  }

  /**
   * A page from the watch cache (cluster-watch-cache.ts) of the big kinds, without a label selector; null when the
   * cache cannot answer (not a cached kind, not synced yet, or a cursor of an API-server list). Every edge's cursor
   * continues after its object (`~namespace/name`).
   */
  private cachedPage(info: KindInfo, namespace: string | undefined, size: number, labelSelector: string | null | undefined, token: string | undefined, offset: number): ClusterResourceConnectionType | null {
    if (!this.deps.cache || labelSelector || (token !== undefined && !token.startsWith('~'))) return null;
    const page = this.deps.cache.page(info, namespace, size, token?.slice(1));
    if (!page) return null;
    const at = token === undefined ? 0 : offset;
    const edges = page.items.map((item, i) => ({ node: toClusterResource(info, item), cursor: encodeCursor([`~${objectKey(item)}`, at + i + 1]) }));
    return {
      edges,
      totalCount: page.total,
      pageInfo: {
        hasNextPage: page.hasMore,
        hasPreviousPage: token !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  /** The raw object (unsanitized: for the service's own use), null when it does not exist. */
  async readRaw(info: KindInfo, namespace: string | undefined, name: string): Promise<KubeObject | null> {
    try {
      return await kubeGetJson<KubeObject>(requireKubeConfig(this.deps.kubeConfig), resourcePath(info, namespace, name));
    } catch (err) {
      const mapped = fromKube(err, { what: `reading ${info.kind} ${name}`, secret: info.kind === 'Secret' });
      if (mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND) return null;
      throw mapped;
    }
  }

  async get(kind: string, namespace: string | null | undefined, name: string): Promise<ClusterResourceType | null> {
    const info = kindOf(kind);
    const ns = checkNamespace(info, namespace, true);
    const raw = await this.readRaw(info, ns, checkName(name));
    return raw ? toClusterResource(info, raw) : null;
  }

  /** Server-side apply of one validated manifest (fieldManager streamspace-admin); audited, success or failure. */
  async apply(yaml: string, force: boolean, source: AuditSource): Promise<ClusterResourceType> {
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(yaml);
    } catch (err) {
      if (err instanceof ManifestError && err.notWritableKind) {
        const refused = kindNotWritable(err.notWritableKind, Object.keys(CLUSTER_KINDS), err.problems);
        await this.deps.audit.record({ action: 'cluster.apply', resourceType: 'cluster-resource', resourceId: err.notWritableKind, outcome: 'failure', changes: { kind: err.notWritableKind, refused: 'KindNotWritable' }, source });
        throw refused;
      }
      if (err instanceof ManifestError) throw invalidManifest(err.problems);
      throw err;
    }
    const { info, object } = parsed;
    const name = object.metadata!.name!;
    const namespace = info.namespaced ? object.metadata!.namespace! : undefined;
    const resourceId = [info.kind, namespace, name].filter(Boolean).join('/');
    const kc = requireKubeConfig(this.deps.kubeConfig);
    const current = await this.readRaw(info, namespace, name);
    // The object as stored and as applied must both be outside the platform's own (a label cannot smuggle one in).
    const refusal =
      this.deps.guard.refusal('apply', info.kind, namespace, name, current?.metadata?.labels ?? object.metadata?.labels) ??
      this.deps.guard.refusal('apply', info.kind, namespace, name, object.metadata?.labels);
    if (refusal) {
      await this.deps.audit.record({
        action: 'cluster.apply',
        resourceType: 'cluster-resource',
        resourceId,
        outcome: 'failure',
        changes: { kind: info.kind, namespace: namespace ?? null, name, created: !current, force, manifest: auditedManifest(info.kind, object), refused: refusal },
        source,
      });
      throw PlatformGuard.refused(refusal);
    }
    let body: KubeObject;
    try {
      body = prepareApply(info, object, current);
    } catch (err) {
      if (err instanceof ManifestError) throw invalidManifest(err.problems);
      throw err;
    }
    const audit = (outcome: 'success' | 'failure', extra: Record<string, unknown> = {}) =>
      this.deps.audit.record({
        action: 'cluster.apply',
        resourceType: 'cluster-resource',
        resourceId,
        outcome,
        // The manifest as written, with a Secret's values (and other secret-looking values) redacted: cluster-audit.ts.
        changes: { kind: info.kind, namespace: namespace ?? null, name, created: !current, force, manifest: auditedManifest(info.kind, object), ...extra },
        source,
      });
    let saved: KubeObject;
    try {
      saved = await kubeRequest<KubeObject>(kc, 'PATCH', resourcePath(info, namespace, name), {
        body,
        contentType: 'application/apply-patch+yaml',
        // Strict: an unknown or duplicated field (a typo) is an error, not silently dropped.
        query: { fieldManager: FIELD_MANAGER, force: force || undefined, fieldValidation: 'Strict' },
      });
    } catch (err) {
      const mapped = fromKube(err, { what: `applying ${info.kind} ${name}`, secret: info.kind === 'Secret' });
      await audit('failure', { error: mapped.message });
      throw mapped;
    }
    await audit('success');
    return toClusterResource(info, saved);
  }

  async delete(kind: string, namespace: string | null | undefined, name: string, source: AuditSource): Promise<boolean> {
    const info = kindOf(kind);
    const ns = checkNamespace(info, namespace, true);
    checkName(name);
    const resourceId = [info.kind, ns, name].filter(Boolean).join('/');
    if (ns && ns === this.deps.guard.platformNamespace) {
      const current = await this.readRaw(info, ns, name);
      const refusal = this.deps.guard.refusal('delete', info.kind, ns, name, current?.metadata?.labels);
      if (refusal) {
        await this.deps.audit.record({ action: 'cluster.delete', resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { kind: info.kind, namespace: ns, name, refused: refusal }, source });
        throw PlatformGuard.refused(refusal);
      }
    }
    try {
      await kubeRequest(requireKubeConfig(this.deps.kubeConfig), 'DELETE', resourcePath(info, ns, name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
    } catch (err) {
      const mapped = fromKube(err, { what: `deleting ${info.kind} ${name}` });
      if (!(mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND)) {
        await this.deps.audit.record({ action: 'cluster.delete', resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { error: mapped.message }, source });
      }
      throw mapped;
    }
    await this.deps.audit.record({ action: 'cluster.delete', resourceType: 'cluster-resource', resourceId, changes: { kind: info.kind, namespace: ns ?? null, name }, source });
    return true;
  }

  /**
   * Changes of one kind (in one namespace or all) from now on, fed by a list-then-watch informer that resumes
   * after dropped connections. The objects that exist when it starts are not replayed.
   */
  async watch(kind: string, namespace: string | null | undefined): Promise<AsyncGenerator<ClusterResourceChangeType>> {
    const info = kindOf(kind);
    const ns = checkNamespace(info, namespace, false);
    const informer = createInformer({
      kubeConfig: requireKubeConfig(this.deps.kubeConfig),
      path: resourcePath(info, ns),
      initialBackoffMs: 500,
    });
    const ch = channel<ClusterResourceChangeType>(() => informer.stop());
    let synced = false;
    const emit = (type: ClusterChangeTypeEnum) => (obj: object) => {
      if (synced) ch.push({ type, resource: toClusterResource(info, obj as KubeObject) });
    };
    informer.on('add', emit(ClusterChangeTypeEnum.ADDED));
    informer.on('update', emit(ClusterChangeTypeEnum.MODIFIED));
    informer.on('delete', emit(ClusterChangeTypeEnum.DELETED));
    informer.on('synced', () => {
      synced = true;
    });
    // The first list must work (permissions, a reachable API server); later failures are retried by the informer.
    const first = new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        informer.off('error', onError);
        reject(err);
      };
      informer.on('error', onError);
      informer.start().then(() => {
        informer.off('error', onError);
        resolve();
      }, reject);
    });
    try {
      await first;
    } catch (err) {
      await informer.stop();
      throw fromKube(err, { what: `watching ${info.plural}` });
    }
    return ch.iterator;
  }
}
