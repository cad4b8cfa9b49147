import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { checkBranch, checkGitUrl, redactSecrets, type GitUrlKind } from './git-url';

/**
 * The git cache: a bare local clone of one repository branch, kept under the data directory. Syncing fetches the
 * branch into `refs/streamspace/head` (no working tree: files are read as blobs by object id, so a
 * symlink in the repository is only ever a tree entry with mode 120000, never followed). The URL is
 * passed on each fetch instead of being stored as a remote, and git runs with the user's and the
 * system's git configuration ignored, a protocol allow-list, no prompts and a timeout.
 */

export type GitCredentials =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'token'; token: string; username?: string }
  | { type: 'ssh'; privateKey: string; knownHosts?: string };

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  /** Blob size in bytes (-1 for trees and submodules). */
  size: number;
  path: string;
}

export interface ChangedPath {
  status: 'A' | 'M' | 'D' | 'T';
  path: string;
}

export interface GitCacheOptions {
  timeoutMs: number;
  allowFile: boolean;
}

const SYNC_REF = 'refs/streamspace/head';

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

/** Every secret value, so messages from git can be scrubbed before anyone sees them. */
export function credentialSecrets(creds: GitCredentials): string[] {
  switch (creds.type) {
    case 'basic':
      return [creds.password, Buffer.from(`${creds.username}:${creds.password}`).toString('base64')];
    case 'token':
      return [creds.token, Buffer.from(`${creds.username ?? 'x-access-token'}:${creds.token}`).toString('base64')];
    case 'ssh':
      return [creds.privateKey];
    default:
      return [];
  }
}

export class GitCache {
  constructor(
    readonly dir: string,
    private readonly options: GitCacheOptions,
  ) {}

  private baseEnv(): Record<string, string> {
    const protocols = ['https', 'ssh', ...(this.options.allowFile ? ['file'] : [])];
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: protocols.join(':'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    };
  }

  private git(env: Record<string, string> = {}): SimpleGit {
    const allEnv = { ...this.baseEnv(), ...env };
    return simpleGit({
      baseDir: this.dir,
      timeout: { block: this.options.timeoutMs },
      allowEnvironment: Object.keys(allEnv).filter((k) => k.startsWith('GIT_')),
      unsafe: {
        // Only for the values this class sets itself (isolated config, credential header, ssh key).
        allowUnsafeConfigPaths: true,
        allowUnsafeConfigEnvCount: true,
        allowUnsafeSshCommand: true,
      },
    }).env(allEnv);
  }

  /** Creates the bare repository on first use. */
  async ensure(): Promise<void> {
    if (fs.existsSync(path.join(this.dir, 'HEAD'))) return;
    fs.mkdirSync(this.dir, { recursive: true });
    await this.git().raw(['init', '--quiet', '--bare']);
  }

  /**
   * Fetches `branch` from `url` and returns the commit it points at. An ssh URL needs `knownHosts` (the pinned
   * host keys: the repository's, its Secret's and the platform's known_hosts lines): ssh runs with
   * StrictHostKeyChecking=yes against exactly those, so an unknown or changed host key fails the fetch.
   */
  async fetch(url: string, branch: string, creds: GitCredentials, knownHosts = ''): Promise<string> {
    const kind = checkGitUrl(url, { allowFile: this.options.allowFile });
    checkBranch(branch);
    const { env, cleanup } = authEnvironment(url, kind, creds, knownHosts);
    try {
      await this.ensure();
      await this.git(env).raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--', url, `+refs/heads/${branch}:${SYNC_REF}`]);
    } catch (err) {
      const message = (err as Error).message.trim();
      if (kind === 'ssh' && /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No [A-Z0-9-]+ host key is known for/i.test(message)) {
        throw new GitError(
          `the ssh host key of ${sshHost(url)} does not match the pinned known_hosts (host key verification failed): ` +
            'check the server\'s fingerprint and update the repository\'s knownHosts; nothing was fetched',
        );
      }
      throw new GitError(redactSecrets(`git fetch failed: ${message}`, credentialSecrets(creds)));
    } finally {
      cleanup();
    }
    return this.head();
  }

  async head(): Promise<string> {
    const sha = (await this.git().raw(['rev-parse', '--verify', '--end-of-options', `${SYNC_REF}^{commit}`])).trim();
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitError(`unexpected commit id "${sha}"`);
    return sha;
  }

