import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AuditLogEntity } from '../../src/modules/audit/audit-log.entity';
import { USER_ACCESS_CHANGED } from '../../src/modules/users/users.service';
import { startTestApp, type TestApp } from '../support/app';
import { bearer, createUserAndToken, postLogin, refreshCookieFrom, signIn, signInAsAdmin, TEST_ADMIN } from '../support/auth';
import { waitUntil } from '../support/wait';

function postCookie(app: TestApp, path: string, cookie: string | undefined, headers: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, { method: 'POST', headers: { ...(cookie ? { cookie } : {}), ...headers } });
}

async function auditRows(app: TestApp, action: string): Promise<AuditLogEntity[]> {
  return app.services.database.dataSource.getRepository(AuditLogEntity).find({ where: { action }, order: { id: 'ASC' } });
}

describe('identity: local sign-in, tokens, refresh rotation, logout', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.stop();
  });

  it('signs the bootstrap admin in: access token, HttpOnly SameSite refresh cookie, `me`', async () => {
    const res = await postLogin(app, TEST_ADMIN.username, TEST_ADMIN.password);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { accessToken: string; expiresAt: string; user: { role: string } };
    expect(body.accessToken.split('.')).to.have.length(3);
    const ttl = new Date(body.expiresAt).getTime() - Date.now();
    expect(ttl).to.be.within(14 * 60_000, 15 * 60_000 + 1000);
    expect(body.user.role).to.equal('admin');
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).to.match(/streamspace_refresh=[A-Za-z0-9_-]{40,}/);
    expect(setCookie).to.match(/HttpOnly/i).and.match(/SameSite=Strict/i).and.match(/Path=\/auth/i);
    expect(setCookie).not.to.match(/Secure/i); // plain HTTP in the test; behind TLS req.secure adds it
    const me = await app.gql<{ me: { username: string; role: string; lastLoginAt: string } }>('{ me { username role lastLoginAt } }', undefined, bearer(body.accessToken));
    expect(me.body.data?.me).to.include({ username: 'admin', role: 'admin' });
    expect(me.body.data?.me.lastLoginAt).to.be.a('string');
    const rows = await auditRows(app, 'auth.login');
    expect(rows.at(-1)).to.include({ outcome: 'success', actorUsername: 'admin' });
  });

  it('answers 401 for a wrong password or unknown user, and audits each failure', async () => {
    const before = (await auditRows(app, 'auth.login')).length;
    const wrong = await postLogin(app, TEST_ADMIN.username, 'not-the-password');
    expect(wrong.status).to.equal(401);
    expect(await wrong.json()).to.deep.include({ error: 'invalid_credentials' });
    expect(refreshCookieFrom(wrong)).to.equal(undefined);
    const unknown = await postLogin(app, 'nobody-here', 'whatever-password');
    expect(unknown.status).to.equal(401);
    const rows = (await auditRows(app, 'auth.login')).slice(before);
    expect(rows.map((r) => [r.outcome, r.actorUsername])).to.deep.equal([
      ['failure', 'admin'],
      ['failure', 'nobody-here'],
    ]);
    expect(JSON.stringify(rows)).not.to.contain('not-the-password');
    expect(rows[0].clientIp).to.match(/127\.0\.0\.1/);
  });

  it('is anonymous without a token and refuses a forged or malformed one with 401', async () => {
    const anon = await app.gql('{ me { id } }');
    expect(anon.body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
    const forged = await app.gql('{ version { version } }', undefined, bearer('eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln'));
    expect(forged.status).to.equal(401);
    expect(forged.body.errors?.[0].extensions?.code).to.equal('UNAUTHENTICATED');
    const garbage = await app.gql('{ version { version } }', undefined, { authorization: 'Bearer not-a-jwt' });
    expect(garbage.status).to.equal(401);
  });

  it('rotates the refresh token; reusing an old one revokes the whole family', async () => {
    const s = await signIn(app, TEST_ADMIN.username, TEST_ADMIN.password);
    const r1 = await postCookie(app, '/auth/refresh', s.refreshCookie);
    expect(r1.status).to.equal(200);
    const c1 = refreshCookieFrom(r1)!;
    expect(c1).to.be.a('string').and.not.equal(s.refreshCookie);
    const body1 = (await r1.json()) as { accessToken: string };
    expect((await app.gql('{ me { username } }', undefined, bearer(body1.accessToken))).body.data).to.deep.equal({ me: { username: 'admin' } });

    const r2 = await postCookie(app, '/auth/refresh', c1);
    expect(r2.status).to.equal(200);
    const c2 = refreshCookieFrom(r2)!;

    // The first cookie again: someone copied it. Its family (c1, c2) dies with it.
    const reuse = await postCookie(app, '/auth/refresh', s.refreshCookie);
    expect(reuse.status).to.equal(401);
    expect((await postCookie(app, '/auth/refresh', c2)).status).to.equal(401);
    const rows = await auditRows(app, 'auth.refresh_reuse');
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ outcome: 'failure', actorUsername: 'admin' });

    // Another sign-in (another family) is unaffected.
    const other = await signIn(app, TEST_ADMIN.username, TEST_ADMIN.password);
    expect((await postCookie(app, '/auth/refresh', other.refreshCookie)).status).to.equal(200);
  });

  it('logs out: the refresh cookie is revoked and cleared, and the logout audited', async () => {
    const s = await signIn(app, TEST_ADMIN.username, TEST_ADMIN.password);
    const out = await postCookie(app, '/auth/logout', s.refreshCookie);
    expect(out.status).to.equal(204);
    expect(out.headers.getSetCookie().join('\n')).to.match(/streamspace_refresh=;/);
    expect((await postCookie(app, '/auth/refresh', s.refreshCookie)).status).to.equal(401);
    expect((await postCookie(app, '/auth/refresh', undefined)).status).to.equal(401);
    const rows = await auditRows(app, 'auth.logout');
    expect(rows.at(-1)).to.include({ actorUsername: 'admin', outcome: 'success' });
  });

  it('refuses a disabled user: sign-in, existing access token and refresh', async () => {
    const admin = await signInAsAdmin(app);
    const u = await createUserAndToken(app);
    expect((await app.gql('{ me { username } }', undefined, u.headers)).body.data).to.deep.equal({ me: { username: u.username } });
    const disabled = await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { disabled: true }) { disabled } }', { id: u.id }, admin.headers);
    expect(disabled.body.data).to.deep.equal({ updateUser: { disabled: true } });
    expect((await app.gql('{ me { username } }', undefined, u.headers)).status).to.equal(401);
    expect((await postLogin(app, u.username, u.password)).status).to.equal(403);
    expect((await postCookie(app, '/auth/refresh', u.refreshCookie)).status).to.equal(401);
    await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { disabled: false }) { disabled } }', { id: u.id }, admin.headers);
    expect((await postLogin(app, u.username, u.password)).status).to.equal(200);
  });

  it('rotates the signing key: new tokens get a new kid, old tokens still verify', async () => {
    const admin = await signInAsAdmin(app);
    const oldKid = decodeProtectedHeader(admin.accessToken).kid;
    const rotated = await app.gql<{ rotateSigningKey: string }>('mutation { rotateSigningKey }', undefined, admin.headers);
    const newKid = rotated.body.data!.rotateSigningKey;
    expect(newKid).to.be.a('string').and.not.equal(oldKid);
    const fresh = await signInAsAdmin(app);
    expect(decodeProtectedHeader(fresh.accessToken).kid).to.equal(newKid);
    expect((await app.gql('{ me { username } }', undefined, admin.headers)).body.data).to.deep.equal({ me: { username: 'admin' } });
    expect((await auditRows(app, 'auth.rotate_signing_key')).at(-1)).to.include({ resourceId: newKid });
  });

  it('changes a password: the old one stops working, other sign-ins are revoked', async () => {
    const u = await createUserAndToken(app);
    const elsewhere = await signIn(app, u.username, u.password);
    const wrong = await app.gql('mutation { changePassword(currentPassword: "nope-nope", newPassword: "another-password-1") }', undefined, u.headers);
    expect(wrong.body.errors?.[0].extensions?.code).to.equal('BAD_USER_INPUT');
    const ok = await app.gql('mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "another-password-1") }', { c: u.password }, u.headers);
    expect(ok.body.data).to.deep.equal({ changePassword: true });
    expect((await postLogin(app, u.username, u.password)).status).to.equal(401);
    expect((await postCookie(app, '/auth/refresh', elsewhere.refreshCookie)).status).to.equal(401);
    // The sign-in the password was changed from stays signed in.
    expect((await postCookie(app, '/auth/refresh', u.refreshCookie)).status).to.equal(200);
    await signIn(app, u.username, 'another-password-1');
    const rows = await auditRows(app, 'user.change_password');
    expect(rows.map((r) => r.outcome)).to.deep.equal(['failure', 'success']);
    expect(rows[1].changes).to.deep.equal({ password: '[REDACTED]' });
  });
});

