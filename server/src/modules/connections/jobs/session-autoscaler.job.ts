import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { ConnectionsConfig } from '../../../config/config';
import type { JobDefinition } from '../../../platform/jobs/job-runner';
import { REPLICAS_ANNOTATION, SCALED_AT_ANNOTATION } from '../../sessions/session-manifests';
import type { SessionMirror } from '../../sessions/session-mirror';
import { SessionEntity } from '../../sessions/session.entity';
import { STREAMSPACE_GROUP, STREAMSPACE_VERSION, type TemplateSpec } from '../../templates/template.types';
import { decideScale } from '../connection-rules';

export const SESSION_AUTOSCALER_JOB = 'session-autoscaler';

/**
 * Connection-based scaling of running sessions of multi-user templates with autoScaling.enabled:
 * replicas = clamp(ceil(active / targetConnections), minReplicas, maxReplicas), written as an annotation on the
 * Session (the reconciler sizes the Deployment from it). Up at once; down only after
 * STREAMSPACE_AUTOSCALE_COOLDOWN since the last change (its time is an annotation too, so restarts keep it).
 */
export function sessionAutoscalerJob(deps: { dataSource: DataSource; kubeConfig: KubeConfig; mirror: SessionMirror; namespace: string; config: ConnectionsConfig }): JobDefinition {
  const params = (plural: string) => ({ group: STREAMSPACE_GROUP, version: STREAMSPACE_VERSION, namespace: deps.namespace, plural });
  return {
    name: SESSION_AUTOSCALER_JOB,
    intervalMs: deps.config.autoscalerIntervalMs,
    async run({ logger, signal }) {
      const api = deps.kubeConfig.makeApiClient(CustomObjectsApi);
      const templates = (await api.listNamespacedCustomObject(params('templates'))) as { items: { metadata: { name: string }; spec?: Partial<TemplateSpec> }[] };
      const scaled = new Map(
        templates.items.filter((t) => t.spec?.multiUser && t.spec.autoScaling?.enabled).map((t) => [t.metadata.name, t.spec!.autoScaling!]),
      );
      if (!scaled.size) return;
      const rows = await deps.dataSource.getRepository(SessionEntity).findBy({ namespace: deps.namespace, state: 'running' });
      for (const row of rows) {
        if (signal.aborted) return;
        const as = scaled.get(row.template);
        if (!as) continue;
        const annotations = deps.mirror.get(row.name)?.metadata?.annotations ?? {};
        const current = Number(annotations[REPLICAS_ANNOTATION] ?? 1) || 1;
        const lastScaledAt = annotations[SCALED_AT_ANNOTATION] ? new Date(annotations[SCALED_AT_ANNOTATION]) : null;
        const d = decideScale({ ...as, activeConnections: row.activeConnections, currentReplicas: current, lastScaledAt, cooldownMs: deps.config.autoscaleCooldownMs, now: new Date() });
        if (!d.change) continue;
        await api.patchNamespacedCustomObject(
          { ...params('sessions'), name: row.name, body: { metadata: { annotations: { [REPLICAS_ANNOTATION]: String(d.replicas), [SCALED_AT_ANNOTATION]: new Date().toISOString() } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        logger.info({ session: row.name, from: current, to: d.replicas, activeConnections: row.activeConnections }, d.reason);
      }
    },
  };
}
