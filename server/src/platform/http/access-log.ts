import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging/logger';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What the access log adds to a request: its id and a logger that stamps it on every line. */
export type LoggedRequest = Request & { id: string; log: Logger };

/**
 * Request ids and the access log, in one middleware. Each request gets an id (a well-formed `X-Request-Id` from the
 * client, else a new one), sent back in `X-Request-Id`, and `req.log`, a child logger that stamps `reqId` on its
 * lines (the GraphQL context's logger is this one). When the response is finished, one line: method, path (without
 * the query string, where OIDC codes and states travel), status, duration, client address; `error` for 5xx,
 * `warn` for a response that was cut off, `info` otherwise. Paths in `quiet` (health probes, metrics scrapes) are
 * not logged.
 *
 * Not pino-http: it builds a second child logger per request with the whole request serialised and redacted, used or
 * not, which was a tenth of the main thread's time per GraphQL request (decision 0026).
 */
export function accessLog(logger: Logger, quiet: readonly string[]): (req: Request, res: Response, next: NextFunction) => void {
  const quietPaths = new Set(quiet);
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const logged = req as LoggedRequest;
    logged.id = reqId;
    logged.log = logger.child({ reqId });
    res.setHeader('X-Request-Id', reqId);
    const started = process.hrtime.bigint();
    const path = (req.url ?? '').split('?', 1)[0]!;
    if (!quietPaths.has(path)) {
      const done = (finished: boolean) => {
        const responseTime = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
        const line = { method: req.method, path, statusCode: res.statusCode, responseTime, remoteAddress: req.ip };
        if (!finished) logged.log.warn(line, 'request aborted before its response was sent');
        else if (res.statusCode >= 500) logged.log.error(line, 'request failed');
        else logged.log.info(line, 'request completed');
      };
      res.once('finish', () => done(true));
      res.once('close', () => {
        if (!res.writableFinished) done(false);
      });
    }
    next();
  };
}
