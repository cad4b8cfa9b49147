import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitUntil } from '../support/wait';

export const SSHD = '/usr/sbin/sshd';

/**
 * A real OpenSSH server on a loopback port, with its own host key and one authorized client key, serving git
 * (git-upload-pack) for repositories on this machine. Everything lives in a temp dir; only sshd's privilege
 * separation directory (/run/sshd, what Debian's openssh-server creates at boot) is made when it is missing.
 */
export class TestSshd {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-sshd-'));
  readonly user = os.userInfo().username;
  port = 0;
  private child: ChildProcess | null = null;
  private log = '';

  constructor() {
    if (!fs.existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (.ci/run does)`);
    this.keygen('client');
    fs.copyFileSync(this.file('client.pub'), this.file('authorized_keys'));
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** Makes an ed25519 key pair `name` / `name.pub` in the temp dir. */
  keygen(name: string): void {
    if (!fs.existsSync(this.file(name))) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', this.file(name)]);
  }

  get clientKey(): string {
    return fs.readFileSync(this.file('client'), 'utf8');
  }

  /** The known_hosts line of host key `name` for this server's address (as `ssh-keyscan -p PORT 127.0.0.1` prints it). */
  knownHostsLine(name: string): string {
    this.keygen(name);
    const [type, key] = fs.readFileSync(this.file(`${name}.pub`), 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${this.port} ${type} ${key}`;
  }

  url(repoDir: string): string {
    return `ssh://${this.user}@127.0.0.1:${this.port}${repoDir}`;
  }

  /** Starts sshd with host key `hostKey` (on the same port as before, when restarted). */
  async start(hostKey: string): Promise<void> {
    this.keygen(hostKey);
    if (!this.port) this.port = await freePort();
    if (process.getuid?.() === 0 && !fs.existsSync('/run/sshd')) fs.mkdirSync('/run/sshd', { mode: 0o755 });
    fs.writeFileSync(
      this.file('sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.file(hostKey)}`,
        `PidFile ${this.file('sshd.pid')}`,
        `AuthorizedKeysFile ${this.file('authorized_keys')}`,
        // The temp dir is under /tmp (world-writable), which StrictModes would refuse.
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        `AllowUsers ${this.user}`,
        '',
      ].join('\n'),
    );
    this.log = '';
    const child = spawn(SSHD, ['-D', '-e', '-f', this.file('sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (this.log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    this.child = child;
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${this.log}`);
      return this.log.includes('Server listening');
    }, `sshd to listen on 127.0.0.1:${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
