import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { statusError } from '../../platform/kube/kube-http';

/**
 * A write to the API server (PATCH, DELETE, POST) with the KubeConfig's credentials, sending and returning JSON as is.
 * The generated clients pass objects through their models, which drops fields the client version does not know
 * (and turns timestamps into Dates): for server-side apply of arbitrary YAML the API server must see exactly what
 * the admin wrote, and strict field validation must be able to reject a typo.
 */
export async function kubeSend<T>(
  kubeConfig: KubeConfig,
  method: 'PATCH' | 'DELETE' | 'POST',
  path: string,
  options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string; timeoutMs?: number } = {},
): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
  const requestOptions: https.RequestOptions = {
    method,
    headers: {
      Accept: 'application/json',
      ...(payload ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(payload.length) } : {}),
    },
  };
  await kubeConfig.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'http:' ? http : https;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<T>((resolve, reject) => {
    const req = transport.request(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(statusError(status, text));
        try {
          resolve((text ? JSON.parse(text) : {}) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
