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

/**
 * PostgreSQL cannot store the NUL character in text (22021, "invalid byte sequence for encoding UTF8: 0x00") nor
 * `\u0000` in jsonb (22P05). Any text argument may carry one, and the database is the one place that refuses it,
 * so its refusal is the client's error wherever it happens (the statement failed: nothing was written).
 */
const NUL_REFUSALS = new Set(['22021', '22P05']);

function refusedNul(err: unknown): boolean {
  const driver = (err as { driverError?: { code?: unknown } } | null)?.driverError;
  return typeof driver?.code === 'string' && NUL_REFUSALS.has(driver.code);
}

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

/** Socket errors: a peer (the database, or the API server behind a client library) cannot be reached now. */
const SOCKET_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
/** PostgreSQL SQLSTATEs that mean "the database cannot serve now", not a bug. */
const DATABASE_UNAVAILABLE_CODES = new Set([
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
/**
 * node-postgres' own messages for a lost or impossible connection, and TypeORM's for a transaction whose
 * connection died under it (its rollback then finds the query runner released).
 */
const DATABASE_UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|the database system is (starting up|shutting down|in recovery mode)|Query runner already released/i;

/**
 * Whether `err` (or what it wraps: TypeORM's driverError, a cause, a GraphQLError's originalError such as
 * Apollo's "Context creation failed", an AggregateError of connect attempts) says a backend cannot be reached
 * now: 'database' when PostgreSQL or its driver says so, 'network' for a bare socket error (database or API
 * server), null otherwise. Callers get a typed, retryable SERVICE_UNAVAILABLE instead of a masked internal error.
 */
export function unavailableBackend(err: unknown, depth = 0): 'database' | 'network' | null {
  if (!err || typeof err !== 'object' || depth > 4) return null;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
  if (typeof e.code === 'string' && DATABASE_UNAVAILABLE_CODES.has(e.code)) return 'database';
  if (typeof e.message === 'string' && DATABASE_UNAVAILABLE_MESSAGE.test(e.message)) return 'database';
  let found: 'database' | 'network' | null = typeof e.code === 'string' && SOCKET_UNAVAILABLE_CODES.has(e.code) ? 'network' : null;
  for (const inner of [...(Array.isArray(e.errors) ? e.errors : []), e.driverError, e.cause, e.originalError]) {
    const kind = unavailableBackend(inner, depth + 1);
    if (kind === 'database') return kind;
    found ??= kind;
  }
  return found;
}

/** True when a backend cannot be reached now (see unavailableBackend). */
export const isDatabaseUnavailable = (err: unknown): boolean => unavailableBackend(err) !== null;

export const databaseUnavailable = () => new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The database is unavailable right now; try again shortly', { retryable: true });
const backendUnreachable = () => new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'A service the server depends on cannot be reached right now; try again shortly', { retryable: true });

/** graphql-js stops coercing a request's variables after this many errors (its default maxErrors). */
const MAX_VARIABLE_ERRORS = 50;

/**
 * The error graphql-js answers when a request's variables hold more than MAX_VARIABLE_ERRORS invalid values (say a
 * list of 60 nulls where none may be null): a client mistake, which Apollo does not recognise as one (it has no
 * variable node), so it would be masked as an internal error.
 */
function tooManyVariableErrors(err: unknown): boolean {
  return err instanceof GraphQLError && !err.path && !err.originalError && err.message.startsWith('Too many errors processing variables, error limit reached');
}

/**
 * Apollo's formatError (also used for graphql-ws). `requestId` lets a user quote the id of a
 * masked error so an operator can find the stack in the log.
 */
export function createErrorFormatter(log: ErrorLogger, requestId: (error: unknown) => string | undefined) {
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
    if (refusedNul(original)) {
      return {
        message: 'Text must not contain the NUL character (\\u0000)',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    if (tooManyVariableErrors(original)) {
      return {
        message: `More than ${MAX_VARIABLE_ERRORS} variable values are invalid; correct the first ones the server named and send the request again`,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return formatted;
    }
    // graphql-js errors without a code are client mistakes, not bugs: validation errors, and request errors such as
    // a variable that cannot be coerced (no path, wrapping the scalar's own GraphQLError). graphql-ws sends these
    // uncoded where Apollo (HTTP) has already coded them; a wrapped non-GraphQL error (a bug) stays masked.
    if (original instanceof GraphQLError && !code && (!original.originalError || (!original.path && original.originalError instanceof GraphQLError))) {
      return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
    }
    const unavailable = unavailableBackend(original);
    if (unavailable) {
      const typed = unavailable === 'database' ? databaseUnavailable() : backendUnreachable();
      (log.warn ?? log.error).call(log, { err: (original as Error)?.message, path: formatted.path }, `${unavailable === 'database' ? 'database' : 'a backend'} unavailable while resolving GraphQL request`);
      return { message: typed.message, path: formatted.path, locations: formatted.locations, extensions: { code: typed.code, details: typed.details } };
    }
    const id = requestId(error);
    log.error({ err: original, path: formatted.path, ...(id ? { reqId: id } : {}) }, 'unexpected error while resolving GraphQL request');
    return {
      message: `Internal server error${id ? ` (request id ${id})` : ''}`,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(id ? { requestId: id } : {}) },
    };
  };
}
