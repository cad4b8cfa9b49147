import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { ConnectionsConfig } from '../../../config/config';
import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { AuditService } from '../../audit/audit.service';
import { SessionEntity } from '../../sessions/session.entity';
import { STREAMSPACE_GROUP, STREAMSPACE_VERSION } from '../../templates/template.types';
import type { ConnectionService } from '../connection.service';

export const HIBERNATION_TIMER_JOB = 'hibernation-timer';

/**
 * Hibernates running sessions that have been idle for their idle timeout (session, else template, else
 * STREAMSPACE_IDLE_TIMEOUT). The deadline is computed on every run from database timestamps (decideIdle:
 * becoming Running, last connect, last disconnect), so a restart or a new leader neither forgets a deadline
 * nor restarts the clock; the interval only bounds how late after its deadline a session hibernates.
 * Before hibernating, the counters are recomputed from the connections table, so a session that just got a
 * connection is never hibernated on a stale count.
 */
export function hibernationTimerJob(deps: {
  dataSource: DataSource;
  connections: ConnectionService;
  kubeConfig: KubeConfig;
  namespace: string;
  config: ConnectionsConfig;
  audit: AuditService;
}): JobDefinition {
  const params = (plural: string) => ({ group: STREAMSPACE_GROUP, version: STREAMSPACE_VERSION, namespace: deps.namespace, plural });
  return {
    name: HIBERNATION_TIMER_JOB,
    intervalMs: deps.config.hibernationIntervalMs,
    async run({ logger, signal }) {
      const { dataSource, connections, namespace } = deps;
      const api = deps.kubeConfig.makeApiClient(CustomObjectsApi);
      const rows = await dataSource.getRepository(SessionEntity).findBy({ namespace, state: 'running', phase: 'Running' });
      if (!rows.length) return;
      const templates = (await api.listNamespacedCustomObject(params('templates'))) as { items: { metadata: { name: string }; spec?: { idleTimeout?: string } }[] };
      const idleOf = new Map(templates.items.map((t) => [t.metadata.name, t.spec?.idleTimeout ?? null]));
      for (const first of rows) {
        if (signal.aborted) return;
        if (!connections.decideIdleFor(first, idleOf.get(first.template) ?? null, new Date()).hibernatesAt) continue;
        const row = await connections.recount(first.id);
        if (!row || row.state !== 'running' || row.phase !== 'Running') continue;
        const now = new Date();
        const idle = connections.decideIdleFor(row, idleOf.get(row.template) ?? null, now);
        if (!idle.hibernatesAt || idle.hibernatesAt > now) continue;
        try {
          await api.patchNamespacedCustomObject(
            { ...params('sessions'), name: row.name, body: { spec: { state: 'hibernated' } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
        } catch (err) {
          if ((err as { code?: number }).code === 404) continue;
          throw err;
        }
        const open = (await dataSource.query('SELECT id FROM connections WHERE session_id = $1 AND disconnected_at IS NULL', [row.id])) as { id: string }[];
        await connections.end(open.map((o) => o.id), 'session-hibernated');
        await deps.audit.record({
          action: 'session.hibernate',
          resourceType: 'session',
          resourceId: row.id,
          actor: null,
          changes: { state: { from: 'running', to: 'hibernated' }, reason: 'idle', idleSince: idle.idleSince, idleTimeout: idle.idleTimeout, idleTimeoutSource: idle.idleTimeoutSource },
        });
        logger.info({ session: row.name, idleSince: idle.idleSince, idleTimeout: idle.idleTimeout, source: idle.idleTimeoutSource }, 'hibernated an idle session');
      }
    },
  };
}
