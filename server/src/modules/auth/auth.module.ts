import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { USER_ACCESS_CHANGED, UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { RefreshTokenService, type SignedOutEvent } from './refresh-token.service';
import { SIGNING_KEY_ROTATED, TokenService } from './token.service';

/** PubSub topic: sign-ins of a user ended (SignedOutEvent); every replica closes the matching graphql-ws sockets. */
export const USER_SIGNED_OUT = 'USER_SIGNED_OUT';
export type { SignedOutEvent };

/** Identity: accounts (the users module, which shares the refresh tokens), sign-in, tokens. */
export interface Auth {
  tokens: TokenService;
  refreshTokens: RefreshTokenService;
  users: UsersService;
  auth: AuthService;
}

/**
 * Builds the identity services and creates the bootstrap admin on first start. A change of a user's role or
 * disabled flag is published (USER_ACCESS_CHANGED, on every replica), so open sockets can authenticate again; so
 * is a sign-out or password change (USER_SIGNED_OUT), whose sockets close, and a key rotation (SIGNING_KEY_ROTATED),
 * after which every replica signs with the new key and reads the old one's retirement.
 */
export async function createAuth(deps: { config: AppConfig; dataSource: DataSource; audit: AuditService; pubSub: AppPubSub; logger: Logger; cleanup: CleanupStack }): Promise<Auth> {
  const { config, dataSource, audit, logger, pubSub } = deps;
  const tokens = new TokenService(dataSource, { signingKeyPem: config.auth.signingKeyPem, accessTokenTtlMs: config.auth.accessTokenTtlMs });
  const refreshTokens = new RefreshTokenService(dataSource, { ttlMs: config.auth.refreshTokenTtlMs, absoluteLifetimeMs: config.auth.refreshAbsoluteLifetimeMs });
  const users = new UsersService(dataSource, audit, refreshTokens, logger);
  const auth = new AuthService(dataSource, config.auth, users, tokens, refreshTokens, audit);
  await users.bootstrapAdmin(config.auth.adminUsername, config.auth.adminPassword, config.auth.adminPasswordFile);
  users.onAccessChanged((userId) => pubSub.publish(USER_ACCESS_CHANGED, { userId }));
  refreshTokens.onSignedOut((event) => pubSub.publish(USER_SIGNED_OUT, event));
  // Sign-ins ended on any replica (this one's included): its cached "not revoked" answers go.
  const signOuts = pubSub.subscribeTopic<SignedOutEvent>(USER_SIGNED_OUT);
  deps.cleanup.push('auth cache sign-out listener', () => signOuts.return());
  void (async () => {
    for await (const _ of signOuts) refreshTokens.forgetLiveFamilies();
  })().catch((err: Error) => logger.error({ err }, 'sign-out listener (auth cache) failed'));
  tokens.onRotated((kid) => pubSub.publish(SIGNING_KEY_ROTATED, { kid }));
  const rotations = pubSub.subscribeTopic<{ kid: string }>(SIGNING_KEY_ROTATED);
  deps.cleanup.push('signing key rotation listener', () => rotations.return());
  void (async () => {
    for await (const _ of rotations) tokens.forgetKeys();
  })().catch((err: Error) => logger.error({ err }, 'signing key rotation listener failed'));
  // Changes made on other replicas arrive over the pub/sub bridge: drop the cached authentication there too.
  const accessChanges = pubSub.subscribeTopic<{ userId: string }>(USER_ACCESS_CHANGED);
  deps.cleanup.push('auth cache access listener', () => accessChanges.return());
  void (async () => {
    for await (const { userId } of accessChanges) users.forgetCached(userId);
  })().catch((err: Error) => logger.error({ err }, 'user access change listener (auth cache) failed'));
  return { tokens, refreshTokens, users, auth };
}
