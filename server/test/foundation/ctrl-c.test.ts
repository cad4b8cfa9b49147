import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { waitUntil } from '../support/wait';

const serverDir = path.resolve(__dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe('Ctrl-C in a terminal (SIGINT to the whole process group)', () => {
  it('reaches only the server, which stops its embedded PostgreSQL last: clean exit 0, no warnings, nothing left', async function () {
    this.timeout(120_000);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-ctrlc-'));
    const port = await freePort();
    // Its own process group, as a shell gives a foreground job; the group is what a terminal's Ctrl-C signals.
    const server = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: serverDir,
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), STREAMSPACE_DATA_DIR: dataDir, STREAMSPACE_CLUSTER: 'none', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) === 200, 'the server to be ready', 90_000);
      const postmasterPid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(-server.pid!, 'SIGINT');
      expect(await exited, log.slice(-3000)).to.equal(0);
      const afterSignal = log.slice(log.indexOf('"received signal"')).split('\n').filter(Boolean);
      const warnings = afterSignal.filter((line) => /"level":(4|5|6)\d/.test(line));
      expect(warnings, 'warnings or errors during the shutdown').to.deep.equal([]);
      expect(afterSignal.some((line) => line.includes('shutdown complete'))).to.equal(true);
      let alive = true;
      try {
        process.kill(postmasterPid, 0);
      } catch {
        alive = false;
      }
      expect(alive, 'PostgreSQL stopped').to.equal(false);
    } finally {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
