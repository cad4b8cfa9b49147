import type { DataSource } from 'typeorm';
import type { ConnectionsConfig } from '../../../config/config';
import type { JobDefinition } from '../../../platform/jobs/job-runner';
import { isNotFound } from '../../../platform/kube/kube-errors';
import type { ConnectionService } from '../connection.service';

export const HEARTBEAT_REAPER_JOB = 'heartbeat-reaper';
/** How often the reaper looks for Connection objects of ended connections. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Ends connections whose client stopped sending heartbeats (no heartbeat for STREAMSPACE_HEARTBEAT_TIMEOUT),
 * and open connections of sessions that no longer run; repairs session counters that drifted from the
 * connections table (e.g. a replica died between its write and the Session status patch); copies heartbeat
 * times into Session.status.lastActivity and the Connection objects, at most once per half timeout each, so
 * heartbeats never turn into one API write apiece; recreates a missing Connection object of an open connection and,
 * once a minute, deletes the objects of connections that ended (the objects are written in the background, so a
 * replica that dies can leave either behind). Leader only; every step is idempotent.
 */
export function heartbeatReaperJob(deps: { dataSource: DataSource; connections: ConnectionService; namespace: string; config: ConnectionsConfig; kube: boolean }): JobDefinition {
  const written = new Map<string, number>();
  let lastSweep = 0;
  return {
    name: HEARTBEAT_REAPER_JOB,
    intervalMs: deps.config.reaperIntervalMs,
    async run({ logger, signal }) {
      const { dataSource, connections, namespace, config } = deps;
      const stale = (await dataSource.query(
        `SELECT c.id FROM connections c JOIN sessions s ON s.id = c.session_id
         WHERE c.disconnected_at IS NULL AND s.namespace = $2 AND c.last_activity_at < now() - make_interval(secs => $1::double precision)`,
        [config.heartbeatTimeoutMs / 1000, namespace],
      )) as { id: string }[];
      if (stale.length) {
        await connections.end(stale.map((r) => r.id), 'reaper');
        logger.info({ count: stale.length }, 'reaped connections without heartbeats');
      }
      if (signal.aborted) return;
      const orphaned = (await dataSource.query(
        `SELECT c.id FROM connections c JOIN sessions s ON s.id = c.session_id
         WHERE c.disconnected_at IS NULL AND s.namespace = $1 AND s.state <> 'running'`,
        [namespace],
      )) as { id: string }[];
      if (orphaned.length) await connections.end(orphaned.map((r) => r.id), 'session-ended');

      // Counters that disagree with the connections table (one statement finds them).
      const drifted = (await dataSource.query(
        `SELECT s.id FROM sessions s
         LEFT JOIN (SELECT session_id, count(*) FILTER (WHERE disconnected_at IS NULL)::int AS active, count(*)::int AS total
                    FROM connections GROUP BY session_id) c ON c.session_id = s.id
         WHERE s.namespace = $1 AND (s.active_connections <> coalesce(c.active, 0) OR s.total_connections <> coalesce(c.total, 0))`,
        [namespace],
      )) as { id: string }[];
      for (const { id } of drifted) {
        if (signal.aborted) return;
        const row = await connections.counts.recount(id);
        if (row) await connections.counts.changed(row);
      }

      // Heartbeat times -> sessions.last_activity_at (one statement), then into the Session status when it moved enough.
      const half = config.heartbeatTimeoutMs / 2;
      const moved = (await dataSource.query(
        `UPDATE sessions s SET last_activity_at = a.last
         FROM (SELECT session_id, max(last_activity_at) AS last FROM connections WHERE disconnected_at IS NULL GROUP BY session_id) a
         WHERE s.id = a.session_id AND s.namespace = $1 AND (s.last_activity_at IS NULL OR s.last_activity_at < a.last)
         RETURNING s.id, s.last_activity_at, s.status`,
        [namespace],
      )) as [{ id: string; last_activity_at: Date; status: { lastActivity?: string } }[], number];
      if (!deps.kube) return;
      for (const r of moved[0] ?? []) {
        if (signal.aborted) return;
        const before = r.status?.lastActivity ? new Date(r.status.lastActivity).getTime() : 0;
        if (new Date(r.last_activity_at).getTime() - before < half) continue;
        const row = await connections.counts.recount(r.id);
        if (row) await connections.counts.writeToSession(row);
      }
      const open = (await dataSource.query(
        `SELECT c.id, c.last_activity_at FROM connections c JOIN sessions s ON s.id = c.session_id WHERE c.disconnected_at IS NULL AND s.namespace = $1`,
        [namespace],
      )) as { id: string; last_activity_at: Date }[];
      const openIds = new Set(open.map((o) => o.id));
      for (const id of written.keys()) if (!openIds.has(id)) written.delete(id);
      for (const c of open) {
        if (signal.aborted) return;
        const at = new Date(c.last_activity_at).getTime();
        if (at - (written.get(c.id) ?? 0) < half) continue;
        try {
          await connections.objects.writeActivity(c.id, new Date(at));
          written.set(c.id, at);
        } catch (err) {
          if (!isNotFound(err)) logger.warn({ err: (err as Error).message, connection: c.id }, 'could not update a Connection object');
          else {
            // An open connection without its object (its create was lost with a replica): write it again.
            written.set(c.id, at);
            if (await connections.repairObject(c.id)) logger.info({ connection: c.id }, 'recreated a missing Connection object');
          }
        }
      }
      // Objects of connections that are no longer open (a delete that overtook its create on another replica),
      // looked for once a minute: a LIST of every Connection object is not for every run.
      if (signal.aborted || Date.now() - lastSweep < SWEEP_INTERVAL_MS) return;
      lastSweep = Date.now();
      const swept = await connections.sweepObjects();
      if (swept) logger.info({ count: swept }, 'deleted Connection objects of ended connections');
    },
  };
}
