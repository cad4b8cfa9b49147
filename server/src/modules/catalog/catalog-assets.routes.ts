import { Router, type Request } from 'express';
import type { Caller } from '../../platform/graphql/context';
import type { CatalogService } from './catalog.service';

/**
 * GET /api/catalog/templates/:id/icon and /readme: the icon and README synced with a catalog template.
 * Anonymous requests (an <img> tag sends no bearer token) get assets of public repositories; a bearer
 * token also opens the repositories that list the caller. SVG icons are sandboxed by a strict CSP.
 */
export function catalogAssetRoutes(catalog: CatalogService, callerOf: (req: Request) => Promise<Caller | null>): Router {
  const router = Router();
  router.get('/api/catalog/templates/:id/:kind', async (req, res, next) => {
    try {
      const kind = req.params.kind;
      if (kind !== 'icon' && kind !== 'readme') return next();
      let caller: Caller | null;
      try {
        caller = await callerOf(req);
      } catch {
        res.status(401).json({ error: 'unauthenticated', message: 'The bearer token is not valid' });
        return;
      }
      const asset = await catalog.asset(caller, String(req.params.id), kind);
      if (!asset) {
        res.status(404).json({ error: 'not_found', message: `No ${kind} for this catalog template` });
        return;
      }
      const etag = `"${asset.oid}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', caller ? 'private, max-age=300' : 'public, max-age=300');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      if (req.headers['if-none-match'] === etag) {
        res.status(304).end();
        return;
      }
      res.type(asset.contentType).send(asset.data);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
