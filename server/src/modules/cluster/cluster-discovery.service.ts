import type { KubeConfig } from '@kubernetes/client-node';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { decodeCursor, encodeCursor, pageSize } from '../../platform/graphql/pagination';
import { kubeGetJson } from '../../platform/kube/kube-http';
import { checkName, requireKubeConfig } from './cluster-checks';
import { CLUSTER_KINDS, isNamespaceName, type ClusterKind } from './cluster-kinds';
import { sanitizeObject, toYaml, type KubeObject } from './cluster-manifest';
import { fromKube } from './cluster.errors';
import type { ApiObjectConnectionType, ApiObjectType, ApiResourceType } from './dto/cluster-discovery.type';

/** How long one discovery answer is reused (kinds rarely change; a new CRD shows up within this). */
const DISCOVERY_TTL_MS = 60_000;

/** The operations the admin console offers on an allow-listed kind (the write allow-list an admin can see). */
export const WRITE_OPERATIONS: Partial<Record<ClusterKind, string[]>> = Object.fromEntries(
  (Object.keys(CLUSTER_KINDS) as ClusterKind[]).map((kind) => {
    const ops = ['apply', 'delete'];
    if (kind === 'Deployment') ops.push('scale', 'restart', 'undo');
    if (kind === 'StatefulSet') ops.push('scale', 'restart');
    if (kind === 'Pod') ops.push('restart', 'exec', 'logs');
    if (kind === 'Node') ops.push('cordon', 'drain');
    return [kind, ops];
  }),
);

interface ResourceList {
  groupVersion?: string;
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/** Whether `apiVersion`/`kind` is an allow-listed (writable) kind. */
function allowListed(apiVersion: string, kind: string): ClusterKind | null {
  const entry = (Object.entries(CLUSTER_KINDS) as [ClusterKind, { apiVersion: string }][]).find(([k, v]) => k === kind && v.apiVersion === apiVersion);
  return entry ? entry[0] : null;
}

/**
 * Read-only browsing of every kind the API server offers (discovery: /api/v1 and the preferred version of every group
 * under /apis). Paths are built only from what discovery returned, so no argument reaches an arbitrary URL. Writes stay
 * limited to the allow-list (cluster-kinds.ts); every resource says whether it is on it and which operations it has.
 * A Secret read this way is redacted like everywhere else.
 */
export class ClusterDiscovery {
  private cached: { at: number; resources: Promise<ApiResourceType[]> } | null = null;

  constructor(private readonly deps: { kubeConfig: KubeConfig | null }) {}

  /** Every listable resource (no subresources), by group then kind; cached for a minute. */
  resources(): Promise<ApiResourceType[]> {
    const kc = requireKubeConfig(this.deps.kubeConfig);
    if (this.cached && Date.now() - this.cached.at < DISCOVERY_TTL_MS) return this.cached.resources;
    const resources = this.discover(kc);
    this.cached = { at: Date.now(), resources };
    resources.catch(() => {
      if (this.cached?.resources === resources) this.cached = null;
    });
    return resources;
  }

  private async discover(kc: KubeConfig): Promise<ApiResourceType[]> {
    let groups: { groups?: { name: string; preferredVersion?: { groupVersion: string } }[] };
    let core: ResourceList;
    try {
      [core, groups] = await Promise.all([kubeGetJson<ResourceList>(kc, '/api/v1'), kubeGetJson<typeof groups>(kc, '/apis')]);
    } catch (err) {
      throw fromKube(err, { what: 'discovering the API' });
    }
    // A group whose API service is down (an aggregated API such as metrics.k8s.io without its server) is left out.
    const lists = await Promise.all(
      (groups.groups ?? []).map((g) => (g.preferredVersion ? kubeGetJson<ResourceList>(kc, `/apis/${g.preferredVersion.groupVersion}`).catch(() => null) : null)),
    );
    const out: ApiResourceType[] = [];
    for (const list of [{ ...core, groupVersion: 'v1' }, ...lists]) {
      if (!list?.groupVersion) continue;
      for (const r of list.resources ?? []) {
        if (r.name.includes('/') || !(r.verbs ?? []).includes('list')) continue;
        const group = list.groupVersion.includes('/') ? list.groupVersion.split('/')[0]! : '';
        const listed = allowListed(list.groupVersion, r.kind);
        out.push({
          group,
          apiVersion: list.groupVersion,
          kind: r.kind,
          plural: r.name,
          namespaced: r.namespaced,
          verbs: [...(r.verbs ?? [])].sort(),
          writable: listed !== null,
          operations: listed ? (WRITE_OPERATIONS[listed] ?? []) : [],
        });
      }
    }
    return out.sort((a, b) => a.group.localeCompare(b.group) || a.kind.localeCompare(b.kind));
  }

