import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';

/** The bootstrap admin of every startTestApp() (see test/support/app.ts). */
export const TEST_ADMIN = { username: 'admin', password: 'admin-password-for-tests' } as const;

export interface SignedIn {
  accessToken: string;
  expiresAt: string;
  user: { id: string; username: string; role: string };
  /** `streamspace_refresh=<token>`, ready for a Cookie header. */
  refreshCookie: string;
  /** `{ authorization: 'Bearer …' }` for app.gql(query, vars, headers). */
  headers: Record<string, string>;
}

export interface TestUser extends SignedIn {
  id: string;
  username: string;
  password: string;
  role: string;
}

/** The refresh cookie (name=value) from a response's Set-Cookie headers, if any. */
export function refreshCookieFrom(res: Response): string | undefined {
  for (const header of res.headers.getSetCookie()) {
    const [pair] = header.split(';');
    if (pair.startsWith('streamspace_refresh=') && pair !== 'streamspace_refresh=') return pair;
  }
  return undefined;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** POST /auth/login; the raw response, for tests of failures. */
export function postLogin(app: TestApp, username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${app.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password }),
  });
}

/** Signs in with a password; throws with the server's answer when that fails. */
export async function signIn(app: TestApp, username: string, password: string): Promise<SignedIn> {
  const res = await postLogin(app, username, password);
  const body = (await res.json()) as Omit<SignedIn, 'refreshCookie' | 'headers'> & { message?: string };
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${body.message ?? ''}`);
  const refreshCookie = refreshCookieFrom(res);
  if (!refreshCookie) throw new Error('sign-in answered without a refresh cookie');
  return { ...body, refreshCookie, headers: bearer(body.accessToken) };
}

export function signInAsAdmin(app: TestApp): Promise<SignedIn> {
  return signIn(app, TEST_ADMIN.username, TEST_ADMIN.password);
}

let counter = 0;

/**
 * Creates a user through the API (as the bootstrap admin) and signs it in.
 * `createUserAndToken(app)` gives a plain user; `createUserAndToken(app, 'admin')` another admin.
 */
export async function createUserAndToken(app: TestApp, role: 'user' | 'admin' | 'operator' | 'auditor' = 'user', username?: string): Promise<TestUser> {
  const admin = await signInAsAdmin(app);
  const name = username ?? `${role}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const created = await app.gql<{ createUser: { id: string } }>(
    'mutation CreateTestUser($input: CreateUserInput!) { createUser(input: $input) { id } }',
    { input: { username: name, password, role } },
    admin.headers,
  );
  if (!created.body.data?.createUser) throw new Error(`createUser failed: ${JSON.stringify(created.body.errors)}`);
  const signedIn = await signIn(app, name, password);
  return { ...signedIn, id: created.body.data.createUser.id, username: name, password, role };
}
