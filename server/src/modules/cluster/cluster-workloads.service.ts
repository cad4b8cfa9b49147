import type { KubeConfig } from '@kubernetes/client-node';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { kubeStatusCode } from '../../platform/kube/kube-errors';
import { kubeGetJson, kubeRequest } from '../../platform/kube/kube-http';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { checkName, checkNamespace, kindOf, requireKubeConfig } from './cluster-checks';
import { PlatformGuard } from './cluster-guard';
import { resourcePath, type KindInfo } from './cluster-kinds';
import type { KubeObject } from './cluster-manifest';
import { toClusterResource, type ClusterResources } from './cluster-resources.service';
import { fromKube } from './cluster.errors';
import type { ClusterEventType, DeploymentRevisionType, ServiceEndpointsType } from './dto/cluster-operations.type';
import type { ClusterResourceType } from './dto/cluster.type';

export const MAX_REPLICAS = 10_000;
export const MAX_EVENTS = 1_000;
const DEFAULT_EVENTS = 200;
/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REVISION = 'deployment.kubernetes.io/revision';

interface ReplicaSet {
  metadata?: { name?: string; uid?: string; annotations?: Record<string, string>; creationTimestamp?: string; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { containers?: { image?: string }[] } } };
  status?: { readyReplicas?: number };
}

function date(value: unknown): Date | null {
  return typeof value === 'string' ? new Date(value) : null;
}

/**
 * The admin's workload actions: scale, restart (kubectl rollout restart), rollout history and undo of Deployments,
 * scale and restart of StatefulSets, restart of a controller-managed pod (delete; its controller re-creates it),
 * and the read-only service endpoints and events views. Every change is audited, success or failure, and refused
 * for the platform's own workloads (cluster-guard.ts).
 */
export class ClusterWorkloads {
  constructor(private readonly deps: { kubeConfig: KubeConfig | null; audit: AuditService; guard: PlatformGuard; resources: ClusterResources }) {}

