import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { createClient, type Client } from 'graphql-ws';
import { base64url, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import { SigningKeyEntity } from '../../src/modules/auth/signing-key.entity';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/modules/auth/token.service';
import { startTestApp, type TestApp } from '../support/app';
import { bearer, createUserAndToken, refreshCookieFrom, signIn, signInAsAdmin, type SignedIn } from '../support/auth';
import { createTestDatabase } from '../support/postgres';
import { waitUntil } from '../support/wait';

function post(app: TestApp, path: string, cookie: string): Promise<Response> {
  return fetch(`${app.url}${path}`, { method: 'POST', headers: { cookie } });
}

const me = (app: TestApp, token: string) => app.gql<{ me: { username: string } }>('{ me { username } }', undefined, bearer(token));

/** A JWT with any header, signed (or not) as given: what an attacker can make. */
function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => Buffer | string = () => ''): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const signature = sign(input);
  return `${input}.${typeof signature === 'string' ? signature : base64url.encode(signature)}`;
}

/** A graphql-ws socket as one access token, kept open; reports how it closed. */
function openSocket(app: TestApp, accessToken: string) {
  let closeCode: number | undefined;
  let connected = false;
  const client: Client = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    connectionParams: { authorization: `Bearer ${accessToken}` },
    on: {
      connected: () => (connected = true),
      closed: (event) => (closeCode = (event as { code: number }).code),
    },
  });
  const query = <T>(q: string) =>
    new Promise<T>((resolve, reject) => {
      client.subscribe<T>({ query: q }, { next: (r) => (r.data ? resolve(r.data as T) : reject(new Error(JSON.stringify(r.errors)))), error: reject, complete: () => undefined });
    });
  return { client, query, closeCode: () => closeCode, connected: () => connected };
}

