import { readFile } from 'node:fs/promises'
import { request } from 'node:https'

/**
 * Creates an object on a local cluster the server under test started, as its admin (the kubeconfig the local
 * cluster writes: server, CA, bearer token), for setups the admin console does not offer (a LimitRange).
 * Answers the HTTP status; the caller decides which ones it retries (404 while the namespace does not exist yet).
 */
export async function createKubeObject(kubeconfigPath: string, path: string, body: unknown): Promise<number> {
  const text = await readFile(kubeconfigPath, 'utf8')
  const server = /server:\s*(\S+)/.exec(text)?.[1]
  const ca = /certificate-authority-data:\s*(\S+)/.exec(text)?.[1]
  const token = /token:\s*(\S+)/.exec(text)?.[1]
  if (!server || !ca || !token) throw new Error(`${kubeconfigPath} has no server, CA or token`)
  const url = new URL(path, server)
  const payload = JSON.stringify(body)
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: Buffer.from(ca, 'base64'),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
