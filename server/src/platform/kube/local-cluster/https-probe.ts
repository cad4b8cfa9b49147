import http from 'node:http';
import https from 'node:https';

export interface ProbeResult {
  status: number;
  body: string;
}

/**
 * One GET with a short timeout, for readiness polling. Plain node:http(s) rather than the Kubernetes client,
 * because the endpoints polled here (etcd's /health, /readyz) are not API resources.
 */
export function probe(url: string, options: { ca?: string; token?: string; timeoutMs?: number; insecure?: boolean } = {}): Promise<ProbeResult> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.get(
      target,
      {
        ca: options.ca,
        rejectUnauthorized: !options.insecure,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        timeout: options.timeoutMs ?? 2000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
  });
}
