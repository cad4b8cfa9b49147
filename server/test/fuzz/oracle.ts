import { ErrorCode } from '../../src/platform/graphql/errors';

/**
 * What every answer of the API must satisfy, whatever was sent: no 5xx, every GraphQL error carries a known code,
 * nothing internal (a stack, SQL, a driver's or the Kubernetes client's message) reaches the client, and no error
 * is the masked INTERNAL_SERVER_ERROR (that mask means a resolver threw something unexpected: a bug to fix).
 */

/** Codes an error may carry: the API's own and graphql-js/Apollo's request errors. */
export const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/** Text that only an unmasked internal error would show. */
const INTERNAL_TEXT: [string, RegExp][] = [
  ['stack frame', /\n\s+at .+[(:]\d+|at [\w.<>]+ \((?:\/|node:)/],
  ['TypeORM error', /QueryFailedError|EntityNotFound|EntityMetadataNotFound|TypeORMError|CannotCreateEntityIdMap|UpdateValuesMissing/],
  [
    'PostgreSQL message',
    /invalid byte sequence for encoding|invalid input syntax for type|violates (?:unique|foreign key|not-null|check) constraint|duplicate key value|out of range for type|value too long for type|syntax error at or near|relation ".+" does not exist|column ".+" (?:does not exist|of relation)|unterminated quoted|unsupported Unicode escape/i,
  ],
  ['Kubernetes client message', /HTTP-Code: \d+|Message: Unknown API Status Code|ApiException|"kind":"Status"|\bk8s\.io\/|is forbidden: User "/],
  ['JavaScript runtime error', /Cannot read propert|is not a function|is not iterable|Cannot convert undefined|Maximum call stack|undefined is not|null is not an object|RangeError: |TypeError: |ReferenceError: |SyntaxError: Unexpected token .* in JSON/],
  ['system error', /\bE(?:CONNREFUSED|CONNRESET|PIPE|NOENT|ACCES|TIMEDOUT)\b/],
];

export interface GraphQLErrorShape {
  message?: unknown;
  extensions?: Record<string, unknown>;
}

export interface Verdict {
  /** Codes seen (for the histogram). */
  codes: string[];
  /** What is wrong with the answer (empty: fine). */
  problems: string[];
}

export function checkErrors(errors: readonly GraphQLErrorShape[] | undefined): Verdict {
  const verdict: Verdict = { codes: [], problems: [] };
  for (const error of errors ?? []) {
    const code = typeof error.extensions?.code === 'string' ? error.extensions.code : '(none)';
    verdict.codes.push(code);
    const message = typeof error.message === 'string' ? error.message : '';
    if (typeof error.message !== 'string') verdict.problems.push('an error without a message');
    if (code === ErrorCode.INTERNAL_SERVER_ERROR) verdict.problems.push(`masked internal error: ${message}`);
    else if (!KNOWN_CODES.has(code)) verdict.problems.push(`unknown error code ${code}: ${message.slice(0, 200)}`);
    if (error.extensions && ('stacktrace' in error.extensions || 'exception' in error.extensions)) verdict.problems.push('an error with a stack trace');
    verdict.problems.push(...internalText(message));
  }
  return verdict;
}

/** Names of the internal-text patterns `text` matches. */
export function internalText(text: string): string[] {
  return INTERNAL_TEXT.filter(([, re]) => re.test(text)).map(([name]) => `${name} in the answer: ${text.slice(0, 300)}`);
}

/** An HTTP answer: status below 500, JSON, and either a GraphQL result or a coded request error. */
export function checkHttp(status: number, text: string): Verdict {
  const verdict: Verdict = { codes: [], problems: [] };
  if (status >= 500) verdict.problems.push(`HTTP ${status}: ${text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    verdict.problems.push(...internalText(text));
    verdict.codes.push(`HTTP ${status} (not JSON)`);
    return verdict;
  }
  if (body && typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors)) {
    const inner = checkErrors((body as { errors: GraphQLErrorShape[] }).errors);
    verdict.codes.push(...inner.codes);
    verdict.problems.push(...inner.problems);
  } else if (body && typeof body === 'object' && 'error' in body) {
    // A request the HTTP layer refused before GraphQL (body parser, 404): {error, message}.
    verdict.codes.push(`HTTP ${status} ${String((body as { error: unknown }).error)}`);
    verdict.problems.push(...internalText(String((body as { message?: unknown }).message ?? '')));
  }
  return verdict;
}
