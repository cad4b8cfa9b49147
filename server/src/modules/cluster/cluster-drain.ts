import type { KubeConfig } from '@kubernetes/client-node';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { kubeGetJson, kubeRequest } from '../../platform/kube/kube-http';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { checkName, requireKubeConfig } from './cluster-checks';
import type { KubeObject } from './cluster-manifest';
import { channel } from './cluster-stream';
import { fromKube, kubeFailure } from './cluster.errors';
import { DrainPhaseEnum, DrainPodStateEnum, type DrainPodType, type DrainProgressType } from './dto/cluster-operations.type';

export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 120;
export const MAX_DRAIN_TIMEOUT_SECONDS = 3600;
/** Pause between rounds of evictions a PodDisruptionBudget blocked (kubectl drain waits 5 s). */
const RETRY_PAUSE_MS = 2_000;
/** Pause between checks that evicted pods are gone. */
const GONE_POLL_MS = 1_000;

interface PodMeta {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

/** Why a drain leaves a pod alone (kubectl drain's rules), or null when it is evicted. */
export function skipReason(pod: PodMeta, force: boolean): string | null {
  const meta = pod.metadata ?? {};
  if (meta.annotations?.['kubernetes.io/config.mirror'] !== undefined) return 'a mirror pod of a static pod: the kubelet owns it';
  const controller = meta.ownerReferences?.find((o) => o.controller);
  if (controller?.kind === 'DaemonSet') return `managed by DaemonSet ${controller.name}: it would come back on the same node`;
  if (!controller && !force) return 'not managed by a controller: nothing would re-create it (drain with force to evict it anyway)';
  return null;
}

/**
 * Node maintenance: cordon/uncordon (spec.unschedulable) and drain through the Eviction API, which respects
 * PodDisruptionBudgets: a pod a budget protects is reported BLOCKED and retried until the timeout, never deleted
 * around the budget. Audited: `cluster.node.cordon`, `cluster.node.uncordon`, `cluster.node.drain`.
 */
export class ClusterNodeMaintenance {
  constructor(private readonly deps: { kubeConfig: KubeConfig | null; audit: AuditService }) {}

  private async readNode(kc: KubeConfig, name: string): Promise<KubeObject> {
    try {
      return await kubeGetJson<KubeObject>(kc, nodePath(name));
    } catch (err) {
      const mapped = fromKube(err, { what: `reading node ${name}` });
      if (mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND) throw new AppError(ErrorCode.NOT_FOUND, `node "${name}" does not exist`, { node: name });
      throw mapped;
    }
  }

