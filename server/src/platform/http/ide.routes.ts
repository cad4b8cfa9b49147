import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';

/** Where `npm run -w server build:ide` puts the bundled GraphiQL (server/dist-ide). */
export function ideDir(): string {
  // src/platform/http (source) or dist/server/src/platform/http (compiled): the nearest folder holding the
  // server workspace's package.json is server/ in both cases (dist/server/ has none).
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist-ide');
}

/**
 * The GraphQL IDE: GraphiQL bundled from npm and served from this server, so it works on an air-gapped cluster (no
 * CDN). Two parts: the page, the first handler of the GraphQL endpoint's mount (`GET /graphql` from a browser,
 * Accept: text/html; every other request goes on to GraphQL), and its assets under /graphql-ide.
 */
export function ide(enabled = true): { page: RequestHandler; assets: Router } {
  const dir = ideDir();
  const index = path.join(dir, 'index.html');
  const assets = Router();
  if (enabled) assets.use('/graphql-ide', express.static(dir, { index: false, immutable: true, maxAge: '1y' }));
  const page: RequestHandler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== '/') return next();
    if (!req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) || req.accepts(['application/json', 'text/html']) !== 'text/html') return next();
    if (typeof req.query.query === 'string') return next(); // a GET query, not a page load
    if (!enabled) {
      // Say so plainly instead of letting the browser see GraphQL's "missing query" error.
      res.status(404).type('text/plain').send('The GraphQL IDE is switched off on this server (STREAMSPACE_GRAPHQL_IDE=false).');
      return;
    }
    if (!fs.existsSync(index)) {
      res.status(503).type('text/plain').send('The GraphQL IDE is not built. Run `npm run build` (or `npm run -w server build:ide`).');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  return { page, assets };
}
