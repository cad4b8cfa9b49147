import { In, type DataSource } from 'typeorm';
import type { ConnectionsConfig } from '../../../config/config';
import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../../platform/kube/streamspace-api';
import { REPLICAS_ANNOTATION, SCALED_AT_ANNOTATION } from '../../sessions/session-manifests';
import type { SessionTable } from '../../sessions/session-table';
import { sessionObjects } from '../../sessions/session.crd';
import { SessionEntity } from '../../sessions/session.entity';
import { templateObjects } from '../../templates/template.crd';
import type { TemplateService } from '../../templates/template.service';
import { decideScale } from '../scaling-rules';

export const SESSION_AUTOSCALER_JOB = 'session-autoscaler';

/**
 * Connection-based scaling of running sessions of multi-user templates with autoScaling.enabled:
 * replicas = clamp(ceil(active / targetConnections), minReplicas, maxReplicas), written as an annotation on the
 * Session (the reconciler sizes the Deployment from it). Up at once; down only after
 * STREAMSPACE_AUTOSCALE_COOLDOWN since the last change (its time is an annotation too, so restarts keep it).
 */
export function sessionAutoscalerJob(deps: {
  dataSource: DataSource;
  kube: StreamSpaceApi;
  sessionTable: SessionTable;
  /** The template watch cache, when the server runs one (else the templates are listed on every run). */
  templates?: Pick<TemplateService, 'cachedObjects'> | null;
  namespace: string;
  config: ConnectionsConfig;
}): JobDefinition {
  return {
    name: SESSION_AUTOSCALER_JOB,
    intervalMs: deps.config.autoscalerIntervalMs,
    async run({ logger, signal }) {
      const templates = deps.templates ? await deps.templates.cachedObjects() : await templateObjects(deps.kube).list();
      const scaled = new Map(templates.filter((t) => t.spec?.multiUser && t.spec.autoScaling?.enabled).map((t) => [t.metadata.name, t.spec.autoScaling!]));
      if (!scaled.size) return;
      // Only the running sessions of those templates, only the columns used.
      const rows = await deps.dataSource
        .getRepository(SessionEntity)
        .find({ where: { namespace: deps.namespace, state: 'running', template: In([...scaled.keys()]) }, select: { id: true, name: true, template: true, activeConnections: true } });
      for (const row of rows) {
        if (signal.aborted) return;
        const as = scaled.get(row.template);
        if (!as) continue;
        const annotations = deps.sessionTable.get(row.name)?.metadata?.annotations ?? {};
        const current = Number(annotations[REPLICAS_ANNOTATION] ?? 1) || 1;
        const lastScaledAt = annotations[SCALED_AT_ANNOTATION] ? new Date(annotations[SCALED_AT_ANNOTATION]) : null;
        const d = decideScale({ ...as, activeConnections: row.activeConnections, currentReplicas: current, lastScaledAt, cooldownMs: deps.config.autoscaleCooldownMs, now: new Date() });
        if (!d.change) continue;
        await sessionObjects(deps.kube).patch(row.name, { metadata: { annotations: { [REPLICAS_ANNOTATION]: String(d.replicas), [SCALED_AT_ANNOTATION]: new Date().toISOString() } } });
        logger.info({ session: row.name, from: current, to: d.replicas, activeConnections: row.activeConnections }, d.reason);
      }
    },
  };
}
