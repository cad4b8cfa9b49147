import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Most distinct operation names that get a label of their own; every other name is counted as `other`. */
export const MAX_OPERATION_NAME_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Prometheus metrics of one server instance (its own registry, so tests can run several servers in
 * one process): process metrics, HTTP requests by route, GraphQL operations by name.
 */
export class AppMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'streamspace_http_requests_total',
    help: 'HTTP requests served, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'streamspace_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: 'streamspace_graphql_operations_total',
    help: 'GraphQL operations executed, by operation name, type and outcome (success or error).',
    labelNames: ['operation_name', 'operation_type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'streamspace_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration in seconds, by operation name and type.',
    labelNames: ['operation_name', 'operation_type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  // ---- platform metrics: counted where the events happen (modules get this object from the composition root) ----

  /** Sessions by observed phase, platform-wide: set by the leader's metrics sampler (modules/monitoring), absent elsewhere. */
  readonly sessionsByPhase = new Gauge({
    name: 'streamspace_sessions',
    help: 'Sessions by observed phase (platform-wide; exported by the leader replica, which samples them).',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });

  readonly activeConnections = new Gauge({
    name: 'streamspace_active_connections',
    help: 'Open connections to sessions (platform-wide; exported by the leader replica, which samples them).',
    registers: [this.registry],
  });

  /** Heartbeats this replica accepted (read from the batcher's own count at scrape time). */
  readonly heartbeats = new Counter({
    name: 'streamspace_heartbeats_total',
    help: 'Connection heartbeats received by this replica.',
    registers: [this.registry],
    collect: () => this.flushHeartbeats(),
  });

  readonly gatewayRequests = new Counter({
    name: 'streamspace_gateway_requests_total',
    help: 'HTTP requests and WebSocket upgrades the session gateway of this replica received.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly gatewayBytes = new Counter({
    name: 'streamspace_gateway_bytes_total',
    help: "Bytes the session gateway of this replica relayed, by direction (in: from browsers, out: to browsers), counted on the browsers' sockets.",
    labelNames: ['direction'] as const,
    registers: [this.registry],
    collect: () => this.flushTraffic(),
  });

  readonly reconcileDuration = new Histogram({
    name: 'streamspace_reconcile_duration_seconds',
    help: 'Duration of one session reconcile on the leader, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly sessionStartupDuration = new Histogram({
    name: 'streamspace_session_startup_duration_seconds',
    help: 'Time from a Session object being created to its first Running phase (a pod Ready), seen by the leader.',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });

  readonly jobRuns = new Counter({
    name: 'streamspace_job_runs_total',
    help: 'Background job runs on this replica while leader, by job and outcome (success or failure).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly catalogSyncs = new Counter({
    name: 'streamspace_catalog_syncs_total',
    help: 'Catalog repository syncs run by this replica, by outcome (success or failure).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private heartbeatSource: (() => number) | undefined;
  private heartbeatsCounted = 0;

  /** Where heartbeats are counted (the batcher's own running count); read at each scrape and sample. */
  countHeartbeats(source: () => number): void {
    this.heartbeatSource = source;
    this.heartbeatsCounted = source();
  }

  private flushHeartbeats() {
    const now = this.heartbeatSource?.() ?? 0;
    if (now > this.heartbeatsCounted) this.heartbeats.inc(now - this.heartbeatsCounted);
    this.heartbeatsCounted = now;
  }

  /** Sockets of a server whose traffic is counted (gatewayBytes), with what was counted of each so far. */
  private readonly countedSockets = new Map<Socket, { read: number; written: number }>();

  /** Counts the bytes of every browser socket of `server` (the gateway) into gatewayBytes, also while they stay open. */
  countTraffic(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.countedSockets.set(socket, { read: 0, written: 0 });
      socket.once('close', () => {
        this.flushSocket(socket);
        this.countedSockets.delete(socket);
      });
    });
    server.on('request', () => this.gatewayRequests.inc({ kind: 'http' }));
    server.on('upgrade', () => this.gatewayRequests.inc({ kind: 'upgrade' }));
  }

  /** Adds what open sockets moved since the last call (scrapes and the sampler call it through the counter's collect). */
  flushTraffic(): void {
    for (const socket of this.countedSockets.keys()) this.flushSocket(socket);
  }

  private flushSocket(socket: Socket) {
    const seen = this.countedSockets.get(socket);
    if (!seen) return;
    const read = socket.bytesRead;
    const written = socket.bytesWritten;
    if (read > seen.read) this.gatewayBytes.inc({ direction: 'in' }, read - seen.read);
    if (written > seen.written) this.gatewayBytes.inc({ direction: 'out' }, written - seen.written);
    seen.read = read;
    seen.written = written;
  }

  /** Operation names that have a label of their own (see operationLabel). */
  private readonly operationNames = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The `operation_name` label of an operation. Names come from clients, so they are bounded: an operation without a
   * name is `anonymous`; a name already admitted keeps its label; a new name is admitted only from an authenticated
   * caller whose document defines it (it parsed and named the operation), and only while fewer than
   * MAX_OPERATION_NAME_LABELS are admitted. Anything else is `other`, so anonymous requests never create a series.
   */
  operationLabel(name: string | null | undefined, authenticated: boolean): string {
    if (!name) return 'anonymous';
    if (name === 'other' || this.operationNames.has(name)) return name;
    if (!authenticated || !OPERATION_NAME.test(name) || this.operationNames.size >= MAX_OPERATION_NAME_LABELS) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** Express middleware; the route label is the matched route pattern, never the raw URL (bounded cardinality). */
  httpMiddleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = process.hrtime.bigint();
      res.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - end) / 1e9;
        const routePath = (req.route as { path?: string } | undefined)?.path;
        const route = routePath !== undefined ? `${req.baseUrl}${routePath}` : req.baseUrl || 'unmatched';
        const labels = { method: req.method, route, status_code: String(res.statusCode) };
        this.httpRequests.inc(labels);
        this.httpDuration.observe(labels, seconds);
      });
      next();
    };
  }

  /** Apollo plugin: counts every operation, by a bounded label (operationLabel). */
  apolloPlugin(): ApolloServerPlugin<{ caller?: unknown }> {
    return {
      requestDidStart: async () => {
        const start = process.hrtime.bigint();
        return {
          willSendResponse: async (ctx) => {
            // The name the parsed document gives the operation that ran, never the request's bare operationName.
            const operationName = this.operationLabel(ctx.operation?.name?.value ?? (ctx.request.operationName ? 'other' : null), Boolean(ctx.contextValue?.caller));
            const operationType = ctx.operation?.operation ?? 'unknown';
            const outcome = ctx.errors?.length ? 'error' : 'success';
            this.graphqlOperations.inc({ operation_name: operationName, operation_type: operationType, outcome });
            this.graphqlDuration.observe({ operation_name: operationName, operation_type: operationType }, Number(process.hrtime.bigint() - start) / 1e9);
          },
        };
      },
    };
  }

  /**
   * For operations that do not pass through Apollo's request pipeline (graphql-ws, and the GraphQL POSTs answered
   * by http-operations.ts): counts each by name, type
   * (query, mutation or subscription) and outcome, and observes the duration of queries and mutations
   * (`seconds`; a subscription's lifetime is not a request duration).
   */
  recordOperation(operationName: string | undefined, operationType: string, outcome: 'success' | 'error', seconds: number | undefined, authenticated: boolean) {
    const name = this.operationLabel(operationName, authenticated);
    this.graphqlOperations.inc({ operation_name: name, operation_type: operationType, outcome });
    if (seconds !== undefined) this.graphqlDuration.observe({ operation_name: name, operation_type: operationType }, seconds);
  }
}
