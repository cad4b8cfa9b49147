import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { freePort } from './server'

/**
 * A path-routing ingress for sessions on the local cluster's real node, in the test process: the local cluster
 * has no ingress controller, so `http://localhost:<port>/sessions/<session>/...` (the session URLs of
 * STREAMSPACE_SESSION_INGRESS=path) is forwarded, WebSocket upgrades included, to the session's Service,
 * whose ClusterIP the host reaches through kube-proxy's rules. `resolve` maps a session name to `ip:port`.
 */
export interface SessionIngress {
  /** `localhost:<port>`, for STREAMSPACE_SESSION_HOST. */
  readonly host: string
  resolve: (session: string) => Promise<{ host: string; port: number }>
  stop(): Promise<void>
}

const SESSION_PATH = /^\/sessions\/([a-z0-9-]+)\//

export async function startSessionIngress(): Promise<SessionIngress> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  const ingress: SessionIngress = {
    host: `localhost:${port}`,
    resolve: async () => {
      throw new Error('no resolver set')
    },
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
  const target = async (req: IncomingMessage) => {
    const m = SESSION_PATH.exec(req.url ?? '')
    if (!m) throw new Error(`not a session path: ${req.url}`)
    return ingress.resolve(m[1]!)
  }
  const server: Server = createServer((req, res) => {
    // As for upgrades below: a Service that just got its endpoint may not have kube-proxy's rules yet, so a
    // request without a body (GET/HEAD) whose connection fails is retried for a while before answering 502.
    const retriable = req.method === 'GET' || req.method === 'HEAD'
    const deadline = Date.now() + 15_000
    const fail = (err: Error) => {
      if (retriable && !res.headersSent && Date.now() < deadline) setTimeout(attempt, 250)
      else if (!res.headersSent) res.writeHead(502).end(err.message)
      else res.destroy(err)
    }
    const attempt = (): void => {
      target(req).then(
        (t) => {
          const upstream = httpRequest({ host: t.host, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          })
          upstream.on('error', fail)
          if (retriable) upstream.end()
          else req.pipe(upstream)
        },
        fail,
      )
    }
    attempt()
  })
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client)
    client.once('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    // Like an ingress controller retrying the next upstream: a Service that just got its endpoint may not have
    // kube-proxy's rules yet (they follow within a second or two), so connect errors are retried for a while.
    const deadline = Date.now() + 15_000
    const attempt = (): void => {
      target(req).then(
        (t) => {
          const upstream = connect(t.port, t.host)
          upstream.setTimeout(3000, () => upstream.destroy(new Error('connect timeout')))
          let connected = false
          upstream.once('connect', () => {
            connected = true
            upstream.setTimeout(0)
            sockets.add(upstream)
            upstream.once('close', () => sockets.delete(upstream))
            upstream.on('error', () => client.destroy())
            client.on('error', () => upstream.destroy())
            client.once('close', () => upstream.destroy())
            const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
            for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
            upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
            if (head.length) upstream.write(head)
            upstream.pipe(client)
            client.pipe(upstream)
          })
          upstream.once('error', (err) => {
            if (!connected) retry(err)
          })
        },
        (err: Error) => retry(err),
      )
    }
    const retry = (err: Error): void => {
      if (client.destroyed) return
      if (Date.now() > deadline) {
        process.stderr.write(`[session-ingress] ${req.url}: ${err.message}\n`)
        client.destroy()
        return
      }
      setTimeout(attempt, 250)
    }
    attempt()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return ingress
}
