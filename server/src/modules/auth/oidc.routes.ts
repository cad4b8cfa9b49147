import { randomBytes } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Passport, type AuthenticateOptions, type PassportStatic } from 'passport';
import { Strategy as OpenIDConnectStrategy } from 'passport-openidconnect';
import type { AuthConfig, OidcConfig } from '../../config/config';
import { Role } from '../../platform/graphql/authorization';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService, AuditSource } from '../audit/audit.service';
import type { UserEntity } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import { completeSignIn, readCookie, requestSource } from './auth.routes';
import type { AuthService } from './auth.service';
import type { TokenService } from './token.service';

const STATE_COOKIE = 'streamspace_oidc';
const STATE_COOKIE_PATH = '/auth/oidc';
const STATE_PURPOSE = 'streamspace-oidc-state';
const STATE_TTL_SECONDS = 600;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
}

/** Reads a claim by name, or by a dotted path for nested claims (Keycloak's `realm_access.roles`). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The role for a set of IdP claims: admin when any group is one of STREAMSPACE_OIDC_ADMIN_GROUPS, else operator
 * (STREAMSPACE_OIDC_OPERATOR_GROUPS), else auditor (STREAMSPACE_OIDC_AUDITOR_GROUPS), else user: the strongest wins.
 */
export function roleFromClaims(
  claims: Record<string, unknown>,
  oidc: Pick<OidcConfig, 'groupsClaim' | 'adminGroups'> & Partial<Pick<OidcConfig, 'operatorGroups' | 'auditorGroups'>>,
): { role: string; groups: string[] } {
  const raw = claimAt(claims, oidc.groupsClaim);
  const groups = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [])
    .filter((g): g is string => typeof g === 'string' && g.length > 0)
    // Some providers (Keycloak with full paths) prefix groups with "/".
    .map((g) => g.replace(/^\//, ''));
  const member = (list: string[] | undefined) => (list ?? []).some((a) => groups.includes(a.replace(/^\//, '')));
  const role = member(oidc.adminGroups) ? Role.ADMIN : member(oidc.operatorGroups) ? Role.OPERATOR : member(oidc.auditorGroups) ? Role.AUDITOR : Role.USER;
  return { role, groups };
}

/**
 * State and nonce live in a short-lived cookie signed with the access-token key (no server-side session,
 * so the callback may land on any replica). SameSite=Lax: the IdP's redirect back is a top-level GET.
 */
class SignedCookieStateStore {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookieSecure: (req: Request) => boolean,
  ) {}

  store(req: Request, ctx: { nonce?: string; maxAge?: number; issued?: Date }, appState: unknown, _meta: unknown, cb: (err: Error | null, handle?: string) => void) {
    const handle = randomBytes(24).toString('base64url');
    this.tokens
      .signBlob(STATE_PURPOSE, { handle, nonce: ctx.nonce, maxAge: ctx.maxAge, issued: ctx.issued?.toISOString(), state: appState ?? null }, STATE_TTL_SECONDS)
      .then((blob) => {
        req.res!.cookie(STATE_COOKIE, blob, { httpOnly: true, sameSite: 'lax', secure: this.cookieSecure(req), path: STATE_COOKIE_PATH, maxAge: STATE_TTL_SECONDS * 1000 });
        cb(null, handle);
      }, cb);
  }

  verify(req: Request, handle: string, cb: (err: Error | null, ctx?: false | object, state?: unknown) => void) {
    const blob = readCookie(req, STATE_COOKIE);
    req.res!.clearCookie(STATE_COOKIE, { path: STATE_COOKIE_PATH });
    if (!blob) return cb(null, false, { message: 'Unable to verify authorization request state (no state cookie).' });
    this.tokens.verifyBlob(STATE_PURPOSE, blob).then((payload) => {
      if (!payload) return cb(null, false, { message: 'Unable to verify authorization request state.' });
      if (payload.handle !== handle) return cb(null, false, { message: 'Invalid authorization request state.' });
      const ctx = { nonce: payload.nonce, maxAge: payload.maxAge, issued: typeof payload.issued === 'string' ? new Date(payload.issued) : undefined };
      cb(null, ctx, payload.state ?? undefined);
    }, cb);
  }
}

/**
 * Where a sign-in started with `?return=` goes back to (the admin console's SSO button sends `/admin/`): a plain path on
 * this server (letters, digits, `/ _ - .`), never `//host` or a URL; anything else is ignored. It travels in the signed
 * state cookie, so the IdP's redirect cannot change it.
 */
export function oidcReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 200) return null;
  return /^\/(?![/\\])[A-Za-z0-9/_.-]*$/.test(value) && !value.split('/').includes('..') ? value : null;
}

export interface OidcDeps {
  config: AuthConfig;
  auth: AuthService;
  users: UsersService;
  tokens: TokenService;
  audit: AuditService;
  logger: Logger;
  /** With STREAMSPACE_OIDC_SYNC_GROUPS: group memberships follow the groups claim at each sign-in (modules/groups). */
  groups?: { syncFromIdp(user: { id: string; username: string; role: string }, groups: string[], source: AuditSource): Promise<void> };
}

/**
 * GET /auth/oidc starts a sign-in at the identity provider; GET /auth/oidc/callback finishes it: the
 * ID token is checked (signature against the IdP's JWKS, issuer, audience, expiry, nonce; state via the
 * cookie), the user is provisioned or updated (role from the groups claim), and the browser is sent to
 * the portal with the same refresh cookie a password sign-in gets.
 */
export function oidcRoutes(deps: OidcDeps): Router {
  const router = Router();
  const oidc = deps.config.oidc;
  if (!oidc) {
    router.get(['/auth/oidc', '/auth/oidc/callback'], (_req, res) => {
      res.status(404).json({ error: 'oidc_not_configured', message: 'Single sign-on is not configured (STREAMSPACE_OIDC_ISSUER)' });
    });
    return router;
  }
  const cookieSecure = (req: Request) => (deps.config.cookieSecure === 'auto' ? req.secure : deps.config.cookieSecure === 'true');
  const callbackURL = oidc.redirectUrl ?? (deps.config.publicUrl ? `${deps.config.publicUrl}/auth/oidc/callback` : '/auth/oidc/callback');
  let ready: Promise<{ passport: PassportStatic }> | undefined;

  const setUp = async () => {
    const url = `${oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`OIDC discovery at ${url} answered ${res.status}`);
    const doc = (await res.json()) as Discovery;
    if (doc.issuer !== oidc.issuer && doc.issuer !== oidc.issuer.replace(/\/+$/, '')) {
      throw new Error(`OIDC discovery: issuer "${doc.issuer}" does not match STREAMSPACE_OIDC_ISSUER "${oidc.issuer}"`);
    }
    const jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
    const passport = new Passport() as PassportStatic;
    const strategy = new (OpenIDConnectStrategy as unknown as new (options: unknown, verify: unknown) => object)(
      {
        issuer: doc.issuer,
        authorizationURL: doc.authorization_endpoint,
        tokenURL: doc.token_endpoint,
        userInfoURL: doc.userinfo_endpoint ?? '',
        clientID: oidc.clientId,
        clientSecret: oidc.clientSecret,
        callbackURL,
        scope: oidc.scopes.filter((s) => s !== 'openid'),
        skipUserProfile: !doc.userinfo_endpoint,
        nonce: 'true',
        passReqToCallback: true,
        store: new SignedCookieStateStore(deps.tokens, cookieSecure) as never,
      } as never,
      // Arity 10: the UserInfo profile with its raw claims (`_json`, where groups are) and the raw ID token.
      (
        req: Request,
        _issuer: string,
        profile: { _json?: Record<string, unknown> } | undefined,
        _idProfile: unknown,
        _context: unknown,
        idToken: string,
        _accessToken: string,
        _refreshToken: string,
        _params: unknown,
        done: (err: Error | null, user?: UserEntity | false, info?: { message: string }) => void,
      ) => {
        signInFromIdp(req, doc, jwks, profile, idToken).then(
          (result) => ('user' in result ? done(null, result.user) : done(null, false, { message: result.failure })),
          (err: Error) => done(err),
        );
      },
    );
    passport.use('oidc', strategy as never);
    deps.logger.info({ issuer: doc.issuer }, 'OIDC discovery done');
    return { passport };
  };

  const signInFromIdp = async (
    req: Request,
    doc: Discovery,
    jwks: ReturnType<typeof createRemoteJWKSet>,
    profile: { _json?: Record<string, unknown> } | undefined,
    idToken: string,
  ): Promise<{ user: UserEntity } | { failure: string }> => {
    // passport-openidconnect checks issuer, audience, expiry and nonce but not the signature: do that here.
    const { payload } = await jwtVerify(idToken, jwks, { issuer: doc.issuer, audience: oidc.clientId });
    const claims: Record<string, unknown> = { ...payload, ...(profile?._json ?? {}) };
    if (claims.sub !== payload.sub) return { failure: 'userinfo subject does not match the ID token' };
    const { role, groups } = roleFromClaims(claims, oidc);
    const email = typeof claims.email === 'string' ? claims.email : null;
    const usernameClaim = claimAt(claims, oidc.usernameClaim);
    const username =
      (typeof usernameClaim === 'string' && usernameClaim) ||
      (typeof claims.preferred_username === 'string' && claims.preferred_username) ||
      (email ? email.split('@')[0] : '') ||
      String(payload.sub);
    const source = requestSource(req);
    const user = await deps.users.upsertOidcUser(
      {
        issuer: doc.issuer,
        subject: String(payload.sub),
        username,
        email,
        displayName: typeof claims.name === 'string' ? claims.name : null,
        role,
      },
      source,
    );
    if (user.disabled) {
      await deps.audit.record({ action: 'auth.login', resourceType: 'user', resourceId: user.id, outcome: 'failure', actor: user, changes: { method: 'oidc', reason: 'disabled' }, source });
      return { failure: 'This account is disabled' };
    }
    if (oidc.syncGroups) await deps.groups?.syncFromIdp(user, groups, source);
    (req as Request & { oidcGroups?: string[] }).oidcGroups = groups;
    return { user };
  };

  const passportReady = () => {
    ready ??= setUp().catch((err: unknown) => {
      ready = undefined; // try discovery again on the next request
      throw err;
    });
    return ready;
  };

  const failed = async (req: Request, res: Response, reason: string) => {
    await deps.audit.record({ action: 'auth.login', resourceType: 'user', outcome: 'failure', actor: null, changes: { method: 'oidc', reason }, source: requestSource(req) });
    const target = new URL(oidc.postLoginRedirect, 'http://placeholder');
    target.searchParams.set('login_error', 'oidc');
    res.redirect(302, target.pathname + target.search);
  };

  router.get('/auth/oidc', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { passport } = await passportReady();
      const returnTo = oidcReturnPath(req.query['return']);
      // passport types `state` as a string; passport-openidconnect keeps any value (our signed state cookie holds it).
      const options = { session: false, ...(returnTo ? { state: { returnTo } } : {}) } as unknown as AuthenticateOptions;
      passport.authenticate('oidc', options)(req, res, next);
    } catch (err) {
      deps.logger.error({ err }, 'OIDC sign-in could not start');
      res.status(503).json({ error: 'oidc_unavailable', message: 'The identity provider is not reachable; try again later' });
    }
  });

  router.get('/auth/oidc/callback', async (req: Request, res: Response, next: NextFunction) => {
    let passport: PassportStatic;
    try {
      ({ passport } = await passportReady());
    } catch (err) {
      deps.logger.error({ err }, 'OIDC callback: identity provider not reachable');
      res.status(503).json({ error: 'oidc_unavailable', message: 'The identity provider is not reachable; try again later' });
      return;
    }
    passport.authenticate('oidc', { session: false }, (err: Error | null, user: UserEntity | false, info?: { message?: string; state?: { returnTo?: unknown } }) => {
      (async () => {
        if (err || !user) {
          if (err) deps.logger.warn({ err }, 'OIDC sign-in failed');
          await failed(req, res, err ? err.message : (info?.message ?? 'rejected'));
          return;
        }
        const groups = (req as Request & { oidcGroups?: string[] }).oidcGroups ?? [];
        const result = await deps.auth.startSession(user, { method: 'oidc', issuer: oidc.issuer, groups }, requestSource(req));
        completeSignIn(deps.config, req, res, result);
        res.redirect(302, oidcReturnPath(info?.state?.returnTo) ?? oidc.postLoginRedirect);
      })().catch(next);
    })(req, res, next);
  });
  return router;
}
