import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express, { type Request, type RequestHandler } from 'express';
import { GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { AppConfig } from '../../config/config';
import type { AppMetrics } from '../http/metrics';
import type { Logger } from '../logging/logger';
import type { Caller, GraphQLContext } from './context';
import { thrownByValidation, ValidatedDocumentCache } from './document-cache';
import { armorValidationRules, hideFieldSuggestions } from './armor';
import { createErrorFormatter, databaseUnavailable, isDatabaseUnavailable } from './errors';
import { createExecutor } from './executor';
import { graphqlHttpHandler } from './http-handler';
import { postedOperations } from './http-operations';
import { createLimitsChecker } from './limits';
import { LoaderRegistry } from './loaders';
import { nestingError } from './nesting';
import { startGraphQLWsServer, type GraphQLWsServerOptions } from './ws-server';

export const GRAPHQL_PATH = '/graphql';

export interface GraphQLServerOptions {
  /** The HTTP server GraphQL shares (graphql-ws listens on the same port and path). */
  httpServer: http.Server;
  schema: GraphQLSchema;
  config: AppConfig['graphql'];
  /** How long draining waits for open HTTP requests on stop. */
  shutdownTimeoutMs: number;
  logger: Logger;
  metrics: AppMetrics;
  /** The caller of an HTTP request (null: anonymous); throws a GraphQLError to refuse the request. */
  callerOf(req: Request): Promise<Caller | null>;
  /** From a socket's connection_init payload: who it acts for, or null to refuse it (4403). */
  authenticateSocket: GraphQLWsServerOptions['authenticate'];
  /** Close code for a socket whose token expired (the client reconnects with a fresh one). */
  tokenExpiredCloseCode: number;
}

export interface GraphQLServer {
  /** POST/GET handlers for GRAPHQL_PATH (JSON body parser included). */
  handlers: RequestHandler[];
  /** Closes every socket authenticated as this user (they reconnect and authenticate again); returns how many. */
  closeSocketsOf(userId: string, code: number, reason: string, which?: (caller: Caller) => boolean): number;
  /** Stops listening, drains HTTP requests, then closes the sockets. */
  stop(): Promise<void>;
}

/** Apollo Server over HTTP and our graphql-ws adapter (ws-server.ts) on one port, with the same limits and errors. */
/**
 * Refuses, before Apollo parses them: a document nested too deeply for the recursive parser (see nesting.ts), and one
 * validate() would throw on instead of reporting (see thrownByValidation), which Apollo would answer with a 500. Only
 * texts that mention a subscription are parsed here.
 */
function refuseUnparsableDocuments(schema: GraphQLSchema): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = req.method === 'POST' ? body?.query : req.query.query;
    if (typeof query !== 'string') return next();
    const tooDeep = nestingError(query);
    if (tooDeep) {
      res.status(400).json({ errors: [tooDeep.toJSON()] });
      return;
    }
    if (!query.includes('subscription')) return next();
    let error: GraphQLError | undefined;
    try {
      error = thrownByValidation(schema, parse(query, { maxTokens: 10_000 }));
    } catch {
      return next(); // a syntax error: Apollo reports it
    }
    if (!error) return next();
    hideFieldSuggestions([error]);
    res.status(400).json({ errors: [error.toJSON()] });
  };
}

