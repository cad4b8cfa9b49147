import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  /** PEM of the CA certificate (what a client must trust). */
  caPem: string;
  /** PEM key and certificate of a server certificate for `ip`, signed by the CA. */
  keyPem: string;
  certPem: string;
}

/** A throw-away CA and a serving certificate for one IP address (openssl, in `dir`). */
export async function makeTestCa(dir: string, ip: string): Promise<TestCa> {
  const f = (name: string) => path.join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=StreamSpace test git CA']);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('git.key'), '-out', f('git.csr'), '-subj', `/CN=${ip}`]);
  await run('bash', ['-c', `printf 'subjectAltName=IP:${ip}\\nextendedKeyUsage=serverAuth\\n' > '${f('ext.cnf')}'`]);
  await run('openssl', ['x509', '-req', '-in', f('git.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('git.crt'), '-days', '2', '-extfile', f('ext.cnf')]);
  const [caPem, keyPem, certPem] = await Promise.all(['ca.crt', 'git.key', 'git.crt'].map((n) => readFile(f(n), 'utf8')));
  return { caPem, keyPem, certPem };
}

/**
 * Git's smart HTTP protocol over HTTPS for the repositories under `projectRoot` (`git http-backend` as a CGI
 * program per request), listening on `host`. Fetch only. Returns the base URL and a stop function.
 */
export async function serveGitOverHttps(projectRoot: string, host: string, tls: TestCa): Promise<{ base: string; requests: string[]; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://git.invalid');
    requests.push(`${req.method} ${url.pathname}`);
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: req.socket.remoteAddress ?? '',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let streaming = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (streaming) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sep = 2;
      }
      if (end < 0) return;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      streaming = true;
      res.write(head.subarray(end + sep));
    });
    child.on('close', () => res.end());
    child.on('error', () => {
      res.statusCode = 500;
      res.end();
    });
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    base: `https://${host}:${port}`,
    requests,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
