import pino, { type Logger } from 'pino';

/**
 * One JSON logger for the process. A request's lines carry its id (`reqId`) through the loggers that serve it
 * (the access log's `req.log`, the GraphQL context's `logger`, a graphql-ws operation's logger, and every masked error's
 * line); there is deliberately no AsyncLocalStorage scope stamping lines of services that never see the request: on
 * Node 20 one enables promise hooks for every promise in the process, which cost 40% of a subscription fan-out
 * (docs/decisions/0026-no-async-local-storage-for-log-scope.md).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'streamspace' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type { Logger };
