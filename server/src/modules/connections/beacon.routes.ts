import express, { Router, type Request } from 'express';
import type { ConnectionService } from './connection.service';

/**
 * POST /api/connections/:id/disconnect, for `navigator.sendBeacon` when a tab closes.
 *
 * sendBeacon cannot set headers, so this route takes no bearer token. It takes the connection's beacon token
 * (returned once by connectSession) in the body instead, as text (`sendBeacon(url, token)`), JSON
 * (`{"token": "..."}`) or a form field (`token=...`). Why not the access token in the body: it expires after
 * 15 minutes (a tab left open longer could not say goodbye), it would grant everything the user may do if it
 * leaked from a body log, and it would make a cookie-less CSRF-style endpoint accept full credentials. The
 * beacon token can end exactly one connection and nothing else; only its SHA-256 is stored.
 * Answers 204 when the connection was ended (or already was), 404 otherwise.
 */
export function beaconRoutes(connections: ConnectionService): Router {
  const router = Router();
  router.post(
    '/api/connections/:id/disconnect',
    express.text({ type: () => true, limit: '4kb' }),
    async (req: Request<{ id: string }>, res, next) => {
      try {
        const token = beaconToken(typeof req.body === 'string' ? req.body : '');
        const ok = await connections.disconnectWithBeacon(req.params.id, token, {
          requestId: (req as Request & { id?: string }).id,
          clientIp: req.ip,
        });
        if (ok) res.status(204).end();
        else res.status(404).json({ error: 'not_found', message: 'No such connection, or the token does not match' });
      } catch (err) {
        next(err);
      }
    },
  );
  return router;
}

export function beaconToken(body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { token?: unknown };
      return typeof parsed.token === 'string' ? parsed.token : '';
    } catch {
      return '';
    }
  }
  if (text.includes('=')) return new URLSearchParams(text).get('token') ?? '';
  return text;
}