describe('security: signing keys (retirement, private halves, pinned algorithm)', () => {
  let app: TestApp;
  let databaseUrl: string;
  before(async () => {
    databaseUrl = await createTestDatabase('keys');
    app = await startTestApp({ DATABASE_URL: databaseUrl });
  });
  after(async () => {
    await app?.stop();
  });
  const keys = () => app.services.database.dataSource.getRepository(SigningKeyEntity);

  /** An admin token signed with the current key's private half (as someone who copied it would), valid for a day. */
  async function dayLongToken(admin: SignedIn): Promise<string> {
    const kid = decodeProtectedHeader(admin.accessToken).kid!;
    const row = await keys().createQueryBuilder('k').addSelect('k.privateJwk').where('k.kid = :kid', { kid }).getOneOrFail();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ username: 'admin', role: 'admin' })
      .setProtectedHeader({ alg: row.algorithm, kid, typ: 'at+jwt' })
      .setSubject(admin.user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 86_400)
      .sign(await importJWK(row.privateJwk as JWK, row.algorithm));
  }

  it('checks a token it verified before (kept per replica) for expiry and for its key retired past the grace, every time', async () => {
    const admin = await signInAsAdmin(app);
    const longLived = await dayLongToken(admin);
    const tokens = app.services.tokens;
    await app.gql('mutation { rotateSigningKey }', undefined, admin.headers);
    // Verified after the rotation (within the grace): accepted, and now kept by this replica.
    expect((await tokens.verify(longLived)).username).to.equal('admin');
    expect((await tokens.verify(admin.accessToken)).username).to.equal('admin');
    const later = Date.now() + 15 * 60_000 + 5000;
    // A lifetime after the retirement both are refused, though their signatures were checked before.
    const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: Error) => err.message);
    expect(await refusal(tokens.verify(longLived, later))).to.match(/retired/);
    expect(await refusal(tokens.verify(admin.accessToken, later))).to.match(/expired|retired/);
  });

  it('deletes the private half of a retired key at retirement', async () => {
    const admin = await signInAsAdmin(app);
    const oldKid = decodeProtectedHeader(admin.accessToken).kid!;
    const before = await keys().createQueryBuilder('k').addSelect('k.privateJwk').where('k.kid = :kid', { kid: oldKid }).getOneOrFail();
    expect(before.privateJwk).to.be.an('object');
    const rotated = await app.gql<{ rotateSigningKey: string }>('mutation { rotateSigningKey }', undefined, admin.headers);
    const newKid = rotated.body.data!.rotateSigningKey;
    const rows = await keys().createQueryBuilder('k').addSelect('k.privateJwk').getMany();
    const old = rows.find((r) => r.kid === oldKid)!;
    expect(old.retiredAt).to.be.an.instanceOf(Date);
    expect(old.privateJwk, 'the retired key keeps no private half').to.equal(null);
    expect(rows.find((r) => r.kid === newKid)!.privateJwk).to.be.an('object');
  });

  it('refuses tokens of a retired key once one access-token lifetime has passed since its retirement', async () => {
    const admin = await signInAsAdmin(app);
    const kid = decodeProtectedHeader(admin.accessToken).kid!;
    // Someone who copied the private key (the reason for a rotation) signs a token that lives a day.
    const forged = await dayLongToken(admin);
    expect((await me(app, forged)).body.data).to.deep.equal({ me: { username: 'admin' } });

    await app.gql('mutation { rotateSigningKey }', undefined, admin.headers);
    // Within a lifetime of the retirement, tokens signed before it still work (nobody is signed out by a rotation).
    expect((await me(app, admin.accessToken)).status).to.equal(200);
    // The retirement lies a lifetime (15 min) in the past: nothing the old key signed is valid any more.
    await keys().update({ kid }, { retiredAt: new Date(Date.now() - 15 * 60_000 - 1000) });
    // Another replica (nothing cached) reads the key as it is now.
    const replica = await startTestApp({ DATABASE_URL: databaseUrl });
    try {
      const refused = await me(replica, forged);
      expect(refused.status).to.equal(401);
      expect(refused.body.errors?.[0].message).to.match(/retired/);
      expect((await me(replica, admin.accessToken)).status).to.equal(401);
      // Tokens of the active key are unaffected.
      expect((await me(replica, (await signInAsAdmin(replica)).accessToken)).status).to.equal(200);
    } finally {
      await replica.stop();
    }
  });

  it('a rotation on one replica makes every replica sign with the new key at once', async () => {
    const replica = await startTestApp({ DATABASE_URL: databaseUrl });
    try {
      const before = decodeProtectedHeader((await signInAsAdmin(replica)).accessToken).kid;
      const admin = await signInAsAdmin(app);
      const rotated = await app.gql<{ rotateSigningKey: string }>('mutation { rotateSigningKey }', undefined, admin.headers);
      const newKid = rotated.body.data!.rotateSigningKey;
      expect(newKid).not.to.equal(before);
      // The other replica had the old key cached; the rotation reaches it over the pub/sub.
      await waitUntil(async () => decodeProtectedHeader((await signInAsAdmin(replica)).accessToken).kid === newKid, 'the other replica to sign with the new key', 10_000);
    } finally {
      await replica.stop();
    }
  });

  it("verifies with the key's own algorithm: HS256 (public key as the secret) and alg none are refused", async () => {
    const admin = await signInAsAdmin(app);
    const kid = decodeProtectedHeader(admin.accessToken).kid!;
    const row = await keys().findOneByOrFail({ kid });
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: admin.user.id, username: 'admin', role: 'admin', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 };
    const { createHmac } = await import('node:crypto');
    for (const secret of [JSON.stringify(row.publicJwk), String(row.publicJwk.x)]) {
      const hs256 = rawJwt({ alg: 'HS256', kid, typ: 'at+jwt' }, claims, (input) => createHmac('sha256', secret).update(input).digest());
      expect((await me(app, hs256)).status, 'HS256').to.equal(401);
    }
    expect((await me(app, rawJwt({ alg: 'none', kid, typ: 'at+jwt' }, claims))).status, 'alg none').to.equal(401);
    expect((await me(app, rawJwt({ alg: 'ES384', kid, typ: 'at+jwt' }, claims, () => 'AAAA'))).status, 'another alg').to.equal(401);
  });
});

describe('security: a configured signing key (STREAMSPACE_JWT_SIGNING_KEY)', () => {
  let app: TestApp;
  after(async () => {
    await app?.stop();
  });

  it('signs and verifies access tokens with it', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    app = await startTestApp({ STREAMSPACE_JWT_SIGNING_KEY: pem });
    const admin = await signInAsAdmin(app);
    expect(decodeProtectedHeader(admin.accessToken).alg).to.equal('ES256');
    expect((await me(app, admin.accessToken)).body.data).to.deep.equal({ me: { username: 'admin' } });
  });
});

describe('security: refresh families end at an absolute lifetime', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ STREAMSPACE_REFRESH_ABSOLUTE_LIFETIME: '1h' });
  });
  after(async () => {
    await app?.stop();
  });

  it('caps the cookie at the sign-in plus the lifetime, and refuses a refresh after it with sign_in_expired', async () => {
    const s = await signInAsAdmin(app);
    const r1 = await post(app, '/auth/refresh', s.refreshCookie);
    expect(r1.status).to.equal(200);
    const expires = /Expires=([^;]+)/i.exec(r1.headers.getSetCookie().join(';'))![1];
    expect(new Date(expires).getTime() - Date.now()).to.be.at.most(3_600_000);
    const c1 = refreshCookieFrom(r1)!;
    // The sign-in happened two hours ago (rotation kept the family alive): a refresh is refused.
    await app.services.database.dataSource.query(`UPDATE refresh_tokens SET family_started_at = now() - interval '2 hours'`);
    const late = await post(app, '/auth/refresh', c1);
    expect(late.status).to.equal(401);
    expect(await late.json()).to.deep.include({ error: 'sign_in_expired' });
    expect(late.headers.getSetCookie().join('\n')).to.match(/streamspace_refresh=;/);
    // A new sign-in starts a new family.
    const again = await signInAsAdmin(app);
    expect((await post(app, '/auth/refresh', again.refreshCookie)).status).to.equal(200);
  });
});