  /** Reads the workload (NOT_FOUND when missing) and refuses (audited) the platform's own. */
  private async target(kind: string, namespace: string, name: string, action: string, source: AuditSource): Promise<{ info: KindInfo; ns: string; current: KubeObject }> {
    const info = kindOf(kind);
    const ns = checkNamespace(info, namespace, true)!;
    checkName(name);
    const current = await this.deps.resources.readRaw(info, ns, name);
    if (!current) throw new AppError(ErrorCode.NOT_FOUND, `${info.kind} ${ns}/${name} does not exist`, { kind: info.kind, namespace: ns, name });
    const refusal = this.deps.guard.refusal(info.kind === 'Pod' ? 'delete' : 'apply', info.kind, ns, name, current.metadata?.labels);
    if (refusal) {
      await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId: `${info.kind}/${ns}/${name}`, outcome: 'failure', changes: { kind: info.kind, namespace: ns, name, refused: refusal }, source });
      throw PlatformGuard.refused(refusal);
    }
    return { info, ns, current };
  }

  /** Runs one write and audits it, success or failure (the API server's message kept). */
  private async audited<T>(action: string, info: KindInfo, ns: string, name: string, changes: Record<string, unknown>, source: AuditSource, what: string, write: () => Promise<T>): Promise<T> {
    const resourceId = `${info.kind}/${ns}/${name}`;
    let result: T;
    try {
      result = await write();
    } catch (err) {
      const mapped = fromKube(err, { what });
      await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { ...changes, error: mapped.message }, source });
      throw mapped;
    }
    await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId, changes, source });
    return result;
  }

  async scale(kind: string, namespace: string, name: string, replicas: number, source: AuditSource): Promise<ClusterResourceType> {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) throw badInput(`replicas must be a whole number between 0 and ${MAX_REPLICAS}`, { replicas });
    const { info, ns, current } = await this.target(kind, namespace, name, 'cluster.workload.scale', source);
    const from = (current.spec as { replicas?: number } | undefined)?.replicas ?? null;
    const kc = requireKubeConfig(this.deps.kubeConfig);
    await this.audited('cluster.workload.scale', info, ns, name, { kind: info.kind, namespace: ns, name, from, replicas }, source, `scaling ${info.kind} ${name}`, () =>
      kubeRequest(kc, 'PATCH', `${resourcePath(info, ns, name)}/scale`, { body: { spec: { replicas } }, contentType: 'application/merge-patch+json' }),
    );
    return toClusterResource(info, (await this.deps.resources.readRaw(info, ns, name)) ?? current);
  }

  /** kubectl rollout restart: stamps the pod template, so the controller rolls every pod. */
  async restart(kind: string, namespace: string, name: string, source: AuditSource): Promise<ClusterResourceType> {
    const { info, ns } = await this.target(kind, namespace, name, 'cluster.workload.restart', source);
    const at = new Date().toISOString();
    const kc = requireKubeConfig(this.deps.kubeConfig);
    const saved = await this.audited('cluster.workload.restart', info, ns, name, { kind: info.kind, namespace: ns, name, restartedAt: at }, source, `restarting ${info.kind} ${name}`, () =>
      kubeRequest<KubeObject>(kc, 'PATCH', resourcePath(info, ns, name), {
        body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } },
        contentType: 'application/strategic-merge-patch+json',
      }),
    );
    return toClusterResource(info, saved);
  }

  private async replicaSets(namespace: string, deployment: KubeObject): Promise<ReplicaSet[]> {
    const kc = requireKubeConfig(this.deps.kubeConfig);
    const uid = deployment.metadata?.uid;
    let list: { items?: ReplicaSet[] };
    try {
      list = await kubeGetJson<{ items?: ReplicaSet[] }>(kc, `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/replicasets`);
    } catch (err) {
      throw fromKube(err, { what: 'listing replicasets' });
    }
    return (list.items ?? []).filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid) && rs.metadata?.annotations?.[REVISION] !== undefined);
  }

  /** kubectl rollout history: the Deployment's ReplicaSets by revision, newest first. */
  async revisions(namespace: string, name: string): Promise<DeploymentRevisionType[]> {
    const info = kindOf('Deployment');
    const ns = checkNamespace(info, namespace, true)!;
    const deployment = await this.deps.resources.readRaw(info, ns, checkName(name));
    if (!deployment) throw new AppError(ErrorCode.NOT_FOUND, `Deployment ${ns}/${name} does not exist`, { kind: 'Deployment', namespace: ns, name });
    const current = Number(deployment.metadata?.annotations?.[REVISION] ?? NaN);
    return (await this.replicaSets(ns, deployment))
      .map((rs) => ({
        revision: Number(rs.metadata!.annotations![REVISION]),
        replicaSet: rs.metadata?.name ?? '',
        current: Number(rs.metadata!.annotations![REVISION]) === current,
        replicas: rs.spec?.replicas ?? 0,
        readyReplicas: rs.status?.readyReplicas ?? 0,
        images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''),
        changeCause: rs.metadata?.annotations?.['kubernetes.io/change-cause'] ?? null,
        createdAt: date(rs.metadata?.creationTimestamp),
      }))
      .filter((r) => Number.isInteger(r.revision))
      .sort((a, b) => b.revision - a.revision);
  }

  /**
   * kubectl rollout undo: puts the pod template of an earlier revision (the previous one by default) back into the
   * Deployment; the controller then rolls to it, and that ReplicaSet becomes the newest revision.
   */
  async undo(namespace: string, name: string, toRevision: number | null | undefined, source: AuditSource): Promise<ClusterResourceType> {
    if (toRevision !== null && toRevision !== undefined && (!Number.isInteger(toRevision) || toRevision < 1)) throw badInput('toRevision must be a revision number (1 or more)', { toRevision });
    const { info, ns, current } = await this.target('Deployment', namespace, name, 'cluster.deployment.undo', source);
    const currentRevision = Number(current.metadata?.annotations?.[REVISION] ?? NaN);
    const sets = await this.replicaSets(ns, current);
    const byRevision = sets.map((rs) => ({ rs, revision: Number(rs.metadata!.annotations![REVISION]) })).sort((a, b) => b.revision - a.revision);
    let target: (typeof byRevision)[number] | undefined;
    if (toRevision !== null && toRevision !== undefined) {
      target = byRevision.find((r) => r.revision === toRevision);
      if (!target) throw badInput(`Deployment ${ns}/${name} has no revision ${toRevision} (it has ${byRevision.map((r) => r.revision).join(', ') || 'none'})`, { toRevision });
      if (target.revision === currentRevision) throw badInput(`revision ${toRevision} is already the current one`, { toRevision });
    } else {
      target = byRevision.find((r) => r.revision < currentRevision);
      if (!target) throw badInput(`Deployment ${ns}/${name} has no earlier revision to go back to`, { revision: Number.isNaN(currentRevision) ? null : currentRevision });
    }
    const template = structuredClone(target.rs.spec?.template ?? {});
    // The ReplicaSet's own label; the controller adds it again.
    if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
    const kc = requireKubeConfig(this.deps.kubeConfig);
    const saved = await this.audited(
      'cluster.deployment.undo',
      info,
      ns,
      name,
      { kind: 'Deployment', namespace: ns, name, fromRevision: Number.isNaN(currentRevision) ? null : currentRevision, toRevision: target.revision, replicaSet: target.rs.metadata?.name ?? null },
      source,
      `rolling back Deployment ${name}`,
      async () => {
        let resourceVersion = current.metadata?.resourceVersion;
        for (let attempt = 1; ; attempt++) {
          try {
            return await kubeRequest<KubeObject>(kc, 'PATCH', resourcePath(info, ns, name), {
              // The resourceVersion test makes a concurrent change answer CONFLICT instead of being overwritten.
              body: [
                { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
                { op: 'replace', path: '/spec/template', value: template },
              ],
              contentType: 'application/json-patch+json',
            });
          } catch (err) {
            // The controller writes the Deployment's status for a while after a rollout, and each write moves the
            // resourceVersion: when only the status changed (same generation), the undo still applies as chosen.
            // A change of the spec meanwhile is someone else's decision: that one answers CONFLICT.
            // A failed test answers 409, or 422 with a generic message: it failed when the object moved on.
            const status = kubeStatusCode(err);
            if (attempt >= 5 || (status !== 409 && status !== 422)) throw err;
            const fresh = await kubeGetJson<KubeObject>(kc, resourcePath(info, ns, name));
            if (fresh.metadata?.resourceVersion === resourceVersion || fresh.metadata?.generation !== current.metadata?.generation) throw err;
            resourceVersion = fresh.metadata?.resourceVersion;
          }
        }
      },
    );
    return toClusterResource(info, saved);
  }

  /** Deletes a pod its controller will re-create (a ReplicaSet, StatefulSet, Job, ...). */
  async restartPod(namespace: string, name: string, source: AuditSource): Promise<boolean> {
    const { info, ns, current } = await this.target('Pod', namespace, name, 'cluster.pod.restart', source);
    const owners = (current.metadata?.ownerReferences ?? []) as { kind: string; name: string; controller?: boolean }[];
    const controller = owners.find((o) => o.controller);
    if (!controller) throw badInput(`Pod ${ns}/${name} is not managed by a controller: deleting it would not bring it back (delete it instead if that is what you want)`, { namespace: ns, name });
    const kc = requireKubeConfig(this.deps.kubeConfig);
    await this.audited('cluster.pod.restart', info, ns, name, { namespace: ns, name, controller: `${controller.kind}/${controller.name}` }, source, `restarting pod ${name}`, () =>
      kubeRequest(kc, 'DELETE', resourcePath(info, ns, name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } }),
    );
    return true;
  }

  /** A Service's ports and the endpoints of its EndpointSlices; null when the Service does not exist. */
  async serviceEndpoints(namespace: string, name: string): Promise<ServiceEndpointsType | null> {
    const info = kindOf('Service');
    const ns = checkNamespace(info, namespace, true)!;
    const svc = await this.deps.resources.readRaw(info, ns, checkName(name));
    if (!svc) return null;
    const spec = (svc.spec ?? {}) as { type?: string; clusterIP?: string; selector?: Record<string, string>; ports?: { name?: string; protocol?: string; port: number; targetPort?: number | string; nodePort?: number }[] };
    interface Slice {
      ports?: { name?: string; port?: number; protocol?: string }[];
      endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; terminating?: boolean }; nodeName?: string; targetRef?: { kind?: string; name?: string } }[];
    }
    let slices: { items?: Slice[] };
    try {
      slices = await kubeGetJson<{ items?: Slice[] }>(requireKubeConfig(this.deps.kubeConfig), `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/endpointslices`, {
        query: { labelSelector: `kubernetes.io/service-name=${name}` },
      });
    } catch (err) {
      throw fromKube(err, { what: 'listing endpointslices' });
    }
    const endpoints = (slices.items ?? []).flatMap((slice) => {
      const ports = (slice.ports ?? []).map((p) => `${p.name ? `${p.name}:` : ''}${p.port ?? '*'}/${p.protocol ?? 'TCP'}`);
      return (slice.endpoints ?? []).map((e) => ({
        addresses: e.addresses ?? [],
        ready: e.conditions?.ready !== false,
        terminating: e.conditions?.terminating === true,
        podName: e.targetRef?.kind === 'Pod' ? (e.targetRef.name ?? null) : null,
        nodeName: e.nodeName ?? null,
        ports,
      }));
    });
    endpoints.sort((a, b) => (a.podName ?? a.addresses[0] ?? '').localeCompare(b.podName ?? b.addresses[0] ?? ''));
    return {
      namespace: ns,
      name,
      type: spec.type ?? 'ClusterIP',
      clusterIp: spec.clusterIP ?? null,
      selector: spec.selector ?? {},
      ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? null, protocol: p.protocol ?? 'TCP', port: p.port, targetPort: p.targetPort === undefined ? null : String(p.targetPort), nodePort: p.nodePort ?? null })),
      endpoints,
    };
  }

  /** core/v1 events, newest first; optionally only those about one object (kind and name). */
  async events(args: { namespace?: string | null; objectKind?: string | null; objectName?: string | null; limit?: number | null }): Promise<ClusterEventType[]> {
    const info = kindOf('Event');
    const ns = checkNamespace(info, args.namespace, false);
    const limit = args.limit ?? DEFAULT_EVENTS;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS) throw badInput(`limit must be between 1 and ${MAX_EVENTS}`, { limit });
    if (args.objectKind && !/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(args.objectKind)) throw badInput(`"${args.objectKind}" is not a kind`, { objectKind: args.objectKind });
    if (args.objectName) checkName(args.objectName);
    const fields = [args.objectKind && `involvedObject.kind=${args.objectKind}`, args.objectName && `involvedObject.name=${args.objectName}`].filter(Boolean).join(',');
    interface Ev {
      metadata?: { namespace?: string; creationTimestamp?: string };
      type?: string;
      reason?: string;
      message?: string;
      count?: number;
      lastTimestamp?: string;
      eventTime?: string;
      firstTimestamp?: string;
      involvedObject?: { kind?: string; name?: string };
      source?: { component?: string };
      reportingComponent?: string;
      series?: { count?: number; lastObservedTime?: string };
    }
    let list: { items?: Ev[] };
    try {
      list = await kubeGetJson<{ items?: Ev[] }>(requireKubeConfig(this.deps.kubeConfig), resourcePath(info, ns), { query: { fieldSelector: fields || undefined, limit: 5000 } });
    } catch (err) {
      throw fromKube(err, { what: 'listing events' });
    }
    return (list.items ?? [])
      .map((e) => ({
        namespace: e.metadata?.namespace ?? '',
        type: e.type ?? null,
        reason: e.reason ?? null,
        message: e.message ?? null,
        objectKind: e.involvedObject?.kind ?? null,
        objectName: e.involvedObject?.name ?? null,
        count: e.series?.count ?? e.count ?? 1,
        lastSeen: date(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp),
        source: e.source?.component || e.reportingComponent || null,
      }))
      .sort((a, b) => (b.lastSeen?.getTime() ?? 0) - (a.lastSeen?.getTime() ?? 0))
      .slice(0, limit);
  }
}