describe('identity: token expiry over HTTP and graphql-ws', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_ACCESS_TOKEN_TTL: '2s' });
  });
  after(async () => {
    await app?.stop();
  });

  /** Lets the token's lifetime pass (its expiry is the point of the test; the TTL is 2 s). */
  const pastExpiry = (iso: string) => new Promise((r) => setTimeout(r, Math.max(0, new Date(iso).getTime() - Date.now() + 1100)));

  it('refuses an expired access token with 401 UNAUTHENTICATED; a refresh gets a working one', async () => {
    const s = await signInAsAdmin(app);
    expect((await app.gql('{ me { username } }', undefined, s.headers)).status).to.equal(200);
    await pastExpiry(s.expiresAt);
    const expired = await app.gql('{ me { username } }', undefined, s.headers);
    expect(expired.status).to.equal(401);
    expect(expired.body.errors?.[0].message).to.match(/expired/);
    const refreshed = await fetch(`${app.url}/auth/refresh`, { method: 'POST', headers: { cookie: s.refreshCookie } });
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect((await app.gql('{ me { username } }', undefined, bearer(accessToken))).body.data).to.deep.equal({ me: { username: 'admin' } });
  });

  it('takes the token in connectionParams and closes the socket with 4401 when it expires', async () => {
    const s = await signInAsAdmin(app);
    let closeCode: number | undefined;
    let me: unknown;
    const closed = new Promise<void>((resolve) => {
      const client = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false, // keep the socket open after the query, until the server closes it
        onNonLazyError: () => undefined,
        connectionParams: { authorization: `Bearer ${s.accessToken}` },
        on: {
          closed: (event) => {
            closeCode = (event as { code: number }).code;
            resolve();
          },
        },
      });
      client.subscribe(
        { query: '{ me { username } }' },
        {
          next: (r) => (me = r.data),
          error: () => undefined,
          complete: () => undefined,
        },
      );
    });
    await closed;
    expect(me).to.deep.equal({ me: { username: 'admin' } });
    expect(closeCode).to.equal(4401);
  });

  it('closes the open sockets of a user who is demoted or disabled; they authenticate again with the new access', async () => {
    const admin = await signInAsAdmin(app);
    const other = await createUserAndToken(app, 'admin');
    /** Opens a socket as `other`, runs `query` on it, and reports the answer and how the socket ends. */
    const openSocket = (query: string) => {
      let closeCode: number | undefined;
      const answers: unknown[] = [];
      const client = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: other.headers.authorization },
        on: { closed: (event) => (closeCode = (event as { code: number }).code) },
      });
      client.subscribe({ query }, { next: (r) => void answers.push(r.errors?.[0]?.extensions?.code ?? r.data), error: (e) => void answers.push(e), complete: () => undefined });
      return { client, answers, closeCode: () => closeCode };
    };
    const waitFor = (what: string, ok: () => boolean) => waitUntil(ok, what, 10_000);

    // An admin's socket works for admin-only operations...
    const first = openSocket('{ users(first: 1) { totalCount } }');
    await waitFor('an answer as admin', () => first.answers.length === 1);
    expect(first.answers[0]).to.have.nested.property('users.totalCount');
    // ...until the admin is demoted: the server closes it at once (4401), long before the token expires.
    await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: "user" }) { role } }', { id: other.id }, admin.headers);
    await waitFor('the socket to be closed', () => first.closeCode() === 4401);
    await first.client.dispose();
    // The same token on a new socket now acts with the new role.
    const second = openSocket('{ users(first: 1) { totalCount } }');
    await waitFor('an answer as user', () => second.answers.length === 1);
    expect(second.answers[0]).to.equal('FORBIDDEN');
    // Disabled: the socket is closed, and a new one is refused (4403).
    await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { disabled: true }) { disabled } }', { id: other.id }, admin.headers);
    await waitFor('the socket to be closed again', () => second.closeCode() === 4401);
    await second.client.dispose();
    const third = openSocket('{ me { username } }');
    await waitFor('the new socket to be refused', () => third.closeCode() === 4403);
    await third.client.dispose();
    // Changing someone's e-mail address does not disturb their sockets.
    const user = await createUserAndToken(app);
    let kept: number | undefined;
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      connectionParams: { authorization: user.headers.authorization },
      on: { closed: (event) => (kept = (event as { code: number }).code) },
    });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    // Proven by events, not by waiting: every access change is published (in order) before the mutation answers,
    // so once a marker published after the mutation arrived, no change for this user came before it.
    const accessChanges = app.services.pubSub.subscribeTopic<{ userId: string }>(USER_ACCESS_CHANGED);
    const seen: string[] = [];
    const untilMarker = (async () => {
      for await (const { userId } of accessChanges) {
        seen.push(userId);
        if (userId === 'marker') return;
      }
    })();
    await app.gql('mutation($id: ID!) { updateUser(id: $id, input: { email: "someone@example.org" }) { email } }', { id: user.id }, admin.headers);
    await waitUntil(async () => {
      app.services.pubSub.publish(USER_ACCESS_CHANGED as never, { userId: 'marker' } as never);
      return seen.includes('marker');
    }, 'the marker event', 10_000);
    await untilMarker;
    expect(seen.filter((id) => id !== 'marker'), 'no access change for an e-mail change').to.deep.equal([]);
    expect(kept, 'the socket stays open').to.equal(undefined);
    await client.dispose();
  });

  it('refuses a graphql-ws connection with an invalid token (4403) and treats no token as anonymous', async () => {
    const code = await new Promise<number>((resolve) => {
      const client = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: 'Bearer forged' },
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe({ query: '{ version { version } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    });
    expect(code).to.equal(4403);
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const err = await new Promise<{ extensions?: { code?: string } }>((resolve) => {
        client.subscribe({ query: '{ me { id } }' }, { next: (r) => resolve(r.errors![0] as never), error: (e) => resolve((e as never[])[0]), complete: () => undefined });
      });
      expect(err.extensions?.code).to.equal('UNAUTHENTICATED');
    } finally {
      await client.dispose();
    }
  });
});

describe('identity: bootstrap admin with a generated password', () => {
  let app: TestApp;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamspace-bootstrap-'));
  after(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the generated password to a 0600 file under the data dir, never to the log, and it signs in', async () => {
    app = await startTestApp({ STREAMSPACE_ADMIN_PASSWORD: '', STREAMSPACE_ADMIN_USERNAME: 'root-admin', STREAMSPACE_DATA_DIR: dir });
    const file = path.join(dir, 'bootstrap-admin-password');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password).to.have.length.greaterThan(20);
    // Every line logged during the start-up, raw: the password is in none of them; one says where the file is.
    const logged = app.logs.map((l) => JSON.stringify(l));
    expect(logged.filter((l) => l.includes(password))).to.deep.equal([]);
    expect(logged.filter((l) => l.includes(file))).to.have.length(1);
    const s = await signIn(app, 'root-admin', password);
    expect(s.user.role).to.equal('admin');
    // The audit row of the creation keeps no password either.
    expect(JSON.stringify(await auditRows(app, 'user.create'))).not.to.contain(password);
  });
});
