import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Several handlers as one, run in order as Express would run them one layer each: `next()` goes to the following
 * one, `next(err)` (or a throw, or a rejected promise, as Express 5 treats them) leaves the chain with the error, and
 * `next()` from the last goes on after the chain. Express's router matches the path again, trims and restores the URL
 * and checks every layer's method for every handler it walks: the middleware every request takes and the GraphQL
 * mount's handlers were eight layers before a GraphQL request reached its handler (the router's own code, 7% of a
 * small mutation's main-thread time in its CPU profile, is 5.5% as two layers).
 * (compose-middleware does the same for Connect-style handlers but drops a returned promise: an async handler's
 * rejection would go unhandled.)
 */
export function chained(handlers: readonly RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err) {
        next(err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) {
        next();
        return;
      }
      try {
        const returned = handler(req, res, step) as unknown;
        if (returned instanceof Promise) returned.then(undefined, (reason: unknown) => next(reason || new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
