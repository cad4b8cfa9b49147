import { AppError, ErrorCode } from '../../platform/graphql/errors';
import { kubeStatusCode } from '../../platform/kube/kube-errors';
import { KubeHttpError } from '../../platform/kube/kube-http';
import { scrubSecretMessage } from './cluster-manifest';

export const unknownKind = (kind: string) => new AppError(ErrorCode.BAD_USER_INPUT, `kind "${kind}" is not one the admin API manages`, { kind });

/**
 * A write of a kind outside the write allow-list (cluster-kinds.ts): every kind can be read through discovery, but
 * only the allow-listed ones can be changed. `details.reason` is KindNotWritable; `details.writableKinds` lists them.
 */
export const kindNotWritable = (kind: string, writableKinds: string[], problems: string[]) =>
  new AppError(
    ErrorCode.BAD_USER_INPUT,
    `kind "${kind}" is not on the admin console's write allow-list (it can be read, not changed; writable: ${writableKinds.join(', ')})${problems.length > 1 ? `. Also: ${problems.filter((p) => !p.startsWith('kind "')).join('; ')}` : ''}`,
    { reason: 'KindNotWritable', kind, writableKinds, problems },
  );

export const invalidManifest = (problems: string[]) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `The manifest is not valid: ${problems.join('; ')}`, { problems });

/** Status code and message of a failure of the API server (KubeHttpError, ApiException), if it is one. */
export function kubeFailure(err: unknown): { status: number; message: string } | null {
  if (err instanceof KubeHttpError) return { status: err.statusCode, message: err.message };
  const status = kubeStatusCode(err);
  if (status === undefined || status < 100 || status > 599) return null;
  const e = err as { body?: unknown; message?: string };
  let message = e.message ?? String(err);
  try {
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
    if (body?.message) message = body.message;
  } catch {
    // keep the exception's message
  }
  return { status, message };
}

/**
 * Maps an API server failure to the API's error model. The API server's own message is kept (it is what an
 * admin needs: "pods "x" not found", a validation error, "error dialing backend"), scrubbed of values for
 * Secrets. Anything that is not an API server answer (a bug) is rethrown and masked.
 */
export function fromKube(err: unknown, options: { what: string; secret?: boolean }): Error {
  if (err instanceof AppError) return err;
  const failure = kubeFailure(err);
  if (!failure) return err instanceof Error ? err : new Error(String(err));
  const message = options.secret ? scrubSecretMessage(failure.message) : failure.message;
  const details = { status: failure.status };
  // Server-side apply answers 500 when the manifest does not fit the kind's schema (a field that does not exist,
  // a wrong type): that is the manifest's fault, not the server's.
  if (failure.status === 500 && /failed to create typed patch object/.test(failure.message)) {
    return new AppError(ErrorCode.BAD_USER_INPUT, `Kubernetes refused ${options.what}: ${message}`, details);
  }
  switch (failure.status) {
    case 400:
    case 422:
      return new AppError(ErrorCode.BAD_USER_INPUT, `Kubernetes refused ${options.what}: ${message}`, details);
    case 403:
      return new AppError(ErrorCode.FORBIDDEN, `The StreamSpace service account may not do ${options.what}: ${message}`, details);
    case 404:
      return new AppError(ErrorCode.NOT_FOUND, `${options.what}: ${message}`, details);
    case 409:
      return new AppError(ErrorCode.CONFLICT, `Kubernetes refused ${options.what}: ${message}`, details);
    case 410:
      return new AppError(ErrorCode.BAD_USER_INPUT, 'The list changed too much since the first page (its continue token expired); start again from the first page', details);
    default:
      return new AppError(ErrorCode.SERVICE_UNAVAILABLE, `Kubernetes could not do ${options.what}: ${message}`, details);
  }
}
