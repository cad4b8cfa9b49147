import type { NextFunction, Request, Response } from 'express';
import type { AuthConfig } from '../../config/config';
import { trustedOrigins } from '../../platform/auth/security.middleware';

/** The origin this request was addressed to (the page's own origin for a same-origin call). */
export function ownOrigin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? ''}`;
}

/**
 * CSRF protection for endpoints that act on the refresh cookie: a browser always sends Origin on a
 * POST, so a request from a page on another origin is refused unless that origin is trusted. Requests
 * without Origin (curl, server-to-server) carry no ambient browser cookie and pass. SameSite=Strict on
 * the cookie is the second layer.
 */
export function requireTrustedOrigin(config: AuthConfig) {
  const trusted = trustedOrigins(config);
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (!origin || origin === ownOrigin(req) || trusted.has(origin)) return next();
    res.status(403).json({ error: 'untrusted_origin', message: `Requests from ${origin} are not allowed; add it to STREAMSPACE_TRUSTED_ORIGINS` });
  };
}
