import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { isProcessAlive } from '../../src/platform/kube/local-cluster/watchdog';
import { waitUntil } from '../support/wait';

const serverDir = path.resolve(__dirname, '../..');

describe('embedded PostgreSQL when its owner is killed', () => {
  it('is stopped by the watchdog after a SIGKILL of the process that started it (no orphan holds the data directory)', async function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-orphan-'));
    // A process that starts the embedded PostgreSQL (as npm start does without DATABASE_URL), then waits.
    const script = `
      const { startPostgres } = require(${JSON.stringify(path.join(serverDir, 'src/platform/database/postgres-server.ts'))});
      startPostgres({ dir: ${JSON.stringify(dir)}, persistent: true }).then(() => { console.log('READY'); setInterval(() => {}, 1000); });
    `;
    const owner = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: serverDir, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
        owner.once('exit', (code) => reject(new Error(`owner exited early (${code})`)));
      });
      const pid = Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(isProcessAlive(pid), 'postgres runs while its owner lives').to.equal(true);

      owner.kill('SIGKILL');
      await waitUntil(() => !isProcessAlive(pid), 'the orphaned postgres to be stopped', 60_000);
      // Stopped cleanly: the next start on the same directory finds no running postmaster.
      expect(fs.existsSync(path.join(dir, 'data', 'postmaster.pid')), 'postmaster.pid removed by a clean shutdown').to.equal(false);
    } finally {
      owner.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
