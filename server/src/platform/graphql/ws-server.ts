import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../logging/logger';
import type { AppMetrics } from '../http/metrics';
import type { Caller, GraphQLContext } from './context';
import type { ValidatedDocumentCache } from './document-cache';
import { createErrorFormatter, ErrorCode } from './errors';
import type { Execute } from './executor';
import type { LimitsChecker } from './limits';
import { LoaderRegistry } from './loaders';
import { createSharedSubscribe, SubscriptionEvents } from './shared-subscribe';
import { writtenToSocket, type SubscriptionSink } from './subscription-writer';
import { EMPTY, TextFrameBatch } from './ws-frames';

/**
 * GraphQL over graphql-ws (the graphql-transport-ws protocol) on the HTTP server's port and path, tuned for
 * many small operations (heartbeats) on few long-lived sockets. Per socket, once: the access token is checked
 * (onConnect) and the socket closes when it expires. Per operation, every time: the document is looked up in
 * the validated-document cache (parsed and validated on a miss), the depth/complexity limits are checked
 * (verdict cached per document), a fresh context carries the socket's caller so `@Authorized` and ownership
 * checks run for this operation, outcomes are counted in the metrics and errors are coded by the one formatter.
 *
 * It replaces `graphql-ws/use/ws` (which it follows: keep-alive pings, protocol negotiation, error closes)
 * for one reason: writes. That adapter writes each message with its own syscall and waits for the write to be
 * flushed before the next one, so a heartbeat cost two `writev` calls. Here the messages of one event-loop
 * turn are framed into one buffer and leave in one write (ws-frames.ts), and a send waits for the flush only
 * when the socket is backed up (a client not reading), so backpressure still holds. A subscription's results
 * are written by subscription-writer.ts (one JSON per shared execution, no graphql-ws loop per subscriber).
 */

export interface WsAuthentication {
  caller: Caller | null;
  /** When the socket must close (the access token expires); undefined: never (anonymous). */
  expiresAtMs?: number;
}

export interface GraphQLWsServerOptions {
  httpServer: http.Server;
  path: string;
  schema: GraphQLSchema;
  /** Runs queries and mutations (executor.ts); subscriptions run through shared-subscribe.ts. */
  execute: Execute;
  documents: ValidatedDocumentCache;
  checkLimits: LimitsChecker;
  logger: Logger;
  metrics: AppMetrics;
  /** From the connection_init payload: who the socket acts for, or null to refuse it (4403). */
  authenticate(connectionParams: Readonly<Record<string, unknown>> | undefined): Promise<WsAuthentication | null>;
  /** Close code sent when the access token expires (the client reconnects with a fresh one). */
  tokenExpiredCloseCode: number;
  /** Keep-alive ping interval; a socket that does not answer within it is terminated. */
  keepAliveMs?: number;
  /** A send waits for the socket to drain above this many buffered bytes. */
  highWaterMark?: number;
  /** Abuse limits (config STREAMSPACE_GRAPHQL_WS_*). */
  limits: WsLimits;
}

export interface WsLimits {
  /** Largest message in bytes (ws closes the socket with 1009 beyond). */
  maxPayload: number;
  /** An anonymous socket (no token) is closed after this long. */
  anonymousTimeoutMs: number;
  /** Open sockets per user; one more is closed with WS_CLOSE_TOO_MANY_SOCKETS. */
  maxSocketsPerUser: number;
  /** Active subscriptions per user across sockets (per socket for anonymous ones); more are refused. */
  maxSubscriptionsPerUser: number;
}

/** Close codes of the limits. */
export const WS_CLOSE_AUTHENTICATION_REQUIRED = 4401;
export const WS_CLOSE_TOO_MANY_SOCKETS = 4429;
/** Time a new socket has to send connection_init (graphql-ws then closes it with 4408). */
export const WS_CONNECTION_INIT_TIMEOUT_MS = 3000;

/** Longest delay setTimeout accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The context of one operation. The logger child (pino serializes its bindings at once) and the loader
 * registry are made on first use: a heartbeat needs neither.
 */
