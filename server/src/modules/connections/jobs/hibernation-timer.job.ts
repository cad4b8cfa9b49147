import type { DataSource } from 'typeorm';
import type { ConnectionsConfig } from '../../../config/config';
import { AppError, ErrorCode } from '../../../platform/graphql/errors';
import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../../platform/kube/streamspace-api';
import { entityFromRow } from '../../../platform/database/entity-from-row';
import { SessionEntity } from '../../sessions/session.entity';
import type { SessionService } from '../../sessions/session.service';
import { templateObjects } from '../../templates/template.crd';
import type { TemplateService } from '../../templates/template.service';
import type { ConnectionService } from '../connection.service';
import { decideIdleFor } from '../idle-rules';

export const HIBERNATION_TIMER_JOB = 'hibernation-timer';

/** Running sessions that can be idle, with only the columns and spec/status fields decideIdleFor reads. */
const IDLE_CANDIDATES_SQL = `
  SELECT id, template, state, phase, active_connections, last_connection_at, last_disconnect_at, last_activity_at,
         jsonb_build_object('minConnections', spec->'minConnections', 'idleTimeout', spec->'idleTimeout') AS spec,
         jsonb_build_object('conditions', COALESCE(status->'conditions', '[]'::jsonb)) AS status
  FROM sessions
  WHERE namespace = $1 AND state = 'running' AND phase = 'Running'
    AND active_connections < COALESCE(CASE WHEN jsonb_typeof(spec->'minConnections') = 'number' THEN (spec->>'minConnections')::numeric END, 1)`;

/**
 * Hibernates running sessions that have been idle for their idle timeout (session, else template, else
 * STREAMSPACE_IDLE_TIMEOUT). The deadline is computed on every run from database timestamps (decideIdle:
 * becoming Running, last connect, last disconnect), so a restart or a new leader neither forgets a deadline
 * nor restarts the clock; the interval only bounds how late after its deadline a session hibernates.
 * Before hibernating, the counters are recomputed from the connections table, so a session that just got a
 * connection is never hibernated on a stale count. The state changes through SessionService.changeState
 * (audited as session.hibernate without an actor, reason idle, once per idle episode: the row is written before the
 * patch, and a new leader that finds it does not write another); the session's open connections then end.
 */
export function hibernationTimerJob(deps: {
  dataSource: DataSource;
  connections: ConnectionService;
  sessions: SessionService;
  kube: StreamSpaceApi;
  /** The template watch cache, when the server runs one (else the templates are listed on every run). */
  templates?: Pick<TemplateService, 'cachedObjects'> | null;
  namespace: string;
  config: ConnectionsConfig;
}): JobDefinition {
  return {
    name: HIBERNATION_TIMER_JOB,
    intervalMs: deps.config.hibernationIntervalMs,
    async run({ logger, signal }) {
      const { dataSource, connections, namespace } = deps;
      const defaultMs = deps.config.defaultIdleTimeoutMs;
      // What the idle decision reads, of the running sessions that can be idle (fewer active connections than their
      // minConnections, default 1): at a thousand sessions, whole rows as entities every 30 s blocked the event loop.
      const raw = (await dataSource.query(IDLE_CANDIDATES_SQL, [namespace])) as Record<string, unknown>[];
      if (!raw.length) return;
      const templates = deps.templates ? await deps.templates.cachedObjects() : await templateObjects(deps.kube).list();
      const idleOf = new Map(templates.map((t) => [t.metadata.name, t.spec?.idleTimeout ?? null]));
      for (const candidate of raw) {
        if (signal.aborted) return;
        const first = entityFromRow(dataSource, SessionEntity, candidate);
        // Only a deadline that has passed is checked against fresh counters (a recount writes the row): newer
        // connections can only move a deadline later, so a session whose deadline is ahead is left alone.
        const due = decideIdleFor(first, idleOf.get(first.template) ?? null, defaultMs, new Date()).hibernatesAt;
        if (!due || due > new Date()) continue;
        const row = await connections.counts.recount(first.id);
        if (!row || row.state !== 'running' || row.phase !== 'Running') continue;
        const now = new Date();
        const idle = decideIdleFor(row, idleOf.get(row.template) ?? null, defaultMs, now);
        if (!idle.hibernatesAt || idle.hibernatesAt > now) continue;
        try {
          await deps.sessions.changeState(row, 'hibernated', {
            action: 'session.hibernate',
            actor: null,
            details: { reason: 'idle', idleSince: idle.idleSince, idleTimeout: idle.idleTimeout, idleTimeoutSource: idle.idleTimeoutSource },
            // Exactly one row per idle episode, even when a leader dies between its row and its patch.
            auditOnceSince: idle.idleSince ?? now,
          });
        } catch (err) {
          if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) continue; // deleted meanwhile
          throw err;
        }
        const open = (await dataSource.query('SELECT id FROM connections WHERE session_id = $1 AND disconnected_at IS NULL', [row.id])) as { id: string }[];
        await connections.end(open.map((o) => o.id), 'session-hibernated');
        logger.info({ session: row.name, idleSince: idle.idleSince, idleTimeout: idle.idleTimeout, source: idle.idleTimeoutSource }, 'hibernated an idle session');
      }
    },
  };
}
