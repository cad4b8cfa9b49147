import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

/** The request (or job run) a log line belongs to; set by the HTTP layer and by jobs. */
export interface LogScope {
  reqId?: string;
  job?: string;
}

export const logScope = new AsyncLocalStorage<LogScope>();

/**
 * One JSON logger for the process. The mixin stamps every line written while a request is
 * being served with its request id, including lines from services that never see `req`.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'streamspace' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const scope = logScope.getStore();
        return scope ? { ...scope } : {};
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type { Logger };
