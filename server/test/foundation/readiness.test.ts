import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startPostgres, type PostgresServer } from '../../src/platform/database/postgres-server';
import { startTestApp, type TestApp } from '../support/app';
import { signInAsAdmin } from '../support/auth';
import { waitUntil } from '../support/wait';


describe('/readyz follows the database without a restart', () => {
  let pg: PostgresServer;
  let app: TestApp;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamspace-readyz-'));

  before(async () => {
    pg = await startPostgres({ dir, persistent: true });
    app = await startTestApp({ DATABASE_URL: pg.url, STREAMSPACE_DB_HEALTH_TIMEOUT: '1s' });
  });
  after(async () => {
    await app?.stop();
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while PostgreSQL is down and 200 once it is back; details only to an admin', async () => {
    const { headers } = await signInAsAdmin(app);
    expect((await fetch(`${app.url}/readyz`, { headers })).status).to.equal(200);

    await pg.stop();
    const down = await fetch(`${app.url}/readyz`, { headers });
    expect(down.status).to.equal(503);
    const body = (await down.json()) as { status: string; checks: { name: string; ok: boolean; error?: string }[] };
    expect(body.status).to.equal('not ready');
    const db = body.checks.find((c) => c.name === 'database')!;
    expect(db.ok).to.equal(false);
    expect(db.error).to.be.a('string').and.not.match(/password/i);
    // Anyone else learns the status, not the host or the error.
    const anonymous = await fetch(`${app.url}/readyz`);
    expect(anonymous.status).to.equal(503);
    expect(await anonymous.json()).to.deep.equal({ status: 'not ready' });
    // The process itself is still healthy: liveness must not restart pods for a database outage.
    expect((await fetch(`${app.url}/healthz`)).status).to.equal(200);

    pg = await startPostgres(pg.options);
    await waitUntil(async () => (await fetch(`${app.url}/readyz`)).status === 200, '/readyz to recover', 20_000);
    const version = await app.gql('{ version { version } }');
    expect(version.status).to.equal(200);
  });
});
