import type { ClusterConnection } from '../../platform/kube/cluster';
import type { AuditService } from '../audit/audit.service';
import { TemplateService } from './template.service';

/** Templates: Template objects in the cluster (every call fails with "no cluster" when there is none). */
export function createTemplates(deps: { cluster: ClusterConnection | null; namespace: string; audit: AuditService }): TemplateService {
  return new TemplateService({ kubeConfig: deps.cluster?.kubeConfig ?? null, namespace: deps.namespace, audit: deps.audit });
}
