import type { Request } from 'express';
import { GraphQLError } from 'graphql';
import type { Caller } from '../../platform/graphql/context';
import { ErrorCode } from '../../platform/graphql/errors';
import type { AuthService } from './auth.service';
import { InvalidTokenError } from './token.service';

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer error="invalid_token"']]) } } });
}

/**
 * The caller of an HTTP GraphQL request: null without an Authorization header; a bad or expired token
 * fails the whole request with 401 UNAUTHENTICATED (the client refreshes and retries).
 */
export async function callerFromRequest(auth: AuthService, req: Request): Promise<Caller | null> {
  try {
    return (await auth.authenticate(req.get('authorization')))?.caller ?? null;
  } catch (err) {
    if (err instanceof InvalidTokenError) throw unauthenticated(err.message);
    throw err;
  }
}

/** The token a graphql-ws client sent: `{ authorization: 'Bearer …' }`, `{ Authorization: … }` or `{ token: … }`. */
export function tokenFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  for (const key of ['authorization', 'Authorization', 'token', 'accessToken']) {
    const value = params[key];
    if (typeof value === 'string' && value) return value;
  }
  const headers = params.headers as Record<string, unknown> | undefined;
  const fromHeaders = headers?.authorization ?? headers?.Authorization;
  return typeof fromHeaders === 'string' ? fromHeaders : undefined;
}

/** graphql-ws close code when the access token expires: clients reconnect with a fresh token. */
export const WS_CLOSE_TOKEN_EXPIRED = 4401;
/** Node timers overflow beyond ~24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
