import { AppError, ErrorCode } from '../graphql/errors';
import { KubeHttpError } from './kube-http';

/**
 * The one way to read a Kubernetes failure. client-node's generated clients throw ApiException (`code`), the raw
 * requests of kube-http.ts throw KubeHttpError (`statusCode`), and older paths carry `response.statusCode`.
 */
export function kubeStatusCode(err: unknown): number | undefined {
  if (err instanceof KubeHttpError) return err.statusCode;
  const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } } | null | undefined;
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === 'number') return v;
  return undefined;
}

/** The object does not exist (HTTP 404). */
export const isNotFound = (err: unknown): boolean => kubeStatusCode(err) === 404;

/** Already exists, or a stale resourceVersion (HTTP 409). */
export const isConflict = (err: unknown): boolean => kubeStatusCode(err) === 409;

/** The API server's own message of a failure (its Status body), else the error's message. */
export function kubeMessage(err: unknown): string {
  if (err instanceof KubeHttpError) return err.statusMessage;
  const body = (err as { body?: unknown } | null | undefined)?.body;
  try {
    const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string } | undefined);
    return parsed?.message ?? String(err);
  } catch {
    return String(err);
  }
}

/**
 * The answer of every API that needs Kubernetes when the server runs without a cluster (STREAMSPACE_CLUSTER=none).
 * `unavailable` names what is missing for the caller, e.g. "sessions and templates".
 */
export function noCluster(unavailable?: string): AppError {
  return new AppError(
    ErrorCode.SERVICE_UNAVAILABLE,
    `No Kubernetes cluster is configured (STREAMSPACE_CLUSTER=none)${unavailable ? `; ${unavailable} are unavailable` : ''}`,
  );
}
