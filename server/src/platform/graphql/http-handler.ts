import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Request, Response } from 'express';

/**
 * Apollo Server's Express handler: what `expressMiddleware` of @as-integrations/express5 does, but a complete answer
 * is written as it is. Express's `res.send` copies every string body of 1 KB or more into a Buffer and hashes it for
 * an ETag that a GraphQL POST never uses (no 304 for a POST): for a page of 100 sessions that was a thirtieth of its
 * time. Needs `express.json()` before it, as the library's does. `context` builds (or hands over) the request's context.
 */
export function graphqlHttpHandler<C extends BaseContext>(server: ApolloServer<C>): (req: Request, res: Response, context: () => Promise<C>) => Promise<void> {
  server.assertStarted('graphqlHttpHandler()');
  return async (req, res, context) => {
    if (!('body' in req)) {
      res.status(500).type('text/plain').end('`req.body` is not set: the json middleware must come before the GraphQL handler');
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const query = req.url.indexOf('?');
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: query === -1 ? '' : req.url.slice(query), body: req.body as unknown },
      context,
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      // As bytes: a string body would be joined to the header text and that copy flattened again on write.
      const body = Buffer.from(response.body.string, 'utf8');
      res.setHeader('Content-Length', body.length);
      res.end(body);
      return;
    }
    // Incremental delivery (@defer): each part as it comes.
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
