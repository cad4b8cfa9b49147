import type { Request, RequestHandler, Response } from 'express';
import { getOperationAST, GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import Negotiator from 'negotiator';
import type { AppMetrics } from '../http/metrics';
import type { GraphQLContext } from './context';
import type { ValidatedDocumentCache } from './document-cache';
import type { Execute } from './executor';
import type { LimitsChecker } from './limits';

/** What Apollo answers a single result as, by the client's Accept header (its MEDIA_TYPES, in its order). */
const MEDIA_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8', 'application/json; callbackSpec=1.0; charset=utf-8'];
const APPLICATION_JSON = MEDIA_TYPES[0];
/**
 * A JSON body, which no page of another origin can send without a CORS preflight: the requests Apollo's CSRF
 * prevention lets through. Checked here too (not only by the JSON body parser before) so that this rule holds
 * whatever parses bodies in front; any other content type goes to Apollo's check.
 */
const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i;
/** Accept headers already negotiated (clients send a handful); cleared when full so a client cannot grow it. */
const MAX_NEGOTIATED = 64;

export interface PostedOperationsOptions {
  /** The validated documents of both transports (parse and validation once per text). */
  documents: ValidatedDocumentCache;
  checkLimits: LimitsChecker;
  execute: Execute;
  /** The request's context, as Apollo builds it. */
  context: (req: Request, res: Response) => Promise<GraphQLContext>;
  /** Apollo's formatError, for one request id. */
  formatError: (requestId: string | undefined) => (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  metrics: AppMetrics;
  /** Apollo's handler, for every request not answered here: with the context already built, when it was. */
  apollo: (req: Request, res: Response, context: () => Promise<GraphQLContext>) => Promise<void>;
}

export interface PostedOperations {
  handler: RequestHandler;
  /** Requests answered here, and those handed to Apollo. */
  readonly counts: { answered: number; handedOver: number };
  /** After this, every request goes to Apollo (which refuses them once it has stopped). */
  stop(): void;
}

interface PostedOperation {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
}

/**
 * The GraphQL POST of every client, a JSON object with a query, answered by the pipeline graphql-ws uses (one cache
 * of validated documents, the limits, the compiled executor, the error formatter) instead of Apollo's request
 * pipeline, which cost a small mutation four to five times its execution: plugin hooks awaited one by one, a request
 * context and header maps per request, and their garbage (decision 0033). The answer is Apollo's, byte for byte:
 * the same status, content type, field order, error formatting (`extensions.code` defaulted, `extensions.http`
 * applied and removed) and metrics.
 *
 * Everything else goes to Apollo, before any resolver has run: GET, a body that is not JSON, batches, `extensions` (persisted queries), a
 * body Apollo would refuse, a document that does not parse or validate, an unknown operation name, a subscription,
 * a document over the limits, an Accept header Apollo answers 406, a context that cannot be built (handed the same
 * error), and variables that do not coerce (the result has no data; nothing ran). Apollo then answers as it always
 * did, with the context built here when there is one.
 */
export function postedOperations(options: PostedOperationsOptions): PostedOperations {
  const { documents, checkLimits, execute, metrics, apollo } = options;
  const counts = { answered: 0, handedOver: 0 };
  const negotiated = new Map<string, string | null>();
  let stopped = false;

  const responseType = (accept: string | undefined): string | null => {
    if (!accept) return APPLICATION_JSON;
    let type = negotiated.get(accept);
    if (type === undefined) {
      type = new Negotiator({ headers: { accept } }).mediaType(MEDIA_TYPES) ?? null;
      if (negotiated.size >= MAX_NEGOTIATED) negotiated.clear();
      negotiated.set(accept, type);
    }
    return type;
  };

  const handOver = (req: Request, res: Response, context: () => Promise<GraphQLContext> = () => options.context(req, res)) => {
    counts.handedOver++;
    return apollo(req, res, context);
  };

  const handler: RequestHandler = async (req, res) => {
    const posted = stopped || req.method !== 'POST' || !JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '') ? undefined : postedOperation(req.body);
    const contentType = posted && responseType(req.headers.accept);
    if (!posted || !contentType) return handOver(req, res);
    const document = documents.get(posted.query);
    if (Array.isArray(document)) return handOver(req, res);
    const validDocument = document as Exclude<typeof document, readonly GraphQLError[]>;
    const operation = getOperationAST(validDocument, posted.operationName);
    if (!operation || operation.operation === 'subscription') return handOver(req, res);
    try {
      checkLimits(validDocument, posted.variables, posted.operationName);
    } catch {
      return handOver(req, res);
    }
    let contextValue: GraphQLContext;
    try {
      contextValue = await options.context(req, res);
    } catch (err) {
      return handOver(req, res, () => Promise.reject(err));
    }
    const started = process.hrtime.bigint();
    let result: ExecutionResult;
    let threw = false;
    try {
      result = await execute({ document: validDocument, operationName: posted.operationName, contextValue, variableValues: posted.variables });
    } catch (err) {
      // Apollo answers an executor that throws with its error and a 500.
      result = { errors: [ensureGraphQLError(err)] };
      threw = true;
    }
    if (result.data === undefined && !threw) return handOver(req, res, () => Promise.resolve(contextValue));
    counts.answered++;
    const head: { status?: number; headers: Map<string, string> } = { headers: new Map() };
    const format = result.errors?.length ? options.formatError(contextValue.requestId) : undefined;
    const errors = format && result.errors!.map((error) => formatted(error, format, head));
    metrics.recordOperation(operation.name?.value, operation.operation, errors ? 'error' : 'success', Number(process.hrtime.bigint() - started) / 1e9, Boolean(contextValue.caller));
    // Apollo's JSON: errors, data, extensions in that order, and a newline.
    const body = Buffer.from(`${JSON.stringify({ errors, data: result.data, extensions: result.extensions })}\n`, 'utf8');
    res.setHeader('content-type', contentType);
    for (const [name, value] of head.headers) res.setHeader(name, value);
    res.statusCode = head.status ?? (threw ? 500 : 200);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  };
  return {
    handler,
    counts,
    stop: () => {
      stopped = true;
    },
  };
}

/** The request if it is one operation Apollo would take as it is (its own checks of a POST body), else undefined. */
function postedOperation(body: unknown): PostedOperation | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'extensions' in body) return undefined;
  const { query, operationName, variables } = body as Record<string, unknown>;
  if (typeof query !== 'string') return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  return { query, operationName: operationName ?? undefined, variables: (variables ?? undefined) as Record<string, unknown> | undefined };
}

function ensureGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const error = err instanceof Error ? err : new Error(`Unexpected error value: ${String(err)}`);
  return new GraphQLError(error.message, { originalError: error });
}

/**
 * One error as Apollo formats it (normalizeAndFormatErrors): `extensions.code` INTERNAL_SERVER_ERROR unless it has
 * one, `extensions.http` applied to the answer's status and headers and removed, then formatError; a formatter that
 * throws gives a bare internal error.
 */
function formatted(error: unknown, format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError, head: { status?: number; headers: Map<string, string> }): GraphQLFormattedError {
  try {
    const graphqlError = ensureGraphQLError(error);
    const extensions: Record<string, unknown> = { ...graphqlError.extensions, code: graphqlError.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
    const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
    if (http && typeof http === 'object' && (!('status' in http) || typeof http.status === 'number') && (!('headers' in http) || http.headers instanceof Map)) {
      if (http.status) head.status = http.status as number;
      if (http.headers) for (const [name, value] of http.headers as Map<string, string>) head.headers.set(name, value);
      delete extensions.http;
    }
    return format({ ...graphqlError.toJSON(), extensions }, error);
  } catch {
    return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}
