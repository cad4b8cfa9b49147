import { Router } from 'express';

export interface ReadinessCheck {
  name: string;
  /** Resolves with optional details when healthy; throws (with a message) when not. */
  check(): Promise<Record<string, unknown> | void>;
}

/**
 * /healthz: the process is alive (no dependency checks, so a database outage never restarts pods).
 * /readyz: every dependency answers; 503 with the failing check's message otherwise, recovering by
 * itself once the dependency is back.
 */
export function healthRoutes(checks: () => ReadinessCheck[]): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks().map(async (c) => {
        try {
          const details = await c.check();
          return { name: c.name, ok: true, ...(details ?? {}) };
        } catch (err) {
          return { name: c.name, ok: false, error: (err as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  return router;
}
