import { Router, type Request } from 'express';

export interface ReadinessCheck {
  name: string;
  /** Resolves with optional details when healthy; throws (with a message) when not. */
  check(): Promise<Record<string, unknown> | void>;
}

/**
 * /healthz: the process is alive (no dependency checks, so a database outage never restarts pods).
 * /readyz: every dependency answers; 503 otherwise, recovering by itself once the dependency is back. Anyone
 * (a kubelet probe, a load balancer) gets the status only; the checks, with their targets and error messages,
 * go only to callers `showDetails` accepts (an admin's bearer token), since hosts and raw errors help an attacker.
 */
export function healthRoutes(checks: () => ReadinessCheck[], showDetails: (req: Request) => Promise<boolean>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
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
    res.setHeader('Cache-Control', 'no-store');
    const status = ready ? 'ready' : 'not ready';
    res.status(ready ? 200 : 503).json((await showDetails(req).catch(() => false)) ? { status, checks: results } : { status });
  });
  return router;
}
