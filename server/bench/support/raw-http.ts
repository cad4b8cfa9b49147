import net from 'node:net';

/**
 * A lean HTTP/1.1 load client for the benches: keep-alive raw sockets, pre-built request bytes, responses framed by
 * Content-Length (or chunked), no HTTP client library. Like wrk, what it costs per request is small and the same for
 * every target, so a figure measures the server, not a heavy client (fetch costs a server-sized share of the CPU
 * per request on a machine of two cores).
 */

const HEADER_END = Buffer.from('\r\n\r\n');

/** The length of the complete response at the start of buf (head + body) and its status; null while incomplete. */
export function responseLength(buf: Buffer): { length: number; status: number; bodyStart: number } | null {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const bodyStart = end + 4;
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (cl) {
    const length = bodyStart + Number(cl[1]);
    return buf.length >= length ? { length, status, bodyStart } : null;
  }
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const last = buf.indexOf('\r\n0\r\n\r\n', end + 2);
    if (last >= 0) return { length: last + 7, status, bodyStart };
    if (buf.indexOf('0\r\n\r\n', bodyStart) === bodyStart) return { length: end + 9, status, bodyStart };
    return null;
  }
  throw new Error(`a response without length: ${head.split('\r\n')[0]}`);
}

/** A request's bytes: method, path, headers (Host first) and an optional body with its Content-Length. */
export function requestBytes(method: string, path: string, host: string, headers: Record<string, string>, body?: string): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (body === undefined) return Buffer.from(`${head}\r\n`, 'latin1');
  const payload = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${payload.length}\r\n\r\n`, 'latin1'), payload]);
}

export interface RawResponse {
  status: number;
  /** The body as sent (still chunk-framed when the answer was chunked). */
  body: Buffer;
}

interface Conn {
  socket: net.Socket;
  buf: Buffer | null;
  waiting: { resolve(r: RawResponse): void; reject(e: Error): void } | null;
}

/** Up to `connections` keep-alive sockets to one server, one request at a time on each; further requests queue. */
export class RawHttpClient {
  private readonly idle: Conn[] = [];
  private readonly all: Conn[] = [];
  private readonly queue: { bytes: Buffer; resolve(r: RawResponse): void; reject(e: Error): void }[] = [];

  constructor(
    private readonly port: number,
    private readonly connections: number,
    private readonly hostAddress = '127.0.0.1',
  ) {}

  request(bytes: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const conn = this.idle.pop() ?? (this.all.length < this.connections ? this.open() : null);
      if (conn) this.send(conn, bytes, resolve, reject);
      else this.queue.push({ bytes, resolve, reject });
    });
  }

  close(): void {
    for (const c of this.all.splice(0)) c.socket.destroy();
    this.idle.length = 0;
  }

  private open(): Conn {
    const socket = net.connect(this.port, this.hostAddress);
    socket.setNoDelay(true);
    const conn: Conn = { socket, buf: null, waiting: null };
    this.all.push(conn);
    const fail = (err: Error) => {
      const w = conn.waiting;
      conn.waiting = null;
      this.all.splice(this.all.indexOf(conn), 1);
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      w?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.on('data', (chunk: Buffer) => {
      conn.buf = conn.buf ? Buffer.concat([conn.buf, chunk]) : chunk;
      const r = responseLength(conn.buf);
      if (!r) return;
      const body = conn.buf.subarray(r.bodyStart, r.length);
      conn.buf = conn.buf.length > r.length ? conn.buf.subarray(r.length) : null;
      const w = conn.waiting!;
      conn.waiting = null;
      const next = this.queue.shift();
      if (next) this.send(conn, next.bytes, next.resolve, next.reject);
      else this.idle.push(conn);
      w.resolve({ status: r.status, body });
    });
    return conn;
  }

  private send(conn: Conn, bytes: Buffer, resolve: (r: RawResponse) => void, reject: (e: Error) => void) {
    conn.waiting = { resolve, reject };
    conn.socket.write(bytes);
  }
}
