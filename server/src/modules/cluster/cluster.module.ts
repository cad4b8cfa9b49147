import type { ClusterConnection } from '../../platform/kube/cluster';
import type { AuditService } from '../audit/audit.service';
import { ClusterService } from './cluster.service';

/** The admin cluster browser: any allow-listed kind, YAML apply/delete, logs, exec, watches. */
export function createClusterAdmin(deps: { cluster: ClusterConnection | null; audit: AuditService }): ClusterService {
  return new ClusterService({ kubeConfig: deps.cluster?.kubeConfig ?? null, audit: deps.audit });
}