describe('security: sign-out and password change end sockets on every replica', () => {
  let one: TestApp;
  let two: TestApp;
  before(async () => {
    const env = { DATABASE_URL: await createTestDatabase('signout') };
    one = await startTestApp(env);
    two = await startTestApp(env);
  });
  after(async () => {
    await two?.stop();
    await one?.stop();
  });

  it('logout on one replica closes that sign-in’s sockets on the other; its access token stops working; other sign-ins stay', async () => {
    const user = await createUserAndToken(one);
    const other: SignedIn = await signIn(one, user.username, user.password);
    const ended = openSocket(two, user.accessToken);
    const kept = openSocket(two, other.accessToken);
    await waitUntil(() => ended.connected() && kept.connected(), 'both sockets to connect');

    const out = await post(one, '/auth/logout', user.refreshCookie);
    expect(out.status).to.equal(204);
    await waitUntil(() => ended.closeCode() === 4401, 'the signed-out socket to be closed on replica two', 10_000);
    // The access token of the ended sign-in no longer authenticates, on either replica, over HTTP or a socket.
    expect((await me(two, user.accessToken)).status).to.equal(401);
    expect((await me(one, user.accessToken)).status).to.equal(401);
    const again = openSocket(two, user.accessToken);
    await waitUntil(() => again.closeCode() === 4403, 'a new socket with it to be refused', 10_000);
    // The other sign-in's socket still answers.
    expect(await kept.query<{ me: { username: string } }>('{ me { username } }')).to.deep.equal({ me: { username: user.username } });
    expect(kept.closeCode()).to.equal(undefined);
    await Promise.all([ended.client.dispose(), kept.client.dispose(), again.client.dispose()]);
  });

  it('a reused (copied) refresh token ends its sign-in at once: its sockets close on every replica, its access token stops working', async () => {
    const user = await createUserAndToken(one);
    const socket = openSocket(two, user.accessToken);
    await waitUntil(() => socket.connected(), 'the socket to connect');
    // Both replicas have just authenticated the token (and may hold "this sign-in is live" for a moment).
    expect((await me(one, user.accessToken)).status).to.equal(200);
    expect((await me(two, user.accessToken)).status).to.equal(200);
    const rotated = await post(one, '/auth/refresh', user.refreshCookie);
    expect(rotated.status).to.equal(200);
    // The old refresh token again: someone holds a copy. Every token of the sign-in is revoked.
    expect((await post(two, '/auth/refresh', user.refreshCookie)).status).to.equal(401);
    await waitUntil(() => socket.closeCode() === 4401, "the sign-in's socket to be closed", 10_000);
    expect((await me(two, user.accessToken)).status).to.equal(401);
    expect((await me(one, user.accessToken)).status).to.equal(401);
    await socket.client.dispose();
  });

  it("a password change revokes every other sign-in (refresh and access tokens) and closes their sockets; this one's stays", async () => {
    const user = await createUserAndToken(one);
    const elsewhere = await signIn(one, user.username, user.password);
    const mine = openSocket(two, user.accessToken);
    const theirs = openSocket(two, elsewhere.accessToken);
    await waitUntil(() => mine.connected() && theirs.connected(), 'both sockets to connect');

    const changed = await one.gql('mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a-new-password-2") }', { c: user.password }, user.headers);
    expect(changed.body.data).to.deep.equal({ changePassword: true });
    await waitUntil(() => theirs.closeCode() === 4401, 'the other sign-in’s socket to be closed', 10_000);
    expect((await me(one, elsewhere.accessToken)).status).to.equal(401);
    expect((await post(one, '/auth/refresh', elsewhere.refreshCookie)).status).to.equal(401);
    // The sign-in that changed the password goes on: its token, its refresh cookie, its socket.
    expect((await me(one, user.accessToken)).status).to.equal(200);
    expect(await mine.query<{ me: { username: string } }>('{ me { username } }')).to.deep.equal({ me: { username: user.username } });
    expect(mine.closeCode()).to.equal(undefined);
    expect((await post(one, '/auth/refresh', user.refreshCookie)).status).to.equal(200);
    await Promise.all([mine.client.dispose(), theirs.client.dispose()]);
  });
});
