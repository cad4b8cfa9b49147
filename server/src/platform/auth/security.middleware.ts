import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { AuthConfig } from '../../config/config';

/** Origins trusted for CORS and cookie endpoints: configured ones plus the public URL's. */
export function trustedOrigins(config: AuthConfig): Set<string> {
  const set = new Set(config.trustedOrigins);
  if (config.publicUrl) set.add(new URL(config.publicUrl).origin);
  return set;
}

/**
 * Security headers for every response. The Content-Security-Policy fits what this server serves:
 * the Vue clients and the GraphiQL IDE load scripts, styles, fonts and Monaco's workers only from this
 * origin (no CDN); inline styles are allowed because Vuetify and Monaco inject them; frames may show
 * session web apps, which can live on other hosts; WebSockets reach GraphQL and VNC proxies.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'font-src': ["'self'", 'data:'],
        'worker-src': ["'self'", 'blob:'],
        'connect-src': ["'self'", 'ws:', 'wss:'],
        'frame-src': ["'self'", 'http:', 'https:'],
        'frame-ancestors': ["'self'"],
        'form-action': ["'self'"],
        // Plain-HTTP installs on a LAN must keep working; TLS is the ingress's business.
        'upgrade-insecure-requests': null,
      },
    },
    // Session web apps in frames come from other origins without CORP headers.
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
  });
}

/**
 * CORS only for configured origins (STREAMSPACE_TRUSTED_ORIGINS and the public URL's origin). Other
 * origins get no Access-Control-Allow-Origin, so browsers refuse to hand them the answers.
 */
export function corsForTrustedOrigins(config: AuthConfig): RequestHandler {
  const trusted = trustedOrigins(config);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && trusted.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
}
