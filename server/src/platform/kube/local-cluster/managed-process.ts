import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isProcessAlive, processStartTime } from './watchdog';

/** What a component of the control plane is started with. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here, written by the child directly (no pipe through node to break). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** One entry of the pid file the watchdog reads. */
export interface RecordedProcess {
  name: string;
  pid: number;
  startTime: string | null;
}

/** Contents of the pid file: who owns the cluster and which processes belong to it. */
export interface PidFileState {
  ownerPid: number;
  ownerStartTime: string | null;
  /** Set for throw-away clusters: the watchdog deletes this directory after killing the processes. */
  tempRoot?: string;
  processes: RecordedProcess[];
  /**
   * A command the watchdog (or the next start) runs once the processes are gone, before deleting tempRoot:
   * the real node's cleanup (containers, shims, mounts, bridge, iptables), which killing processes cannot do.
   */
  cleanup?: string[];
}

let setprivChecked: boolean | undefined;

/**
 * Linux's parent-death signal makes the kernel SIGTERM a component the moment the process that spawned it dies,
 * however it dies, even SIGKILL. util-linux's setpriv sets it and then execs the component, so the pid stays the
 * component's own. Where setpriv is missing (macOS, minimal images) the watchdog alone covers the case.
 */
function hasSetpriv(): boolean {
  if (setprivChecked === undefined) {
    setprivChecked =
      process.platform === 'linux' && spawnSync('setpriv', ['--help'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  }
  return setprivChecked;
}

/** Writes the pid file that lets the watchdog (and the next start) find every process of a cluster. */
export class PidFile {
  private state: PidFileState;

  constructor(
    readonly path: string,
    tempRoot?: string,
  ) {
    this.state = { ownerPid: process.pid, ownerStartTime: processStartTime(process.pid), tempRoot, processes: [] };
  }

  /**
   * Deals with what a previous run left at this path. A live owner means the cluster is running right now in
   * another process: starting a second one on the same data would corrupt it, so refuse. A dead owner with
   * live components means that run was killed and its watchdog did not finish: reap them before starting.
   */
  static async reapStale(path: string, log: (msg: string) => void): Promise<void> {
    if (!existsSync(path)) return;
    let old: PidFileState;
    try {
      old = JSON.parse(readFileSync(path, 'utf8')) as PidFileState;
    } catch {
      rmSync(path, { force: true });
      return;
    }
    if (old.ownerPid !== process.pid && isProcessAlive(old.ownerPid, old.ownerStartTime)) {
      throw new Error(`this cluster is already running in process ${old.ownerPid} (pid file ${path}); stop it first`);
    }
    const leftovers = old.processes.filter((p) => isProcessAlive(p.pid, p.startTime));
    if (leftovers.length > 0) {
      log(`stopping processes left by an earlier run: ${leftovers.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
      for (const p of leftovers) signal(p.pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && leftovers.some((p) => isProcessAlive(p.pid, p.startTime))) {
        await sleep(100);
      }
      for (const p of leftovers) if (isProcessAlive(p.pid, p.startTime)) signal(p.pid, 'SIGKILL');
    }
    if (old.cleanup?.length) {
      log(`cleaning up after an earlier run: ${old.cleanup.join(' ')}`);
      spawnSync(old.cleanup[0]!, old.cleanup.slice(1), { stdio: 'ignore', timeout: 120_000 });
    }
    rmSync(path, { force: true });
  }

  record(name: string, pid: number): void {
    this.state.processes = this.state.processes.filter((p) => p.name !== name);
    this.state.processes.push({ name, pid, startTime: processStartTime(pid) });
    this.write();
  }

  forget(name: string): void {
    this.state.processes = this.state.processes.filter((p) => p.name !== name);
    // A component that exits while the cluster is being torn down may find its run directory already gone
    // (the stop removes it, or the user deleted the data dir): there is nothing left to record then, and a
    // throw here would crash the host before it stops the rest (its database, say).
    try {
      this.write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Sets (or clears) the command run after the processes are gone; see PidFileState.cleanup. */
  setCleanup(command: string[] | undefined): void {
    this.state.cleanup = command;
    this.write();
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }

  /** Writes the file as it stands (before the first process, so the watchdog has something to watch). */
  save(): void {
    this.write();
  }

  // Written to a temporary name and renamed, so the watchdog never reads half a file.
  private write(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2));
    renameSync(tmp, this.path);
  }
}

/**
 * A long-running child such as etcd or kube-apiserver. Knows how to stop it politely and then firmly, and
 * tells the owner when it exits on its own (a crash the launcher should report, not hide).
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> | undefined;
  private stopping = false;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  onUnexpectedExit: ((info: { code: number | null; signal: NodeJS.Signals | null }) => void) | undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly pidFile: PidFile,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Spawns the process; resolves once it exists (readiness is the caller's business). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    this.stopping = false;
    this.exitInfo = undefined;
    const [command, args] = hasSetpriv()
      ? ['setpriv', ['--pdeathsig', 'TERM', '--', this.spec.command, ...this.spec.args]]
      : [this.spec.command, this.spec.args];
    const fd = openSync(this.spec.logFile, 'a');
    try {
      writeFileSync(fd, `\n--- ${new Date().toISOString()} starting ${this.spec.name}: ${this.spec.command} ${this.spec.args.join(' ')}\n`);
      // Its own process group: a terminal's Ctrl-C reaches only the server, which then stops the components in
      // order (controllers release their lease while the API server still answers). If the server dies instead,
      // the parent-death signal and the watchdog stop them.
      const child = spawn(command, args, {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      this.child = child;
      this.exitPromise = new Promise<void>((resolve) => {
        child.once('exit', (code, sig) => {
          this.exitInfo = { code, signal: sig };
          this.pidFile.forget(this.spec.name);
          if (!this.stopping) this.onUnexpectedExit?.(this.exitInfo);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (err) => reject(new Error(`cannot start ${this.spec.name} (${this.spec.command}): ${err.message}`)));
      });
      // The running child no longer needs to keep the event loop alive on our side: the owner decides when to
      // stop, and a test runner must be able to exit even if a test forgot to.
      child.unref();
      this.pidFile.record(this.spec.name, child.pid!);
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL if the process has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    this.stopping = true;
    // Keep the event loop alive until the exit is seen, or the caller's cleanup after stop() might never run.
    child.ref();
    signal(child.pid!, 'SIGTERM');
    const exited = await Promise.race([this.exitPromise!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!exited) {
      signal(child.pid!, 'SIGKILL');
      await this.exitPromise;
    }
  }

  /** Synchronous last resort for process 'exit' handlers, where nothing can be awaited. */
  killNow(sig: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child?.pid && !this.exitInfo) {
      this.stopping = true;
      signal(this.child.pid, sig);
    }
  }

  /** The last lines of the component's log, for error messages. */
  logTail(lines = 25): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
