import { createHash } from 'node:crypto';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../../platform/kube/kube-errors';
import { LABEL_SESSION, parseSessionPorts, PORTS_ANNOTATION } from '../sessions/session-manifests';
import type { Grant } from './gateway.service';
import type { UpstreamPort, UpstreamResolver } from './gateway.proxy';

/** A pod of the session, ready and addressable (not terminating). */
function readyAddress(pod: V1Pod): string | null {
  if (pod.metadata?.deletionTimestamp || !pod.status?.podIP) return null;
  const ready = pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return ready ? pod.status.podIP : null;
}

/** One of several ready pods, always the same for a connection (a viewer stays on the pod it started on). */
export function pickFor(connectionId: string, addresses: string[]): string {
  const sorted = [...addresses].sort();
  const n = createHash('sha256').update(connectionId).digest().readUInt32BE(0);
  return sorted[n % sorted.length];
}

/**
 * The default upstream: a ready pod of the session (its Deployment is named after the Session, in the Session's
 * namespace; never a host taken from the request), at the port its Deployment's ports annotation names (the app's
 * primary port, or a hybrid session's VNC port). Pod addresses rather than a Service: the gateway needs no kube-proxy
 * rule (which may lag the pod's readiness), a multi-pod session keeps each connection on one pod, and a session
 * behind the gateway has no Service at all. A Deployment from before the annotation (until the reconciler applied it
 * again) is served through its Service's selector and ports, as before.
 * The ports are cached for `serviceCacheMs`, the ready pods for `podCacheMs` (a woken session has a new pod;
 * `forget` drops both after a connection failure).
 */
export function sessionPodUpstream(kubeConfig: KubeConfig, options: { serviceCacheMs?: number; podCacheMs?: number } = {}): UpstreamResolver {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const serviceCacheMs = options.serviceCacheMs ?? 30_000;
  const podCacheMs = options.podCacheMs ?? 2_000;
  const services = new Map<string, { at: number; selector: string; port: number; vncPort: number | null }>();
  /** Ready pods of a session, and each connection's pick among them (computed once per refresh, not per request). */
  const pods = new Map<string, { at: number; addresses: string[]; picks: Map<string, string> }>();
  const bounded = <V>(m: Map<string, V>) => m.size > 10_000 && m.clear();

  /** The pods' selector and ports: the Deployment's annotation, else (a Deployment older than it) its Service. */
  async function workload(grant: Grant): Promise<{ selector: string; port: number; vncPort: number | null }> {
    const name = grant.sessionName;
    const deployment = await apps.readNamespacedDeployment({ name, namespace: grant.namespace }).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    const ports = parseSessionPorts(deployment?.metadata?.annotations?.[PORTS_ANNOTATION]);
    if (deployment && ports) return { selector: `${LABEL_SESSION}=${name}`, port: ports.app, vncPort: ports.vnc ?? null };
    const svc = await core.readNamespacedService({ name, namespace: grant.namespace });
    const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const port = svc.spec?.ports?.[0]?.port;
    if (!selector || !port) throw new Error(`Service ${grant.namespace}/${name} has no selector and port`);
    return { selector, port, vncPort: svc.spec?.ports?.find((p) => p.name === 'vnc')?.port ?? null };
  }

  async function service(key: string, grant: Grant) {
    const hit = services.get(key);
    if (hit && Date.now() - hit.at < serviceCacheMs) return hit;
    const entry = { at: Date.now(), ...(await workload(grant)) };
    bounded(services);
    services.set(key, entry);
    return entry;
  }

  const resolve = async (grant: Grant, which: UpstreamPort = 'app') => {
    const key = `${grant.namespace}/${grant.sessionName}`;
    const svc = await service(key, grant);
    if (which === 'vnc' && svc.vncPort === null) throw new Error(`session ${key} has no vnc port`);
    let ready = pods.get(key);
    if (!ready || Date.now() - ready.at >= podCacheMs || ready.addresses.length === 0) {
      const list = await core.listNamespacedPod({ namespace: grant.namespace, labelSelector: svc.selector });
      ready = { at: Date.now(), addresses: list.items.map(readyAddress).filter((a): a is string => a !== null), picks: new Map() };
      bounded(pods);
      pods.set(key, ready);
    }
    if (!ready.addresses.length) throw new Error(`session ${key} has no ready pod`);
    let host = ready.picks.get(grant.connectionId);
    if (host === undefined) {
      host = pickFor(grant.connectionId, ready.addresses);
      ready.picks.set(grant.connectionId, host);
    }
    return { host, port: which === 'vnc' ? svc.vncPort! : svc.port };
  };
  return Object.assign(resolve, {
    forget(grant: Grant) {
      const key = `${grant.namespace}/${grant.sessionName}`;
      services.delete(key);
      pods.delete(key);
    },
  });
}