export class OperationContext implements GraphQLContext {
  readonly requestId = randomUUID();
  private childLogger?: Logger;
  private registry?: LoaderRegistry;

  constructor(
    private readonly baseLogger: Logger,
    readonly caller: Caller | null,
    readonly clientIp: string | undefined,
    readonly userAgent: string | undefined,
  ) {}

  get logger(): Logger {
    return (this.childLogger ??= this.baseLogger.child({ reqId: this.requestId }));
  }

  get loaders(): LoaderRegistry {
    return (this.registry ??= new LoaderRegistry());
  }
}

/**
 * What a subscription's execution may depend on besides its document and variables: the caller and where the
 * socket came from. Operations with equal keys share an event's execution; an anonymous one never does.
 */
export function executionKey(contextValue: unknown): string | null {
  if (!(contextValue instanceof OperationContext) || !contextValue.caller) return null;
  const { caller } = contextValue;
  return JSON.stringify([caller.id, caller.username, caller.role, caller.sid ?? null, contextValue.clientIp ?? null, contextValue.userAgent ?? null]);
}

const shared = createSharedSubscribe(executionKey);

interface Operation {
  context: OperationContext;
  name: string | undefined;
  type: string;
  started: bigint;
  failed: boolean;
  /** Counted against the subscription limit (released when it ends). */
  counted?: boolean;
}

interface Extra {
  socket: WebSocket;
  /** Writes one text message (framed with the rest of the event-loop turn's); a promise while the socket is backed up. */
  send(head: Buffer, tail: Buffer): Promise<void> | void;
  /** Closes the socket after sending what waits. */
  close(code?: number, reason?: string): void;
  request: http.IncomingMessage;
  caller: Caller | null;
  expiry?: NodeJS.Timeout;
  operations: Map<string, Operation>;
  /** Active subscriptions of an anonymous socket (a user's are counted across sockets). */
  anonymousSubscriptions: number;
}

export interface GraphQLWsServer {
  /**
   * Closes every socket authenticated as this user (they reconnect and authenticate again), or only those whose
   * caller `which` picks; returns how many.
   */
  closeSocketsOf(userId: string, code: number, reason: string, which?: (caller: Caller) => boolean): number;
  dispose(): Promise<void>;
}

