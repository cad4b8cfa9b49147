import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { UpstreamResolver } from './gateway.proxy';

/**
 * The default upstream: the session's own Service (named after the Session, in the Session's namespace), by its
 * ClusterIP and first port (the app's primary port). Cached briefly: a Service's ClusterIP never changes while
 * it exists.
 */
export function serviceUpstream(kubeConfig: KubeConfig, cacheMs = 30_000): UpstreamResolver {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const cache = new Map<string, { at: number; host: string; port: number }>();
  return async (grant) => {
    const key = `${grant.namespace}/${grant.sessionName}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < cacheMs) return hit;
    const svc = await core.readNamespacedService({ name: grant.sessionName, namespace: grant.namespace });
    const host = svc.spec?.clusterIP;
    const port = svc.spec?.ports?.[0]?.port;
    if (!host || host === 'None' || !port) throw new Error(`Service ${key} has no ClusterIP and port`);
    const entry = { at: Date.now(), host, port };
    if (cache.size > 10_000) cache.clear();
    cache.set(key, entry);
    return entry;
  };
}
