import type { JobRunner } from '../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { TemplateCache } from './template-cache';
import { TemplateStatusController } from './template-status.controller';
import { TemplateService } from './template.service';
import { envObjectLabels } from './template-env-objects';

/**
 * Templates: Template objects in the cluster (every call fails with "no cluster" when there is none) and, with a
 * cluster, the leader's controller that keeps each Template's status (valid, error) current, and a watch cache
 * the reads are served from.
 */
export function createTemplates(deps: {
  kube: StreamSpaceApi | null;
  audit: AuditService;
  jobs: JobRunner;
  resyncIntervalMs: number;
  logger?: Logger;
  cleanup?: CleanupStack;
}): TemplateService {
  if (!deps.kube) return new TemplateService({ kube: null, audit: deps.audit });
  deps.jobs.registerController(new TemplateStatusController({ kube: deps.kube, resyncIntervalMs: deps.resyncIntervalMs }));
  // Every replica reads templates from its own watch cache (started on first use).
  const cache = new TemplateCache({ kube: deps.kube, logger: deps.logger });
  deps.cleanup?.push('template cache', () => cache.stop());
  return new TemplateService({ kube: deps.kube, audit: deps.audit, cache, envObjectLabels: envObjectLabels(deps.kube) });
}