export async function startGraphQLServer(options: GraphQLServerOptions): Promise<GraphQLServer> {
  const { httpServer, schema, config, logger, metrics } = options;
  const checkLimits = createLimitsChecker(schema, { maxDepth: config.maxDepth, maxComplexity: config.maxComplexity });
  const armorRules = armorValidationRules(config);
  const executor = createExecutor(schema);
  // One cache of validated documents for graphql-ws and the GraphQL POSTs answered without Apollo (http-operations.ts).
  const documents = new ValidatedDocumentCache(schema, [...specifiedRules, ...armorRules, ...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule])], {
    parseOptions: { maxTokens: 10_000 },
    onInvalid: hideFieldSuggestions,
  });
  const wsServer = startGraphQLWsServer({
    httpServer,
    path: GRAPHQL_PATH,
    schema,
    execute: (args) => executor(args),
    documents,
    checkLimits,
    logger,
    metrics,
    authenticate: options.authenticateSocket,
    tokenExpiredCloseCode: options.tokenExpiredCloseCode,
    limits: config.ws,
  });

  // Which request each error belongs to, for formatError (which Apollo calls without the context): a masked internal
  // error names its request id, and its log line carries it.
  const errorRequests = new WeakMap<object, string>();
  const requestIdsPlugin: ApolloServerPlugin<GraphQLContext> = {
    requestDidStart: async () => ({
      didEncounterErrors: async ({ contextValue, errors }) => {
        if (!contextValue?.requestId) return;
        for (const error of errors) errorRequests.set(error, contextValue.requestId);
      },
    }),
  };
  const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
    requestDidStart: async () => ({
      validationDidStart: async () => async (errors) => {
        if (errors) hideFieldSuggestions(errors.filter((e): e is GraphQLError => e instanceof GraphQLError));
      },
      didResolveOperation: async ({ document, request, operationName, operation }) => {
        // Apollo would run a subscription over HTTP as a query: its resolvers then see no event and fail.
        if (operation?.operation === 'subscription') {
          throw new GraphQLError('Subscriptions are served over graphql-ws (the graphql-transport-ws protocol) at this URL', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
        checkLimits(document, request.variables, operationName);
      },
    }),
  };
  const apollo = new ApolloServer<GraphQLContext>({
    // Apollo's "gateway" interface is its one way to run another executor (graphql-jit, executor.ts) after its own
    // parsing, validation and plugins; the schema never changes, so there are no updates to announce.
    gateway: {
      load: async () => ({
        schema,
        executor: (request) =>
          Promise.resolve(
            executor({ document: request.document, operationName: request.request.operationName, contextValue: request.context, variableValues: request.request.variables }),
          ) as Promise<ExecutionResult>,
      }),
      onSchemaLoadOrUpdate: (callback) => {
        callback({ apiSchema: schema, coreSupergraphSdl: '' });
        return () => {};
      },
      stop: async () => {},
    },
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT and stops everything in order; Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: 10_000 },
    validationRules: armorRules,
    formatError: createErrorFormatter(logger, (error) => (error && typeof error === 'object' ? errorRequests.get(error) : undefined)),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.shutdownTimeoutMs }),
      { serverWillStart: async () => ({ drainServer: () => wsServer.dispose() }) },
      ApolloServerPluginLandingPageDisabled(),
      // No HTTP cache hints are used: without this, Apollo's default cache-control plugin wraps every field resolve.
      ApolloServerPluginCacheControlDisabled(),
      metrics.apolloPlugin(),
      limitsPlugin,
      requestIdsPlugin,
    ],
  });
  try {
    await apollo.start();
  } catch (err) {
    await wsServer.dispose();
    throw err;
  }

  const context = async (req: Request): Promise<GraphQLContext> => ({
    requestId: (req as Request & { id: string }).id,
    logger: (req as Request & { log: Logger }).log,
    caller: await options.callerOf(req).catch((err: unknown) => {
      // The caller's row could not be read: a typed, retryable 503 rather than "Context creation failed" (500).
      if (!isDatabaseUnavailable(err)) throw err;
      const typed = databaseUnavailable();
      throw new GraphQLError(typed.message, { extensions: { code: typed.code, details: typed.details, http: { status: 503 } } });
    }),
    loaders: new LoaderRegistry(),
    clientIp: req.ip,
    userAgent: req.header('user-agent'),
  });
  const posted = postedOperations({
    documents,
    checkLimits,
    execute: executor,
    context,
    formatError: (requestId) => createErrorFormatter(logger, () => requestId),
    metrics,
    apollo: graphqlHttpHandler(apollo),
  });
  const handlers: RequestHandler[] = [express.json({ limit: '1mb' }), refuseUnparsableDocuments(schema), posted.handler];
  return {
    handlers,
    closeSocketsOf: (userId, code, reason, which) => wsServer.closeSocketsOf(userId, code, reason, which),
    stop: () => {
      posted.stop();
      return apollo.stop();
    },
  };
}
