import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Distinct operation names labelled before new ones are counted together (the clients' own are far fewer). */
export const MAX_OPERATION_NAMES = 500;
const OTHER_OPERATIONS = '(other)';

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

  /**
   * Operation names seen so far (label values). Clients choose them, so each new name would add series (a histogram's
   * are a dozen) for as long as the process lives: beyond MAX_OPERATION_NAMES, new names are counted as `(other)`.
   */
  private readonly operationNames = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The label value for an operation name: itself (capped in length) while fewer than MAX_OPERATION_NAMES are known. */
  operationLabel(operationName: string | null | undefined): string {
    const name = (operationName ?? 'anonymous').slice(0, 64);
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return OTHER_OPERATIONS;
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

  /** Apollo plugin: counts every operation; names are capped in length and number to bound label values. */
  apolloPlugin(): ApolloServerPlugin {
    return {
      requestDidStart: async () => {
        const start = process.hrtime.bigint();
        return {
          willSendResponse: async (ctx) => {
            const operationName = this.operationLabel(ctx.operationName ?? ctx.request.operationName);
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
   * For graphql-ws operations, which do not pass through Apollo's request pipeline: counts each by name, type
   * (query, mutation or subscription) and outcome, and observes the duration of queries and mutations
   * (`seconds`; a subscription's lifetime is not a request duration).
   */
  recordWsOperation(operationName: string | undefined, operationType: string, outcome: 'success' | 'error', seconds?: number) {
    const name = this.operationLabel(operationName);
    this.graphqlOperations.inc({ operation_name: name, operation_type: operationType, outcome });
    if (seconds !== undefined) this.graphqlDuration.observe({ operation_name: name, operation_type: operationType }, seconds);
  }
}