  /** The discovered resource for apiVersion + plural, or BAD_USER_INPUT (so paths come only from discovery). */
  private async resource(apiVersion: string, plural: string): Promise<ApiResourceType> {
    const found = (await this.resources()).find((r) => r.apiVersion === apiVersion && r.plural === plural);
    if (!found) throw new AppError(ErrorCode.BAD_USER_INPUT, `the API server offers no listable resource "${plural}" in ${apiVersion}`, { apiVersion, plural });
    return found;
  }

  private path(r: ApiResourceType, namespace: string | undefined, name?: string): string {
    const base = r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  private namespaceOf(r: ApiResourceType, namespace: string | null | undefined, required: boolean): string | undefined {
    if (!namespace) {
      if (required && r.namespaced) throw badInput(`namespace is required for ${r.kind}`);
      return undefined;
    }
    if (!r.namespaced) throw badInput(`${r.kind} is cluster-scoped: give no namespace`, { namespace });
    if (!isNamespaceName(namespace)) throw badInput(`"${namespace}" is not a valid namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and "-")`, { namespace });
    return namespace;
  }

  private view(r: ApiResourceType, raw: KubeObject): ApiObjectType {
    // Secrets keep their values out of every view (the same redaction as the allow-listed browser).
    const obj = sanitizeObject(r.kind, { ...raw, apiVersion: raw.apiVersion ?? r.apiVersion, kind: raw.kind ?? r.kind });
    const meta = obj.metadata ?? {};
    return {
      apiVersion: r.apiVersion,
      kind: r.kind,
      name: meta.name ?? '',
      namespace: r.namespaced ? (meta.namespace ?? null) : null,
      createdAt: typeof meta.creationTimestamp === 'string' ? new Date(meta.creationTimestamp) : null,
      labels: meta.labels ?? {},
      writable: r.writable,
      yaml: toYaml({ kind: r.kind as ClusterKind, apiVersion: r.apiVersion, plural: r.plural, namespaced: r.namespaced }, obj),
    };
  }

  /** One page of any discovered resource, paged with the API server's continue tokens. */
  async list(args: { apiVersion: string; plural: string; namespace?: string | null; first?: number; after?: string | null }): Promise<ApiObjectConnectionType> {
    const r = await this.resource(args.apiVersion, args.plural);
    const namespace = this.namespaceOf(r, args.namespace, false);
    const size = pageSize(args.first);
    let token: string | undefined;
    let offset = 0;
    if (args.after) {
      const [t, at] = decodeCursor(args.after, 2);
      if (typeof t !== 'string' || typeof at !== 'number' || !t) throw badInput('The `after` cursor is not valid', { after: args.after });
      token = t;
      offset = at;
    }
    let list: { metadata?: { continue?: string; remainingItemCount?: number }; items?: KubeObject[] };
    try {
      list = await kubeGetJson(requireKubeConfig(this.deps.kubeConfig), this.path(r, namespace), { query: { limit: size, continue: token } });
    } catch (err) {
      throw fromKube(err, { what: `listing ${r.plural}.${r.group || 'core'}` });
    }
    const items = list.items ?? [];
    const next = list.metadata?.continue || null;
    const end = offset + items.length;
    const remaining = list.metadata?.remainingItemCount;
    return {
      items: items.map((item) => this.view(r, item)),
      totalCount: next ? (typeof remaining === 'number' ? end + remaining : null) : end,
      pageInfo: { hasNextPage: Boolean(next), hasPreviousPage: Boolean(args.after), startCursor: null, endCursor: next ? encodeCursor([next, end]) : null },
    };
  }

  /** One object of any discovered resource, or null when it does not exist. */
  async get(args: { apiVersion: string; plural: string; namespace?: string | null; name: string }): Promise<ApiObjectType | null> {
    const r = await this.resource(args.apiVersion, args.plural);
    const namespace = this.namespaceOf(r, args.namespace, true);
    checkName(args.name);
    try {
      return this.view(r, await kubeGetJson<KubeObject>(requireKubeConfig(this.deps.kubeConfig), this.path(r, namespace, args.name)));
    } catch (err) {
      const mapped = fromKube(err, { what: `reading ${r.kind} ${args.name}`, secret: r.kind === 'Secret' });
      if (mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND) return null;
      throw mapped;
    }
  }
}
