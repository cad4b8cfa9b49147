import { readFileSync } from 'node:fs';
import type { ClusterConnection } from '../../platform/kube/cluster';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { PlatformGuard } from './cluster-guard';
import { ClusterService } from './cluster.service';

/** The namespace this process runs in, when it runs in a cluster (its ServiceAccount's mounted namespace file). */
function podNamespace(): string | null {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * The admin cluster browser: any allow-listed kind, YAML apply/delete, logs, exec, watches; never the platform's own
 * pods, workloads or Secrets (cluster-guard.ts).
 */
export function createClusterAdmin(deps: {
  cluster: ClusterConnection | null;
  audit: AuditService;
  platformNamespace: string | undefined;
  sessionNamespace: string;
  logger?: Logger;
  cleanup?: CleanupStack;
}): ClusterService {
  const guard = new PlatformGuard({ platformNamespace: deps.platformNamespace ?? podNamespace(), sessionNamespace: deps.sessionNamespace });
  const service = new ClusterService({ kubeConfig: deps.cluster?.kubeConfig ?? null, audit: deps.audit, guard, logger: deps.logger });
  deps.cleanup?.push('cluster watch caches', () => service.stop());
  return service;
}
