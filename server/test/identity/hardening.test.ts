import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { ideDir } from '../../src/platform/http/ide.routes';
import { startTestApp, type TestApp } from '../support/app';
import { postLogin, refreshCookieFrom, signInAsAdmin, TEST_ADMIN } from '../support/auth';
import { createTestDatabase } from '../support/postgres';

const TRUSTED = 'http://portal.streamspace.test';
const EVIL = 'http://evil.example';

describe('identity hardening: login rate limits', () => {
  let byUser: TestApp;
  let byIp: TestApp;
  before(async () => {
    byUser = await startTestApp({ STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: '3', STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: '100' });
    byIp = await startTestApp({ STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: '100', STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: '4' });
  });
  after(async () => {
    await byUser?.stop();
    await byIp?.stop();
  });

  it('locks a username after too many failures: 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expect((await postLogin(byUser, TEST_ADMIN.username, `wrong-${i}`)).status).to.equal(401);
    const limited = await postLogin(byUser, TEST_ADMIN.username, TEST_ADMIN.password);
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 15 * 60);
    expect(await limited.json()).to.deep.include({ error: 'rate_limited' });
    // Other usernames from the same IP are not affected by this username's lock.
    expect((await postLogin(byUser, 'someone-else', 'wrong-password')).status).to.equal(401);
    const rows = await byUser.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action: 'auth.login', outcome: 'failure' } });
    expect(rows.filter((r) => r.changes?.reason === 'rate_limited').map((r) => r.actorUsername)).to.deep.equal(['admin']);
  });

  it('shares the counters between replicas (PostgreSQL): failures on one count on the other', async () => {
    const databaseUrl = await createTestDatabase('ratelimit');
    const env = { DATABASE_URL: databaseUrl, STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: '4', STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: '100' };
    const one = await startTestApp(env);
    const two = await startTestApp(env);
    try {
      for (let i = 0; i < 2; i++) expect((await postLogin(one, TEST_ADMIN.username, `wrong-${i}`)).status).to.equal(401);
      for (let i = 0; i < 2; i++) expect((await postLogin(two, TEST_ADMIN.username, `wrong-${i}`)).status).to.equal(401);
      // Four failures in all, two on each replica: both refuse now, even the right password.
      expect((await postLogin(one, TEST_ADMIN.username, TEST_ADMIN.password)).status).to.equal(429);
      expect((await postLogin(two, TEST_ADMIN.username, TEST_ADMIN.password)).status).to.equal(429);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('limits failures per IP across usernames', async () => {
    for (let i = 0; i < 4; i++) expect((await postLogin(byIp, `guess-${i}`, 'wrong-password')).status).to.equal(401);
    const limited = await postLogin(byIp, TEST_ADMIN.username, TEST_ADMIN.password);
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('retry-after')).to.match(/^[0-9]+$/);
  });
});

describe('identity hardening: CSRF, CORS and security headers', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_TRUSTED_ORIGINS: TRUSTED });
  });
  after(async () => {
    await app?.stop();
  });

  const refresh = (cookie: string, origin?: string) =>
    fetch(`${app.url}/auth/refresh`, { method: 'POST', headers: { cookie, ...(origin ? { origin } : {}) } });

  it('refuses a cookie request from an untrusted origin, and the cookie stays valid', async () => {
    const s = await signInAsAdmin(app);
    const evil = await refresh(s.refreshCookie, EVIL);
    expect(evil.status).to.equal(403);
    expect(await evil.json()).to.deep.include({ error: 'untrusted_origin' });
    expect((await fetch(`${app.url}/auth/logout`, { method: 'POST', headers: { cookie: s.refreshCookie, origin: EVIL } })).status).to.equal(403);
    expect((await postLogin(app, TEST_ADMIN.username, TEST_ADMIN.password, { origin: EVIL })).status).to.equal(403);
    // The refused requests neither rotated nor revoked anything: the same cookie still refreshes.
    const same = await refresh(s.refreshCookie, app.url);
    expect(same.status).to.equal(200);
    const trusted = await refresh(refreshCookieFrom(same)!, TRUSTED);
    expect(trusted.status).to.equal(200);
  });

  it('answers CORS only for trusted origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${app.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const ok = await preflight(TRUSTED);
    expect(ok.headers.get('access-control-allow-origin')).to.equal(TRUSTED);
    expect(ok.headers.get('access-control-allow-credentials')).to.equal('true');
    expect(ok.headers.get('access-control-allow-headers')).to.contain('authorization');
    const evil = await preflight(EVIL);
    expect(evil.headers.get('access-control-allow-origin')).to.equal(null);
    const post = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { origin: EVIL, 'content-type': 'application/json' }, body: '{"query":"{ version { version } }"}' });
    expect(post.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('sends security headers', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('x-powered-by')).to.equal(null);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("default-src 'self'").and.contain("script-src 'self'").and.contain("frame-ancestors 'self'");
    expect(res.headers.get('referrer-policy')).to.equal('same-origin');
  });

  it('keeps the GraphiQL IDE working under the Content-Security-Policy (Chromium, no violations)', async function () {
    this.timeout(180_000);
    if (!fs.existsSync(path.join(ideDir(), 'index.html'))) {
      execFileSync('npm', ['run', 'build:ide'], { cwd: path.resolve(ideDir(), '..'), stdio: 'ignore' });
    }
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (msg) => {
        if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
      });
      await page.goto(`${app.url}/graphql`);
      await page.waitForSelector('.graphiql-container .monaco-editor');
      // The IDE runs a query through the same origin under the policy.
      const answer = await page.evaluate(async () => {
        const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ version { version } }' }) });
        return res.status;
      });
      expect(answer).to.equal(200);
      expect(violations).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