  async hasCommit(sha: string): Promise<boolean> {
    if (!/^[0-9a-f]{40,64}$/.test(sha)) return false;
    try {
      await this.git().raw(['cat-file', '-e', `${sha}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /** Every blob and submodule of the commit (recursive), with sizes. */
  async listTree(commit: string): Promise<TreeEntry[]> {
    const out = await this.git().raw(['ls-tree', '-r', '-z', '-l', '--full-tree', commit]);
    const entries: TreeEntry[] = [];
    for (const record of out.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const [mode, type, oid, size] = record.slice(0, tab).split(/ +/);
      entries.push({ mode, type, oid, size: size === '-' ? -1 : Number(size), path: record.slice(tab + 1) });
    }
    return entries;
  }

  /** Paths changed between two commits (`git diff --name-status`, renames as delete + add). */
  async diff(from: string, to: string): Promise<ChangedPath[]> {
    const out = await this.git().raw(['diff', '--name-status', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', from, to]);
    const parts = out.split('\0');
    const changes: ChangedPath[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const status = parts[i].charAt(0) as ChangedPath['status'];
      if (!status) break;
      changes.push({ status, path: parts[i + 1] });
    }
    return changes;
  }

  /** Reads blobs by object id in one `git cat-file --batch` process. */
  async readBlobs(oids: string[]): Promise<Map<string, Buffer>> {
    const result = new Map<string, Buffer>();
    const unique = [...new Set(oids)].filter((o) => /^[0-9a-f]{40,64}$/.test(o));
    if (!unique.length) return result;
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.dir, env: this.baseEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const done = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(unique.join('\n') + '\n');
    const code = await done;
    if (code !== 0) throw new GitError(`git cat-file failed: ${stderr.trim()}`);
    const buf = Buffer.concat(chunks);
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const header = buf.toString('utf8', pos, nl).split(' ');
      pos = nl + 1;
      if (header[1] === 'missing' || header.length < 3) continue;
      const size = Number(header[2]);
      result.set(header[0], buf.subarray(pos, pos + size));
      pos += size + 1;
    }
    return result;
  }

  /** Forget everything (the URL or branch changed). */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The host (and port, as known_hosts writes it: `[host]:port`) an ssh URL connects to. */
export function sshHost(url: string): string {
  const scp = /^[^@]+@([^:]+):/.exec(url);
  if (scp && !url.includes('://')) return scp[1]!;
  try {
    const u = new URL(url);
    return u.port && u.port !== '22' ? `[${u.hostname}]:${u.port}` : u.hostname;
  } catch {
    return 'the server';
  }
}

export class NoPinnedHostKeyError extends GitError {
  constructor(url: string) {
    super(
      `ssh repository ${sshHost(url)} has no pinned host key: give the repository's knownHosts (lines from ` +
        '`ssh-keyscan`, checked against the server\'s published fingerprint), a known_hosts key in its auth Secret, or ' +
        'STREAMSPACE_GIT_SSH_KNOWN_HOSTS; unknown host keys are never accepted',
    );
    this.name = 'NoPinnedHostKeyError';
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The ssh command git runs for an ssh URL: no user or system ssh configuration, no agent or default keys (only the
 * repository's key, when it has one), no prompts, and host keys checked strictly against `knownHostsFile` alone
 * (never learned, never updated). Pure, for the unit tests.
 */
export function sshCommand(knownHostsFile: string, keyFile: string | null): string {
  return [
    'ssh',
    '-F /dev/null',
    ...(keyFile ? [`-i ${quote(keyFile)}`, '-o IdentitiesOnly=yes'] : ['-o IdentityFile=none', '-o IdentitiesOnly=yes']),
    '-o IdentityAgent=none',
    '-o BatchMode=yes',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${quote(knownHostsFile)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o UpdateHostKeys=no',
    '-o CheckHostIP=no',
  ].join(' ');
}

/**
 * Credentials reach git only through the child's environment (never argv, which other local users
 * can read, and never the repository's config on disk): an Authorization header scoped to the
 * repository's origin for basic/token, a private key in a 0600 temp file for ssh. Every ssh URL (with or without
 * a key) gets the strict ssh command and the pinned host keys; none pinned is an error before anything runs.
 */
function authEnvironment(url: string, kind: GitUrlKind, creds: GitCredentials, knownHosts: string): { env: Record<string, string>; cleanup: () => void } {
  const noop = () => undefined;
  if (kind === 'ssh') {
    if (creds.type === 'basic' || creds.type === 'token') throw new GitError(`${creds.type} authentication needs an https:// repository URL`);
    if (!knownHosts.trim()) throw new NoPinnedHostKeyError(url);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-ssh-'));
    let keyFile: string | null = null;
    if (creds.type === 'ssh') {
      keyFile = path.join(dir, 'id');
      fs.writeFileSync(keyFile, creds.privateKey.endsWith('\n') ? creds.privateKey : `${creds.privateKey}\n`, { mode: 0o600 });
    }
    const knownHostsFile = path.join(dir, 'known_hosts');
    fs.writeFileSync(knownHostsFile, `${knownHosts.trim()}\n`, { mode: 0o600 });
    return { env: { GIT_SSH_COMMAND: sshCommand(knownHostsFile, keyFile) }, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  if (creds.type === 'none') return { env: {}, cleanup: noop };
  if (creds.type === 'ssh') throw new GitError('ssh authentication needs an ssh repository URL (ssh://host/path or user@host:path)');
  let origin: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:') throw new Error('not https');
    origin = `${u.protocol}//${u.host}/`;
  } catch {
    throw new GitError(`${creds.type} authentication needs an https:// repository URL`);
  }
  const user = creds.type === 'basic' ? creds.username : (creds.username ?? 'x-access-token');
  const pass = creds.type === 'basic' ? creds.password : creds.token;
  const header = `Authorization: Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  return {
    env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${origin}.extraHeader`, GIT_CONFIG_VALUE_0: header },
    cleanup: noop,
  };
}
