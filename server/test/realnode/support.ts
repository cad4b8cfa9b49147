import { CoreV1Api } from '@kubernetes/client-node';
import { REAL_NODE_LABEL } from '../../src/platform/kube/local-cluster';
import { startTestApp, type TestApp } from '../support/app';
import { createTestNamespace, requireRealNode } from '../support/kube';
import { createTestDatabase } from '../support/postgres';

/**
 * A test app whose sessions land on the local cluster's real node (fails with the node's reason when it cannot run),
 * in a namespace and database of its own; `env` adds or overrides settings.
 */
export async function startRealNodeApp(name: string, env: Record<string, string> = {}) {
  const real = await requireRealNode();
  const ns = await createTestNamespace(name);
  const app: TestApp = await startTestApp({
    DATABASE_URL: await createTestDatabase(name),
    STREAMSPACE_CLUSTER: 'kubeconfig',
    KUBECONFIG: real.cluster.kubeconfigPath,
    STREAMSPACE_NAMESPACE: ns,
    STREAMSPACE_LEADER_LEASE_DURATION: '3s',
    STREAMSPACE_RECONCILE_RESYNC: '30s',
    STREAMSPACE_SESSION_NODE_SELECTOR: `${REAL_NODE_LABEL}=true`,
    STREAMSPACE_QUOTA_MAX_SESSIONS: '20',
    STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: '10',
    ...env,
  });
  return { real, ns, app, core: real.cluster.kubeConfig.makeApiClient(CoreV1Api) };
}
