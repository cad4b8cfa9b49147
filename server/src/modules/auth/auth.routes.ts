import express, { Router, type CookieOptions, type Request, type Response } from 'express';
import type { AuthConfig } from '../../config/config';
import type { AuditSource } from '../audit/audit.service';
import { AuthFailure, type AuthService, type SignInResult } from './auth.service';
import { requireTrustedOrigin } from './origin-check';
import type { ClientMeta } from './refresh-token.service';

export const REFRESH_COOKIE = 'streamspace_refresh';
/** The cookie goes only to /auth, never to /graphql or the static files. */
export const REFRESH_COOKIE_PATH = '/auth';

export function requestSource(req: Request): AuditSource & ClientMeta {
  return { caller: null, requestId: (req as Request & { id?: string }).id, clientIp: req.ip, userAgent: req.get('user-agent') };
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function refreshCookieOptions(config: AuthConfig, req: Request, expires?: Date): CookieOptions {
  const secure = config.cookieSecure === 'auto' ? req.secure : config.cookieSecure === 'true';
  return { httpOnly: true, sameSite: 'strict', secure, path: REFRESH_COOKIE_PATH, ...(expires ? { expires } : {}) };
}

/** Sets the refresh cookie and returns the JSON body every sign-in and refresh answers with. */
export function completeSignIn(config: AuthConfig, req: Request, res: Response, result: SignInResult) {
  res.cookie(REFRESH_COOKIE, result.refreshToken, refreshCookieOptions(config, req, result.refreshExpiresAt));
  res.setHeader('Cache-Control', 'no-store');
  return { accessToken: result.accessToken, tokenType: 'Bearer', expiresAt: result.expiresAt.toISOString(), user: result.user };
}

export function sendAuthError(res: Response, err: unknown): boolean {
  if (!(err instanceof AuthFailure)) return false;
  if (err.retryAfterSeconds) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json({ error: err.error, message: err.message });
  return true;
}

/**
 * POST /auth/login  {username, password} -> {accessToken, expiresAt, ...} + refresh cookie
 * POST /auth/refresh (cookie) -> a new access token, the cookie rotated
 * POST /auth/logout  (cookie) -> 204, the sign-in revoked
 * GET  /auth/providers -> which sign-in methods this server offers (for the login page)
 */
export function authRoutes(auth: AuthService, config: AuthConfig): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });
  const originCheck = requireTrustedOrigin(config);
  const handle = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response, next: (err?: unknown) => void) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (!sendAuthError(res, err)) next(err);
    }
  };

  router.get('/auth/providers', (_req, res) => {
    res.json({ local: true, oidc: Boolean(config.oidc), oidcLoginUrl: config.oidc ? '/auth/oidc' : null });
  });

  router.post(
    '/auth/login',
    originCheck,
    json,
    handle(async (req, res) => {
      const body = (req.body ?? {}) as { username?: unknown; password?: unknown };
      const result = await auth.login(body.username, body.password, requestSource(req));
      res.json(completeSignIn(config, req, res, result));
    }),
  );

  router.post(
    '/auth/refresh',
    originCheck,
    handle(async (req, res) => {
      try {
        const result = await auth.refresh(readCookie(req, REFRESH_COOKIE), requestSource(req));
        res.json(completeSignIn(config, req, res, result));
      } catch (err) {
        if (err instanceof AuthFailure) res.clearCookie(REFRESH_COOKIE, refreshCookieOptions(config, req));
        throw err;
      }
    }),
  );

  router.post(
    '/auth/logout',
    originCheck,
    handle(async (req, res) => {
      await auth.logout(readCookie(req, REFRESH_COOKIE), requestSource(req));
      res.clearCookie(REFRESH_COOKIE, refreshCookieOptions(config, req));
      res.status(204).end();
    }),
  );
  return router;
}
