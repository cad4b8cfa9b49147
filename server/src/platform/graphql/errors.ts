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
}

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
    if (refusedNul(original)) {
      return {
        message: 'Text must not contain the NUL character (\\u0000)',
        path: formatted.path,
        locations: formatted.locations,
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
