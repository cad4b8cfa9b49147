import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, envSchema, loadConfig } from '../../src/config/config';
import { ENV_DOCS, withConfigTable } from '../../src/config/config-docs';

const serverDir = path.resolve(__dirname, '../..');
const readmePath = path.resolve(serverDir, '..', 'README.md');

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: serverDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('configuration from the environment', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({}, '/srv');
    expect(config.port).to.equal(8080);
    expect(config.dataDir).to.equal('/srv/.streamspace');
    expect(config.databaseUrl).to.equal(undefined);
    expect(config.cluster).to.equal('auto');
    expect(config.shutdownTimeoutMs).to.equal(10_000);
  });

  it('names every bad variable and never echoes a secret value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://root:hunter2@db/x' });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).to.match(/PORT="eighty": expected a whole number/);
    expect(message).to.match(/LOG_LEVEL="loud": expected one of/);
    expect(message).to.match(/DATABASE_URL: expected a postgres/);
    expect(message).not.to.contain('hunter2');
  });

  it('takes session hosts with an optional port, and refuses anything else', () => {
    const ok = loadConfig({ STREAMSPACE_SESSION_INGRESS: 'path', STREAMSPACE_SESSION_HOST: 'apps.example.com:8443' });
    expect(ok.sessions.ingress.host).to.equal('apps.example.com:8443');
    for (const bad of ['http://apps.example.com', 'apps.example.com:', 'apps.example.com:0', 'apps.example.com/x', '127.0.0.1:8080', '10.0.0.1']) {
      expect(() => loadConfig({ STREAMSPACE_SESSION_INGRESS: 'path', STREAMSPACE_SESSION_HOST: bad }), bad).to.throw(ConfigError, /STREAMSPACE_SESSION_HOST/);
    }
    expect(() => loadConfig({ STREAMSPACE_SESSION_INGRESS: 'host', STREAMSPACE_SESSION_DOMAIN: '192.168.1.10' })).to.throw(ConfigError, /cannot be an Ingress host/);
  });

  it('asks clients for heartbeats more often than the reaper gives up on them', () => {
    expect(loadConfig({}).connections.heartbeatIntervalMs).to.equal(30_000);
    expect(loadConfig({ STREAMSPACE_HEARTBEAT_INTERVAL: '2s' }).connections.heartbeatIntervalMs).to.equal(2_000);
    expect(() => loadConfig({ STREAMSPACE_HEARTBEAT_INTERVAL: '60s' })).to.throw(ConfigError, /STREAMSPACE_HEARTBEAT_INTERVAL.*shorter than STREAMSPACE_HEARTBEAT_TIMEOUT/);
    expect(() => loadConfig({ STREAMSPACE_HEARTBEAT_INTERVAL: '10s', STREAMSPACE_HEARTBEAT_TIMEOUT: '5s' })).to.throw(ConfigError, /shorter than/);
    // Only the timeout set (short, as tests do): the interval follows it.
    expect(loadConfig({ STREAMSPACE_HEARTBEAT_TIMEOUT: '3s' }).connections.heartbeatIntervalMs).to.equal(1_500);
    expect(loadConfig({ STREAMSPACE_HEARTBEAT_TIMEOUT: '5m' }).connections.heartbeatIntervalMs).to.equal(30_000);
  });

  it('stops start-up with exit code 2 and a message naming the variable', async () => {
    const result = await runMain({ PORT: '70000', STREAMSPACE_DATA_DIR: fs.mkdtempSync('/tmp/streamspace-cfg-') });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/PORT="70000": must be at most 65535/);
  });

  it('documents every variable in the README table (npm run docs:config)', () => {
    expect(Object.keys(ENV_DOCS).sort()).to.deep.equal(Object.keys(envSchema.shape).sort());
    const readme = fs.readFileSync(readmePath, 'utf8');
    expect(withConfigTable(readme), 'README.md configuration table is stale: run `npm run docs:config`').to.equal(readme);
  });
});
