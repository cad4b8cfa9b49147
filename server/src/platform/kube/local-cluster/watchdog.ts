import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The watchdog is a separate, detached node process that outlives its owner. While the owner (the process that
 * started the control plane) lives, it only polls. Once the owner is gone without having stopped the cluster
 * (SIGKILL, a crash, an OOM kill), it SIGTERMs every process recorded in the pid file, SIGKILLs whatever is left
 * after the grace period, and deletes the run directory if it was temporary.
 *
 * It is a plain script passed to `node -e` rather than a module file, so it runs the same from src/ under
 * @swc-node/register and from compiled dist/, with no loader and no NODE_OPTIONS inherited.
 *
 * Pid reuse: every pid is recorded with its start time from /proc/<pid>/stat, and a pid whose start time
 * differs is a different process that must not be touched.
 */
const WATCHDOG_SOURCE = String.raw`
const fs = require('node:fs');
const ownerPid = Number(process.argv[1]);
const pidFile = process.argv[2];
const graceMs = Number(process.argv[3]);
// Detached already puts us outside the terminal's process group; ignore the signals a terminal or a test
// runner sends to groups anyway, so only the owner's explicit SIGTERM (clean stop) ends the watchdog early.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

function startTime(pid) {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}
function alive(pid, expectedStart) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  let stat;
  try {
    stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
  } catch {
    return true; // no /proc: kill(0) is all we can know
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return false; // exited; only its parent can reap it
  return !expectedStart || fields[19] === expectedStart;
}
function readState() {
  try {
    return JSON.parse(fs.readFileSync(pidFile, 'utf8'));
  } catch {
    return null;
  }
}
function signalAll(procs, sig) {
  for (const p of procs) {
    try { process.kill(p.pid, sig); } catch {}
  }
}
const ownerStart = startTime(ownerPid);
const timer = setInterval(() => {
  if (!fs.existsSync(pidFile)) process.exit(0);
  if (alive(ownerPid, ownerStart)) return;
  clearInterval(timer);
  const state = readState();
  if (!state) process.exit(0);
  let procs = (state.processes || []).filter((p) => alive(p.pid, p.startTime));
  signalAll(procs, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const poll = setInterval(() => {
    procs = procs.filter((p) => alive(p.pid, p.startTime));
    if (procs.length > 0 && Date.now() < deadline) return;
    clearInterval(poll);
    signalAll(procs, 'SIGKILL');
    setTimeout(() => {
      // The real node's cleanup: containers, shims, mounts, bridge and iptables outlive killed processes.
      // It must finish before the temporary root is deleted (a recursive delete must never cross a mount).
      if (Array.isArray(state.cleanup) && state.cleanup.length > 0) {
        try {
          require('node:child_process').spawnSync(state.cleanup[0], state.cleanup.slice(1), { stdio: 'ignore', timeout: 120000 });
        } catch {}
      }
      try {
        if (state.tempRoot) fs.rmSync(state.tempRoot, { recursive: true, force: true });
        else fs.rmSync(pidFile, { force: true });
      } catch {}
      process.exit(0);
    }, 200);
  }, 200);
}, 500);
`;

/** Start time of a process (clock ticks since boot) or null where /proc is unavailable. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is alive and (when known) still the process that started at `startTime`. */
export function isProcessAlive(pid: number, startTime?: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no /proc: kill(0) is all we can know
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return false; // exited, not yet reaped
  return !startTime || fields[19] === startTime;
}

/** Starts the watchdog for `pidFile`; returns its pid. It never keeps the owner's event loop alive. */
export function startWatchdog(pidFile: string, graceMs: number): number {
  const env = { ...process.env };
  // A --require of a TypeScript loader in NODE_OPTIONS would only slow the watchdog down.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(process.pid), pidFile, String(graceMs)], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the local cluster watchdog process');
  return child.pid;
}