export function startGraphQLWsServer(options: GraphQLWsServerOptions): GraphQLWsServer {
  const { schema, documents, checkLimits, logger, metrics } = options;
  const keepAliveMs = options.keepAliveMs ?? 12_000;
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const { limits } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path, handleProtocols, maxPayload: limits.maxPayload });
  /** Open sockets with who they act for (set once connection_init was accepted). */
  const sockets = new Set<Extra>();
  /** Active subscriptions by user id. */
  const subscriptionsByUser = new Map<string, number>();
  const subscriptionCount = (extra: Extra) => (extra.caller ? (subscriptionsByUser.get(extra.caller.id) ?? 0) : extra.anonymousSubscriptions);
  const addSubscriptions = (extra: Extra, delta: number) => {
    if (!extra.caller) {
      extra.anonymousSubscriptions += delta;
      return;
    }
    const n = (subscriptionsByUser.get(extra.caller.id) ?? 0) + delta;
    if (n > 0) subscriptionsByUser.set(extra.caller.id, n);
    else subscriptionsByUser.delete(extra.caller.id);
  };
  /** Gives back a subscription's slot (once). */
  const release = (extra: Extra, op: Operation) => {
    if (!op.counted) return;
    op.counted = false;
    addSubscriptions(extra, -1);
  };

  /** Where each subscription's results are written (subscription-writer.ts), by its operation's context. */
  const sinks = new WeakMap<OperationContext, SubscriptionSink>();
  const formatErrors = (errors: readonly GraphQLError[], requestId: string | undefined) => {
    const format = createErrorFormatter(logger, () => requestId);
    return errors.map((e) => format(e.toJSON(), e) as unknown as GraphQLError);
  };
  const finish = (extra: Extra, id: string, outcome?: 'error') => {
    const op = extra.operations.get(id);
    if (!op) return;
    extra.operations.delete(id);
    release(extra, op);
    const seconds = op.type === 'subscription' ? undefined : Number(process.hrtime.bigint() - op.started) / 1e9;
    metrics.recordOperation(op.name, op.type, outcome ?? (op.failed ? 'error' : 'success'), seconds, Boolean(extra.caller));
  };

  const serverOptions: ServerOptions<Record<string, unknown>, Extra> = {
    schema,
    // Subscribers of one event with the same operation and caller share its execution and its JSON
    // (shared-subscribe.ts), written to each socket by subscription-writer.ts rather than by graphql-ws's loop.
    subscribe: async (args) => {
      const events = await shared.open(args);
      if (!(events instanceof SubscriptionEvents)) return events;
      const sink = args.contextValue instanceof OperationContext ? sinks.get(args.contextValue) : undefined;
      return sink ? writtenToSocket(events, sink) : events.results();
    },
    execute: (args) => options.execute({ document: args.document, operationName: args.operationName, contextValue: args.contextValue, variableValues: args.variableValues }),
    connectionInitWaitTimeout: WS_CONNECTION_INIT_TIMEOUT_MS,
    onConnect: async (ctx) => {
      const authenticated = await options.authenticate(ctx.connectionParams).catch(() => null);
      if (!authenticated) return false;
      const caller = authenticated.caller;
      if (caller) {
        let open = 0;
        for (const other of sockets) if (other.caller?.id === caller.id) open++;
        if (open >= limits.maxSocketsPerUser) {
          ctx.extra.close(WS_CLOSE_TOO_MANY_SOCKETS, `Too many sockets: at most ${limits.maxSocketsPerUser} per user`);
          return false;
        }
      }
      ctx.extra.caller = caller;
      // A token's socket lives until the token expires; an anonymous one only briefly.
      const closeAtMs = authenticated.expiresAtMs ?? (caller ? undefined : Date.now() + limits.anonymousTimeoutMs);
      if (closeAtMs !== undefined) {
        const [code, reason] = caller ? [options.tokenExpiredCloseCode, 'Access token expired'] : [WS_CLOSE_AUTHENTICATION_REQUIRED, 'Authentication required'];
        ctx.extra.expiry = setTimeout(() => ctx.extra.close(code, reason), Math.min(MAX_TIMER_MS, Math.max(0, closeAtMs - Date.now())));
        ctx.extra.expiry.unref();
      }
      return true;
    },
    onClose: (ctx) => clearTimeout(ctx.extra.expiry),
    onSubscribe: (ctx, id, payload) => {
      const { extra } = ctx;
      const request = extra.request;
      const op: Operation = {
        context: new OperationContext(logger, extra.caller, request.socket.remoteAddress, request.headers['user-agent']),
        // Until the document names it: a bare operationName in the payload is the client's word only.
        name: payload.operationName ? 'other' : undefined,
        type: 'unknown',
        started: process.hrtime.bigint(),
        failed: false,
      };
      extra.operations.set(id, op);
      const document = documents.get(payload.query);
      if (Array.isArray(document)) return [...(document as readonly GraphQLError[])];
      const validDocument = document as Exclude<typeof document, readonly GraphQLError[]>;
      const operation = getOperationAST(validDocument, payload.operationName);
      if (operation) {
        op.type = operation.operation;
        op.name = operation.name?.value;
      }
      if (op.type === 'subscription') {
        if (subscriptionCount(extra) >= limits.maxSubscriptionsPerUser) {
          return [
            new GraphQLError(`Too many subscriptions: at most ${limits.maxSubscriptionsPerUser} at once per user; end one first`, {
              extensions: { code: ErrorCode.LIMIT_EXCEEDED, details: { maxSubscriptions: limits.maxSubscriptionsPerUser } },
            }),
          ];
        }
        op.counted = true;
        addSubscriptions(extra, 1);
        sinks.set(op.context, {
          id,
          send: extra.send,
          withErrors: (result) => {
            op.failed = true;
            return { ...result, errors: formatErrors(result.errors ?? [], op.context.requestId) };
          },
        });
      }
      try {
        checkLimits(validDocument, payload.variables, payload.operationName);
      } catch (err) {
        if (err instanceof GraphQLError) return [err];
        throw err;
      }
      const args: ExecutionArgs = {
        schema,
        document: validDocument,
        variableValues: payload.variables,
        operationName: payload.operationName,
        contextValue: op.context,
      };
      return args;
    },
    // Queries' and mutations' results; a subscription's are written by subscription-writer.ts, formatted there alike.
    onNext: (ctx, id, _payload, _args, result) => {
      if (!('errors' in result) || !result.errors?.length) return;
      const op = ctx.extra.operations.get(id);
      if (op) op.failed = true;
      return { ...result, errors: formatErrors(result.errors, op?.context.requestId) };
    },
    onError: (ctx, id, _payload, errors) => {
      const requestId = ctx.extra.operations.get(id)?.context.requestId;
      finish(ctx.extra, id, 'error');
      return formatErrors(errors, requestId);
    },
    // Every end of an operation reaches onComplete or onError, also a subscription the client completes (graphql-ws
    // returns its stream, and its loop then completes it without telling the client): its slot is given back there,
    // with no wrapper around every subscription's stream (that cost a promise per subscriber for every event).
    onComplete: (ctx, id) => finish(ctx.extra, id),
  };
  const server = makeServer<Record<string, unknown>, Extra>(serverOptions);

  wsServer.once('error', (err) => {
    logger.error({ err }, 'graphql-ws server error; closing its sockets');
    for (const client of wsServer.clients) client.close(CloseCode.InternalServerError, 'Internal server error');
  });
  wsServer.on('connection', (socket, request) => {
    socket.once('error', (err) => {
      logger.warn({ err }, 'graphql-ws socket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;

    // Messages of one event-loop turn leave framed in one buffer and one write (ws-frames.ts); a send waits for the
    // flush only when the socket is backed up. Sockets with an extension (none is offered) go through ws.
    const isOpen = () => socket.readyState === socket.OPEN;
    const frames = TextFrameBatch.usable(socket) ? new TextFrameBatch(request.socket, isOpen) : null;
    const sendMessage = (head: Buffer, tail: Buffer): Promise<void> | void => {
      if (!isOpen()) return;
      if (!frames) return new Promise<void>((resolve) => socket.send(tail.length ? Buffer.concat([head, tail]) : head, { binary: false }, () => resolve()));
      frames.add(head, tail);
      if (socket.bufferedAmount + frames.pending < highWaterMark) return;
      return new Promise<void>((resolve) => frames.flush(resolve));
    };
    const send = (data: string) => sendMessage(Buffer.from(data), EMPTY);
    // What waits is sent before a close of ours (an error message, then the close frame).
    const close = (code?: number, reason?: string) => {
      frames?.flush();
      socket.close(code, reason);
    };

    const extra: Extra = { socket, send: sendMessage, close, request, caller: null, operations: new Map(), anonymousSubscriptions: 0 };
    sockets.add(extra);
    socket.once('close', () => {
      sockets.delete(extra);
      // Subscriptions end with their socket: release what they held against the user's limit.
      for (const op of extra.operations.values()) release(extra, op);
    });
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send,
        close,
        onMessage: (cb) =>
          socket.on('message', (data: Buffer) => {
            cb(data.toString()).catch((err: unknown) => {
              logger.error({ err }, 'internal error while handling a graphql-ws message; closing the socket');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (pingInterval) clearInterval(pingInterval);
      void closed(code, String(reason));
    });
  });

  return {
    closeSocketsOf(userId, code, reason, which) {
      let closed = 0;
      for (const extra of sockets) {
        if (extra.caller?.id !== userId || (which && !which(extra.caller))) continue;
        extra.close(code, reason);
        closed++;
      }
      return closed;
    },
    dispose: async () => {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
