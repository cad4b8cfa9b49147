import type { JobRunner } from '../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { AuditService } from '../audit/audit.service';
import { TemplateStatusController } from './template-status.controller';
import { TemplateService } from './template.service';
import { envObjectLabels } from './template-env-objects';

/**
 * Templates: Template objects in the cluster (every call fails with "no cluster" when there is none) and, with a
 * cluster, the leader's controller that keeps each Template's status (valid, error) current.
 */
export function createTemplates(deps: { kube: StreamSpaceApi | null; audit: AuditService; jobs: JobRunner; resyncIntervalMs: number }): TemplateService {
  if (deps.kube) deps.jobs.registerController(new TemplateStatusController({ kube: deps.kube, resyncIntervalMs: deps.resyncIntervalMs }));
  return new TemplateService({ kube: deps.kube, audit: deps.audit, envObjectLabels: deps.kube ? envObjectLabels(deps.kube) : undefined });
}
