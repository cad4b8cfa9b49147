import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { UserEntity } from '../../src/modules/users/user.entity';
import { startTestApp, type TestApp } from '../support/app';
import { bearer, signInAsAdmin } from '../support/auth';
import { reserveTestIdp, type TestIdp } from './support/oidc-idp';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('identity: OIDC sign-in through Chromium against oidc-provider', function () {
  this.timeout(180_000);
  let idp: TestIdp;
  let app: TestApp;
  let browser: Browser;

  before(async () => {
    idp = await reserveTestIdp({
      alice: { email: 'alice@example.test', name: 'Alice Admin', groups: ['staff', 'streamspace-admins'] },
      bob: { email: 'bob@example.test', name: 'Bob User', groups: ['staff'] },
      // A provider's claims the users table cannot hold as they are.
      carol: { email: `${'c'.repeat(330)}@example.test`, name: `Carol\n${'C'.repeat(300)}`, groups: ['staff'] },
    });
    app = await startTestApp({
      STREAMSPACE_OIDC_ISSUER: idp.issuer,
      STREAMSPACE_OIDC_CLIENT_ID: idp.clientId,
      STREAMSPACE_OIDC_CLIENT_SECRET: idp.clientSecret,
      STREAMSPACE_OIDC_SCOPES: 'openid profile email groups',
      STREAMSPACE_OIDC_ADMIN_GROUPS: 'streamspace-admins',
      STREAMSPACE_OIDC_SYNC_GROUPS: 'true',
      // A landing page that makes no request of its own: the built portal at / would trade the refresh cookie
      // itself on load, and a second refresh with the same cookie is (by design) treated as token theft.
      STREAMSPACE_OIDC_POST_LOGIN_REDIRECT: '/healthz',
    });
    await idp.start(`${app.url}/auth/oidc/callback`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await idp?.stop();
  });

  /** Runs the whole browser flow and returns the access token the portal would get from /auth/refresh. */
  async function signInThroughBrowser(login: string, start = '/auth/oidc', landing = '/healthz'): Promise<{ page: Page; accessToken: string; finalUrl: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}${start}`);
    // The IdP's development login page: any password signs in as the login name.
    await page.waitForSelector('input[name="login"]');
    expect(page.url().startsWith(idp.issuer)).to.equal(true);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any-password');
    await page.click('button[type="submit"]');
    // Consent, then the redirect back to /auth/oidc/callback and on to the portal.
    await page.waitForSelector('button:has-text("Continue")');
    await Promise.all([page.waitForURL(`${app.url}${landing}**`), page.click('button:has-text("Continue")')]);
    const finalUrl = page.url();
    // What the portal does on load: trade the HttpOnly refresh cookie for an access token.
    const refreshed = await page.evaluate(async () => {
      const res = await fetch('/auth/refresh', { method: 'POST' });
      return { status: res.status, body: (await res.json()) as { accessToken?: string } };
    });
    expect(refreshed.status).to.equal(200);
    return { page, accessToken: refreshed.body.accessToken!, finalUrl };
  }

  it('provisions a user on first sign-in with the role from the groups claim (admin group -> admin)', async () => {
    const { accessToken, finalUrl, page } = await signInThroughBrowser('alice');
    expect(finalUrl).to.equal(`${app.url}/healthz`);
    const cookies = await page.context().cookies(app.url + '/auth');
    const refresh = cookies.find((c) => c.name === 'streamspace_refresh');
    expect(refresh).to.include({ httpOnly: true, sameSite: 'Strict', path: '/auth' });
    const me = await app.gql<{ me: Record<string, unknown> }>('{ me { username email displayName role authProvider } }', undefined, bearer(accessToken));
    expect(me.body.data?.me).to.deep.equal({ username: 'alice', email: 'alice@example.test', displayName: 'Alice Admin', role: 'admin', authProvider: 'oidc' });
    const admin = await app.gql<{ users: { totalCount: number } }>('{ users { totalCount } }', undefined, bearer(accessToken));
    expect(admin.body.data?.users.totalCount).to.be.greaterThan(1);
    await page.context().close();
  });

  it('maps a user outside the admin groups to role user', async () => {
    const { accessToken, page } = await signInThroughBrowser('bob');
    const me = await app.gql<{ me: { role: string } }>('{ me { username role } }', undefined, bearer(accessToken));
    expect(me.body.data?.me).to.deep.equal({ username: 'bob', role: 'user' });
    const forbidden = await app.gql('{ users { totalCount } }', undefined, bearer(accessToken));
    expect(forbidden.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
    await page.context().close();
  });

  it("signs in with a provider's display name cut to fit and without an email the table cannot hold", async () => {
    const { accessToken, page } = await signInThroughBrowser('carol');
    const me = await app.gql<{ me: { username: string; email: string | null; displayName: string } }>('{ me { username email displayName } }', undefined, bearer(accessToken));
    expect(me.body.errors).to.equal(undefined);
    expect(me.body.data?.me.username).to.equal('carol');
    expect(me.body.data?.me.email).to.equal(null);
    expect(me.body.data?.me.displayName).to.equal(`Carol ${'C'.repeat(194)}`);
    await page.context().close();
  });

  it('follows the groups on every sign-in: leaving the admin group demotes, without a second account', async () => {
    idp.accounts.alice.groups = ['staff'];
    const { accessToken, page } = await signInThroughBrowser('alice');
    const me = await app.gql<{ me: { role: string } }>('{ me { username role } }', undefined, bearer(accessToken));
    expect(me.body.data?.me).to.deep.equal({ username: 'alice', role: 'user' });
    const alices = await app.services.database.dataSource.getRepository(UserEntity).countBy({ oidcSubject: 'alice' });
    expect(alices).to.equal(1);
    await page.context().close();
  });

  it('goes back to the path a sign-in started with (?return=, as the admin console sends), and ignores one leaving the server', async () => {
    const back = await signInThroughBrowser('bob', '/auth/oidc?return=/readyz', '/readyz');
    expect(back.finalUrl).to.equal(`${app.url}/readyz`);
    await back.page.context().close();
    const away = await signInThroughBrowser('bob', `/auth/oidc?return=${encodeURIComponent('//evil.example/')}`);
    expect(away.finalUrl).to.equal(`${app.url}/healthz`);
    await away.page.context().close();
  });

  it('audits OIDC sign-ins and provisioning', async () => {
    const rows = await app.services.database.dataSource.getRepository(AuditLogEntity).find({ order: { id: 'ASC' } });
    const logins = rows.filter((r) => r.action === 'auth.login' && r.changes?.method === 'oidc');
    expect(logins.map((r) => r.actorUsername)).to.deep.equal(['alice', 'bob', 'carol', 'alice', 'bob', 'bob']);
    expect(rows.filter((r) => r.action === 'user.create' && r.changes?.via === 'oidc').map((r) => r.resourceId)).to.have.length(3);
    const demotion = rows.find((r) => r.action === 'user.update' && r.changes?.via === 'oidc');
    expect(demotion?.changes?.role).to.deep.equal({ from: 'admin', to: 'user' });
  });

  it('refuses a callback whose state does not match (no state cookie): back to the portal with an error, audited', async () => {
    const res = await fetch(`${app.url}/auth/oidc/callback?code=forged&state=forged`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/healthz?login_error=oidc');
    expect(res.headers.getSetCookie().join('\n')).not.to.match(/streamspace_refresh=[^;]/);
    const rows = await app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action: 'auth.login', outcome: 'failure' } });
    expect(rows.at(-1)?.changes).to.deep.include({ method: 'oidc' });
    expect(String(rows.at(-1)?.changes?.reason)).to.match(/state/i);
  });

  it('starts with a redirect to the discovered authorization endpoint carrying state and nonce', async () => {
    const res = await fetch(`${app.url}/auth/oidc`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).to.equal(idp.issuer);
    expect(location.searchParams.get('client_id')).to.equal(idp.clientId);
    expect(location.searchParams.get('redirect_uri')).to.equal(`${app.url}/auth/oidc/callback`);
    expect(location.searchParams.get('state')).to.have.length.greaterThan(20);
    expect(location.searchParams.get('nonce')).to.have.length.greaterThan(10);
    expect(location.searchParams.get('scope')).to.contain('groups');
    expect(res.headers.getSetCookie().join('\n')).to.match(/streamspace_oidc=.*HttpOnly/i);
  });

  it('with STREAMSPACE_OIDC_SYNC_GROUPS, memberships of existing groups named like the IdP groups follow the claim; admin-added ones stay', async () => {
    const admin = await signInAsAdmin(app);
    const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
      const res = await app.gql<T>(query, variables, admin.headers);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
      return res.body.data!;
    };
    const ids: Record<string, string> = {};
    for (const name of ['staff', 'design', 'ops']) ids[name] = (await gql<{ createGroup: { id: string } }>('mutation C($n: String!) { createGroup(input: { name: $n }) { id } }', { n: name })).createGroup.id;
    await gql('mutation A($g: ID!) { addGroupMember(groupId: $g, username: "bob") { id } }', { g: ids.ops });
    const memberships = async () => {
      const { groups } = await gql<{ groups: { name: string; members: { username: string; source: string }[] }[] }>('{ groups { name members { username source } } }');
      return Object.fromEntries(groups.map((g) => [g.name, g.members.filter((m) => m.username === 'bob').map((m) => m.source)[0] ?? null]));
    };
    const signInAs = async (groups: string[]) => {
      idp.accounts.bob.groups = groups;
      const { page } = await signInThroughBrowser('bob');
      await page.context().close();
    };

    await signInAs(['staff', 'Design', 'not-a-streamspace-group']);
    expect(await memberships()).to.deep.equal({ staff: 'oidc', design: 'oidc', ops: 'admin' });
    await signInAs(['staff', 'ops']);
    expect(await memberships()).to.deep.equal({ staff: 'oidc', design: null, ops: 'admin' });
    await signInAs([]);
    expect(await memberships(), 'an admin-added membership stays when the claim drops the group').to.deep.equal({ staff: null, design: null, ops: 'admin' });
    // No group is created from a claim; each change is audited as coming from the IdP.
    expect((await gql<{ groups: { name: string }[] }>('{ groups { name } }')).groups.map((g) => g.name)).to.deep.equal(['design', 'ops', 'staff']);
    const rows = await app.services.database.dataSource.getRepository(AuditLogEntity).find({ order: { id: 'ASC' } });
    const viaIdp = rows.filter((r) => r.action.startsWith('group.member.') && r.changes?.via === 'oidc').map((r) => `${r.action} ${String(r.changes?.group)}`);
    expect(viaIdp).to.deep.equal(['group.member.add staff', 'group.member.add design', 'group.member.remove design', 'group.member.remove staff']);
  });
});