  /** Sets spec.unschedulable; audited success or failure. Returns the node as patched. */
  async setUnschedulable(name: string, unschedulable: boolean, source: AuditSource): Promise<KubeObject> {
    const kc = requireKubeConfig(this.deps.kubeConfig);
    checkName(name);
    const action = unschedulable ? 'cluster.node.cordon' : 'cluster.node.uncordon';
    await this.readNode(kc, name);
    try {
      const node = await kubeRequest<KubeObject>(kc, 'PATCH', nodePath(name), {
        body: { spec: { unschedulable: unschedulable || null } },
        contentType: 'application/merge-patch+json',
      });
      await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId: `Node/${name}`, changes: { node: name, unschedulable }, source });
      return node;
    } catch (err) {
      const mapped = fromKube(err, { what: `${unschedulable ? 'cordoning' : 'uncordoning'} node ${name}` });
      await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId: `Node/${name}`, outcome: 'failure', changes: { node: name, unschedulable, error: mapped.message }, source });
      throw mapped;
    }
  }

  /**
   * Drains a node like `kubectl drain --ignore-daemonsets`: cordons it, evicts every pod through the Eviction API
   * (retrying those a PodDisruptionBudget blocks until `timeoutSeconds`), then waits for the evicted pods to be
   * gone. Streams a snapshot after every change; the last one is DRAINED or INCOMPLETE. Closing the subscription
   * stops the drain (the node stays cordoned; evictions already accepted go on).
   */
  async drain(name: string, options: { force?: boolean | null; timeoutSeconds?: number | null; gracePeriodSeconds?: number | null }, source: AuditSource): Promise<AsyncGenerator<DrainProgressType>> {
    const kc = requireKubeConfig(this.deps.kubeConfig);
    checkName(name);
    const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_DRAIN_TIMEOUT_SECONDS) {
      throw badInput(`timeoutSeconds must be between 1 and ${MAX_DRAIN_TIMEOUT_SECONDS}`, { timeoutSeconds });
    }
    const grace = options.gracePeriodSeconds;
    if (grace !== null && grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > 86_400)) {
      throw badInput('gracePeriodSeconds must be between 0 and 86400', { gracePeriodSeconds: grace });
    }
    const force = Boolean(options.force);
    await this.setUnschedulable(name, true, source);
    let list: { items?: PodMeta[] };
    try {
      list = await kubeGetJson<{ items?: PodMeta[] }>(kc, '/api/v1/pods', { query: { fieldSelector: `spec.nodeName=${name}` } });
    } catch (err) {
      throw fromKube(err, { what: `listing the pods of node ${name}` });
    }
    const pods = (list.items ?? [])
      .map((p) => ({ pod: p, row: { namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', state: DrainPodStateEnum.PENDING, message: null } as DrainPodType }))
      .sort((a, b) => a.row.namespace.localeCompare(b.row.namespace) || a.row.name.localeCompare(b.row.name));
    for (const p of pods) {
      const skip = skipReason(p.pod, force);
      if (skip) Object.assign(p.row, { state: DrainPodStateEnum.SKIPPED, message: skip });
    }

    let stopped = false;
    let finished = false;
    let wake: (() => void) | undefined;
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const audit = (outcome: 'success' | 'failure', summary: Record<string, unknown>) =>
      this.deps.audit.record({
        action: 'cluster.node.drain',
        resourceType: 'cluster-resource',
        resourceId: `Node/${name}`,
        outcome,
        changes: { node: name, force, timeoutSeconds, gracePeriodSeconds: grace ?? null, ...summary },
        source,
      });
    const ch = channel<DrainProgressType>(async () => {
      stopped = true;
      wake?.();
      if (!finished) {
        finished = true;
        await audit('failure', { stopped: 'the subscription was closed before the drain ended', ...counts() });
      }
    });
    const counts = () => ({
      evicted: pods.filter((p) => p.row.state === DrainPodStateEnum.EVICTED || p.row.state === DrainPodStateEnum.GONE).length,
      blocked: pods.filter((p) => p.row.state === DrainPodStateEnum.BLOCKED).length,
      skipped: pods.filter((p) => p.row.state === DrainPodStateEnum.SKIPPED).length,
      failed: pods.filter((p) => p.row.state === DrainPodStateEnum.FAILED).length,
    });
    const snapshot = (phase: DrainPhaseEnum, message: string | null = null): DrainProgressType => {
      const c = counts();
      return { node: name, phase, pods: pods.map((p) => ({ ...p.row })), evicted: c.evicted, blocked: c.blocked, message };
    };

    const evict = async (p: (typeof pods)[number]): Promise<void> => {
      const { namespace, name: pod } = p.row;
      try {
        await kubeRequest(kc, 'POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/eviction`, {
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace }, ...(grace !== null && grace !== undefined ? { deleteOptions: { gracePeriodSeconds: grace } } : {}) },
        });
        Object.assign(p.row, { state: DrainPodStateEnum.EVICTED, message: null });
      } catch (err) {
        const failure = kubeFailure(err);
        if (failure?.status === 404) Object.assign(p.row, { state: DrainPodStateEnum.GONE, message: null });
        // 429: the eviction would violate a PodDisruptionBudget (or the budget is not computed yet); retried.
        else if (failure?.status === 429) Object.assign(p.row, { state: DrainPodStateEnum.BLOCKED, message: failure.message });
        else Object.assign(p.row, { state: DrainPodStateEnum.FAILED, message: failure?.message ?? (err as Error).message });
      }
    };

    const run = async (): Promise<void> => {
      const deadline = Date.now() + timeoutSeconds * 1000;
      ch.push(snapshot(DrainPhaseEnum.CORDONED));
      // Evict in rounds: the first tries every pod; later ones retry the pods a budget blocked.
      for (let round = 0; !stopped; round++) {
        const todo = pods.filter((p) => p.row.state === DrainPodStateEnum.PENDING || p.row.state === DrainPodStateEnum.BLOCKED);
        if (!todo.length) break;
        if (round > 0) {
          if (Date.now() + RETRY_PAUSE_MS > deadline) break;
          await pause(RETRY_PAUSE_MS);
          if (stopped) return;
        }
        for (const p of todo) {
          if (stopped) return;
          await evict(p);
        }
        ch.push(snapshot(DrainPhaseEnum.EVICTING));
      }
      // Wait until the evicted pods are gone (their uid no longer on the node).
      const waiting = () => pods.filter((p) => p.row.state === DrainPodStateEnum.EVICTED);
      if (waiting().length) ch.push(snapshot(DrainPhaseEnum.WAITING));
      while (!stopped && waiting().length && Date.now() < deadline) {
        await pause(GONE_POLL_MS);
        if (stopped) return;
        const now = await kubeGetJson<{ items?: PodMeta[] }>(kc, '/api/v1/pods', { query: { fieldSelector: `spec.nodeName=${name}` } });
        const present = new Set((now.items ?? []).map((p) => p.metadata?.uid));
        let changed = false;
        for (const p of waiting()) {
          if (!present.has(p.pod.metadata?.uid)) {
            p.row.state = DrainPodStateEnum.GONE;
            changed = true;
          }
        }
        if (changed) ch.push(snapshot(DrainPhaseEnum.WAITING));
      }
      if (stopped) return;
      for (const p of waiting()) p.row.message = `still terminating after ${timeoutSeconds} s`;
      const c = counts();
      const unmanaged = pods.filter((p) => p.row.state === DrainPodStateEnum.SKIPPED && /not managed by a controller/.test(p.row.message ?? '')).length;
      const left = c.blocked + c.failed + unmanaged + waiting().length;
      const message = left
        ? `${left} pod(s) are still on the node: ${[c.blocked && `${c.blocked} blocked by a PodDisruptionBudget`, c.failed && `${c.failed} failed`, unmanaged && `${unmanaged} not managed by a controller`, waiting().length && `${waiting().length} still terminating`].filter(Boolean).join(', ')}. The node stays cordoned.`
        : `${c.evicted} pod(s) evicted; the node is cordoned and drained.`;
      finished = true;
      await audit(left ? 'failure' : 'success', { ...c, unmanaged });
      ch.push(snapshot(left ? DrainPhaseEnum.INCOMPLETE : DrainPhaseEnum.DRAINED, message));
      ch.end();
    };
    run().catch(async (err: unknown) => {
      if (!finished) {
        finished = true;
        const mapped = fromKube(err, { what: `draining node ${name}` });
        await audit('failure', { error: mapped.message, ...counts() }).catch(() => undefined);
        ch.fail(mapped);
      }
    });
    return ch.iterator;
  }
}
