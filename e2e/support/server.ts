import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { expect } from 'chai'
import { artifactDir } from './artifacts'
import { waitFor } from './wait'

const REPO_ROOT = resolve(__dirname, '..', '..')
/** The server as `npm run build` leaves it; the e2e tests run the real build, not the sources. */
export const SERVER_MAIN = join(REPO_ROOT, 'server', 'dist', 'server', 'src', 'main.js')

const START_TIMEOUT_MS = 90000
const STOP_TIMEOUT_MS = 30000

export interface ServerExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly origin: string
  readonly port: number
  readonly logFile: string
  /** Sends SIGTERM and waits for the process to exit; kills it and throws if it does not exit in time. */
  stop(): Promise<ServerExit>
}

export interface StartServerOptions {
  /** Names the artifacts folder that receives `server.log`. */
  name: string
  /** Extra environment variables, e.g. `{ STREAMSPACE_GRAPHQL_IDE: 'false' }`. */
  env?: Record<string, string>
  /** How long to wait for /healthz and /readyz (default 90 s; a local control plane needs longer). */
  startTimeoutMs?: number
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port)
        else reject(new Error('Could not find a free port'))
      })
    })
  })
}

function serverEnvironment(port: number, dataDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  // Start from the caller's environment minus anything that would point the server elsewhere:
  // with no DATABASE_URL the server runs its own embedded PostgreSQL in STREAMSPACE_DATA_DIR.
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'DATABASE_URL' || key === 'PORT' || key === 'LOG_LEVEL' || key.startsWith('STREAMSPACE_')) continue
    env[key] = value
  }
  return {
    ...env,
    PORT: String(port),
    STREAMSPACE_DATA_DIR: dataDir,
    STREAMSPACE_CLUSTER: 'none',
    // Local mode stays simulated unless a test asks for the real node (STREAMSPACE_LOCAL_REAL_NODE: 'auto').
    STREAMSPACE_LOCAL_REAL_NODE: 'off',
    // The session gateway on a free port (its apps domain follows: apps.localhost:<that port>).
    STREAMSPACE_GATEWAY_PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  }
}

function logTail(logFile: string, lines = 40): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

async function statusOf(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  await response.body?.cancel()
  return response.status
}

function exitOf(child: ChildProcess): Promise<ServerExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })))
}

/** Processes still running if mocha itself dies; killed on the way out so no server outlives the run. */
const running = new Set<ChildProcess>()

/** Servers started and not yet stopped, by artifact name: a failing test prints their logs (support/diagnostics.ts). */
const liveServers = new Map<string, string>()
export function liveServerLogs(): { name: string; logFile: string }[] {
  return [...liveServers].map(([name, logFile]) => ({ name, logFile }))
}
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * Starts `node server/dist/server/src/main.js` on a free port with a fresh data directory and waits until
 * `/healthz` and `/readyz` both answer 200. Its stdout and stderr go to `e2e/artifacts/<name>/server.log`.
 */
export async function startServer({ name, env = {}, startTimeoutMs = START_TIMEOUT_MS }: StartServerOptions): Promise<RunningServer> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} does not exist: build the server first (npm run build)`)
  }
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const dataDir = await mkdtemp(join(tmpdir(), 'streamspace-e2e-data-'))
  const logFile = join(artifactDir(name), 'server.log')
  const logFd = openSync(logFile, 'w')

  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: REPO_ROOT,
    env: serverEnvironment(port, dataDir, env),
    stdio: ['ignore', logFd, logFd],
  })
  closeSync(logFd)
  running.add(child)
  const exited = exitOf(child)
  liveServers.set(name, logFile)
  void exited.then(() => {
    running.delete(child)
    liveServers.delete(name)
  })

  const cleanUp = async (): Promise<void> => {
    await rm(dataDir, { recursive: true, force: true })
  }

  const stop = async (): Promise<ServerExit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = new Promise<'timeout'>((resolveTimer) => setTimeout(() => resolveTimer('timeout'), STOP_TIMEOUT_MS).unref())
    const outcome = await Promise.race([exited, timer])
    if (outcome === 'timeout') {
      child.kill('SIGKILL')
      await exited
      await cleanUp()
      throw new Error(`The server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed). Log: ${logFile}\n${logTail(logFile)}`)
    }
    await cleanUp()
    return outcome
  }

  try {
    await Promise.race([
      waitFor(
        `${origin}/healthz and /readyz to answer 200`,
        async () => {
          const health = await statusOf(`${origin}/healthz`)
          if (health !== 200) throw new Error(`/healthz answered ${health}`)
          const ready = await statusOf(`${origin}/readyz`)
          if (ready !== 200) throw new Error(`/readyz answered ${ready}`)
          return true
        },
        { timeoutMs: startTimeoutMs, intervalMs: 250 },
      ),
      exited.then(({ code, signal }) => {
        throw new Error(`The server exited during start-up (code ${code}, signal ${signal})`)
      }),
    ])
  } catch (error) {
    await stop().catch(() => undefined)
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`${message}. Log: ${logFile}\n${logTail(logFile)}`, { cause: error })
  }

  return { origin, port, logFile, stop }
}

/** Stops a started server with SIGTERM and expects it to exit 0 (a graceful shutdown); nothing when it never started. */
export async function stopCleanly(server: RunningServer | undefined): Promise<void> {
  if (!server) return
  const exit = await server.stop()
  expect(exit, `server exit after SIGTERM (log: ${server.logFile})`).to.deep.equal({ code: 0, signal: null })
}
