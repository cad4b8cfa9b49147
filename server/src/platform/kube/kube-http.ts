import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * A raw request to the API server with the credentials of a KubeConfig (token, client certificate, exec plugin,
 * in-cluster token file, CA). The generated API clients cover resources; this covers what they do not: streaming
 * watches with full control over timeouts and errors, paged lists of arbitrary paths, and /version or /readyz.
 */
export interface KubeRequestOptions {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Abort before or during the request. */
  signal?: AbortSignal;
  /** Socket idle timeout: the request fails when no byte arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
}

/** An HTTP answer other than 2xx, carrying the API server's Status (code, reason, message) when it sent one. */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
    /** The API server's own message (its Status), without the code and reason. */
    readonly statusMessage: string = message,
  ) {
    super(message);
    this.name = 'KubeHttpError';
  }
}

/** Whether `err` means "resource version too old / expired" (HTTP or watch-event 410 Gone). */
export function isGone(err: unknown): boolean {
  return err instanceof KubeHttpError && err.statusCode === 410;
}

/** Opens a GET and resolves with the response once the headers arrived; non-2xx answers reject with KubeHttpError. */
export async function kubeGetStream(kubeConfig: KubeConfig, path: string, options: KubeRequestOptions = {}): Promise<http.IncomingMessage> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));

  const requestOptions: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'http:' ? http : https;

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError());
      return;
    }
    const req = transport.request(url, requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        resolve(res);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 65536) body += c; // a Status is small; do not buffer an unexpected huge body
      });
      res.on('error', reject);
      res.on('end', () => reject(statusError(status, body)));
    });
    const onAbort = () => req.destroy(abortError());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // The agent is the KubeConfig's shared keep-alive pool (kube-agent.ts): the socket goes back to it, or closes
    // with a destroyed request; the agent itself is never closed here.
    req.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    req.setTimeout(options.idleTimeoutMs ?? 30_000, () => req.destroy(new Error(`no data from ${url.host} for ${options.idleTimeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A GET whose JSON body is parsed and returned. */
export function kubeGetJson<T>(kubeConfig: KubeConfig, path: string, options: KubeRequestOptions = {}): Promise<T> {
  return kubeRequest<T>(kubeConfig, 'GET', path, options);
}

export interface KubeSendOptions extends KubeRequestOptions {
  /** Sent as JSON (exactly as given: no model drops unknown fields or rewrites timestamps). */
  body?: unknown;
  /** Of the body: application/json (default), application/merge-patch+json, application/json-patch+json, ... */
  contentType?: string;
}

/**
 * One request to the API server with the KubeConfig's credentials, JSON in and out: what the custom resource
 * clients (streamspace-api.ts) and the admin console's writes use. client-node's generated clients cost about 50 KB
 * of garbage and 0.3 ms more CPU per call (node-fetch, its header objects, the model serializer) than this, and a
 * connect makes three such writes. Non-2xx answers reject with KubeHttpError (read it with kube-errors.ts).
 */
export async function kubeRequest<T>(
  kubeConfig: KubeConfig,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: KubeSendOptions = {},
): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
  const requestOptions: https.RequestOptions = {
    method,
    headers: payload
      ? { Accept: 'application/json', 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(payload.length) }
      : { Accept: 'application/json' },
  };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'http:' ? http : https;
  const timeoutMs = options.idleTimeoutMs ?? 30_000;
  return new Promise<T>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError());
      return;
    }
    const req = transport.request(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(statusError(status, text));
        try {
          resolve((text ? JSON.parse(text) : {}) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    const onAbort = () => req.destroy(abortError());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // The agent is the KubeConfig's shared keep-alive pool (kube-agent.ts): the socket goes back to it.
    if (options.signal) req.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Builds the error for a non-2xx answer from its body (a metav1.Status, usually). */
export function statusError(statusCode: number, body: string): KubeHttpError {
  let reason: string | undefined;
  let message = body.trim().slice(0, 500) || http.STATUS_CODES[statusCode] || 'error';
  try {
    const status = JSON.parse(body) as { reason?: string; message?: string };
    reason = status.reason;
    if (status.message) message = status.message;
  } catch {
    // not JSON; keep the text
  }
  return new KubeHttpError(statusCode, reason, `${statusCode}${reason ? ` ${reason}` : ''}: ${message}`, message);
}

function abortError(): Error {
  const err = new Error('request aborted');
  err.name = 'AbortError';
  return err;
}
