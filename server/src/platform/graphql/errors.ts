import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

/**
 * The one error model of the API. Domains throw AppError with one of these codes; formatError below
 * maps it to `extensions.code`. Anything else is a bug: the client sees a masked message with the
 * request id, and the details go only to the server log.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  TIMEOUT: 'TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    /** Safe, structured details for clients (never secrets): e.g. quota numbers, the offending field. */
    public readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: string) => new AppError(ErrorCode.NOT_FOUND, `${what} "${id}" was not found`, { id });
export const badInput = (message: string, details?: Record<string, unknown>) => new AppError(ErrorCode.BAD_USER_INPUT, message, details);

/** Codes produced by graphql-js / Apollo itself that are safe to pass through unmasked. */
const PASS_THROUGH_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  ...Object.values(ErrorCode),
]);

export interface ErrorLogger {
  error(obj: unknown, msg?: string): void;
  warn?(obj: unknown, msg?: string): void;
}

/** PostgreSQL SQLSTATEs and socket errors that mean "the database cannot be reached now", not a bug. */
const DATABASE_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '08000', // connection_exception
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);
const DATABASE_UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `err` (or what it wraps: TypeORM's driverError, a cause, a GraphQLError's originalError such as
 * Apollo's "Context creation failed", an AggregateError of connect attempts)
 * says the database is unreachable: callers get a typed, retryable SERVICE_UNAVAILABLE instead of a masked
 * internal error.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
  if (typeof e.code === 'string' && DATABASE_UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && DATABASE_UNAVAILABLE_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1) || isDatabaseUnavailable(e.originalError, depth + 1);
}

export const databaseUnavailable = () => new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The database is unavailable right now; try again shortly', { retryable: true });

/**
 * Apollo's formatError (also used for graphql-ws). `requestId` lets a user quote the id of a
 * masked error so an operator can find the stack in the log.
 */
export function createErrorFormatter(log: ErrorLogger, requestId: () => string | undefined) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return formatted;
    }
    // graphql-js errors without a code (e.g. variable coercion) are client mistakes, not bugs.
    if (original instanceof GraphQLError && !original.originalError && !code) {
      return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
    }
    if (isDatabaseUnavailable(original)) {
      const typed = databaseUnavailable();
      (log.warn ?? log.error).call(log, { err: (original as Error)?.message, path: formatted.path }, 'database unavailable while resolving GraphQL request');
      return { message: typed.message, path: formatted.path, locations: formatted.locations, extensions: { code: typed.code, details: typed.details } };
    }
    const id = requestId();
    log.error({ err: original, path: formatted.path }, 'unexpected error while resolving GraphQL request');
    return {
      message: `Internal server error${id ? ` (request id ${id})` : ''}`,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(id ? { requestId: id } : {}) },
    };
  };
}
