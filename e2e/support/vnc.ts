import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { artifactDir } from './artifacts'
import { freePort } from './server'
import { waitFor } from './wait'

/**
 * A real VNC desktop on loopback for the desktop session view: TigerVNC's Xvnc (an X server that speaks RFB)
 * behind websockify, the WebSocket-to-TCP bridge noVNC talks to. It stands in for a desktop pod and the ingress
 * in front of it: kwok pods run no containers, so the session's URL is pointed here (path ingress mode).
 * Debian packages: tigervnc-standalone-server, websockify, x11-xserver-utils (.ci/run installs them).
 */
export interface VncDesktop {
  /** `localhost:<port>` where websockify listens (any path is bridged to the desktop); Ingress hosts cannot be IPs. */
  readonly host: string
  /** Paints the desktop's background, e.g. `#3366cc`. */
  paint(color: string): void
  /** Stops the X server (the desktop goes away; websockify stays, as an ingress would). */
  stopDisplay(): Promise<void>
  /** Starts the X server again on the same display and port. */
  startDisplay(): Promise<void>
  stop(): Promise<void>
}

const TOOLS = { Xvnc: 'tigervnc-standalone-server', websockify: 'websockify', xsetroot: 'x11-xserver-utils' } as const

function missingTools(): string[] {
  return Object.entries(TOOLS)
    .filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
    .map(([tool, pkg]) => `${tool} (apt-get install -y ${pkg})`)
}

function freeDisplay(): number {
  for (let n = 100 + (process.pid % 300); n < 1000; n++) {
    if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n
  }
  throw new Error('no free X display number')
}

async function listening(port: number): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startVncDesktop(name: string): Promise<VncDesktop> {
  const missing = missingTools()
  if (missing.length) throw new Error(`The desktop e2e needs a VNC server and bridge; missing: ${missing.join(', ')}`)
  const display = freeDisplay()
  const rfbPort = await freePort()
  const wsPort = await freePort()
  const logFd = openSync(join(artifactDir(name), 'vnc.log'), 'a')
  const children = new Set<ChildProcess>()
  const run = (command: string, args: string[]): ChildProcess => {
    const child = spawn(command, args, { stdio: ['ignore', logFd, logFd] })
    children.add(child)
    child.once('exit', () => children.delete(child))
    return child
  }
  const ended = (child: ChildProcess | undefined): Promise<unknown> =>
    !child || child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r))
  let xvnc: ChildProcess | undefined
  const startDisplay = async (): Promise<void> => {
    xvnc = run('Xvnc', [`:${display}`, '-rfbport', String(rfbPort), '-localhost', 'yes', '-SecurityTypes', 'None', '-geometry', '1280x720', '-depth', '24', '-nolisten', 'tcp'])
    await waitFor('Xvnc to listen', async () => ((await listening(rfbPort)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 })
  }
  const stopDisplay = async (): Promise<void> => {
    const child = xvnc
    child?.kill('SIGTERM')
    await ended(child)
  }
  const stop = async (): Promise<void> => {
    const all = [...children]
    for (const child of all) child.kill('SIGTERM')
    await Promise.all(all.map(ended))
    try {
      closeSync(logFd)
    } catch {
      // already closed
    }
  }
  try {
    await startDisplay()
    run('websockify', [`127.0.0.1:${wsPort}`, `127.0.0.1:${rfbPort}`])
    await waitFor('websockify to listen', async () => ((await listening(wsPort)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 })
  } catch (error) {
    await stop()
    throw error
  }
  return {
    host: `localhost:${wsPort}`,
    paint(color: string) {
      const result = spawnSync('xsetroot', ['-solid', color], { env: { ...process.env, DISPLAY: `:${display}` }, encoding: 'utf8' })
      if (result.status !== 0) throw new Error(`xsetroot failed: ${result.stderr}`)
    },
    stopDisplay,
    startDisplay,
    stop,
  }
}
