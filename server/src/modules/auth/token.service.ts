import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, importPKCS8, importSPKI, jwtVerify, SignJWT, decodeProtectedHeader, type CryptoKey, type JWK } from 'jose';
import { IsNull, type DataSource, type Repository } from 'typeorm';
import type { Caller } from '../../platform/graphql/context';
import { SigningKeyEntity } from './signing-key.entity';

export const TOKEN_ISSUER = 'streamspace';
export const TOKEN_AUDIENCE = 'streamspace-api';

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

export interface AccessTokenClaims extends Caller {
  /** Expiry (seconds since the epoch). */
  exp: number;
}

/** PubSub topic: a signing key was retired ({ kid }); every replica forgets what it cached about its keys. */
export const SIGNING_KEY_ROTATED = 'SIGNING_KEY_ROTATED';
/** A key believed active is read again after this long (a safety net besides SIGNING_KEY_ROTATED). */
const ACTIVE_KEY_RECHECK_MS = 60_000;

export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

interface SigningKey {
  kid: string;
  alg: string;
  key: CryptoKey | Uint8Array;
}

/** What verifies tokens of one kid: the public key, its one algorithm, and when it was retired. */
interface VerificationKey {
  key: CryptoKey;
  alg: string;
  retiredAt: Date | null;
  loadedAt: number;
}

/**
 * Signs and verifies access tokens (short-lived JWTs). The key comes from STREAMSPACE_JWT_SIGNING_KEY,
 * or is generated once and kept in the signing_keys table, so every replica shares it. `rotate()`
 * makes a new key and deletes the private half of the old one; the old one keeps verifying tokens it signed
 * for one access-token lifetime after its retirement (no token it signed can be valid longer), then nothing.
 * Verification uses the algorithm stored with the key, never the token's `alg` header.
 */
/** Verified tokens kept per replica (about 1 KB each); the map starts over when full. */
const VERIFIED_TOKENS_MAX = 10_000;

export class TokenService {
  private signing: Promise<SigningKey> | undefined;
  private readonly verifying = new Map<string, Promise<VerificationKey | null>>();
  /** Keys being read again in the background (see verificationKey). */
  private readonly rechecking = new Set<string>();
  private readonly rotatedListeners = new Set<(kid: string) => void>();
  /**
   * Tokens whose signature this replica checked, with their claims: a token is sent with every request, and an
   * ES256 signature check costs ~0.1 ms of CPU each time. A hit still checks expiry and the key (retired past its
   * grace: refused), both in memory; a rotation or retirement anywhere clears it (forgetKeys).
   */
  private readonly verified = new Map<string, { claims: AccessTokenClaims & { sid?: string }; kid: string }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: { signingKeyPem?: string; accessTokenTtlMs: number },
  ) {}

  /** Called after a rotation committed (with the new kid); the auth module tells the other replicas. */
  onRotated(listener: (kid: string) => void): void {
    this.rotatedListeners.add(listener);
  }

  /** Another replica rotated: sign with the new key, and read every key's retirement again. */
  forgetKeys(): void {
    this.signing = undefined;
    this.verifying.clear();
    this.verified.clear();
  }

  /** `sid` names the sign-in (refresh-token family) the token belongs to, so signing out ends its tokens too. */
  async issue(user: Caller & { sid?: string }, now = new Date()): Promise<AccessToken> {
    const key = await this.signingKey();
    const expiresAt = new Date(now.getTime() + this.options.accessTokenTtlMs);
    const accessToken = await new SignJWT({ username: user.username, role: user.role, ...(user.sid ? { sid: user.sid } : {}) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setJti(randomUUID())
      .sign(key.key);
    return { accessToken, expiresAt };
  }

  /** The caller a token names; throws InvalidTokenError when it is malformed, forged or expired. */
  async verify(token: string, now = Date.now()): Promise<AccessTokenClaims & { sid?: string }> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.claims.exp * 1000 <= now) {
        this.verified.delete(token);
        throw new InvalidTokenError('The access token has expired');
      }
      if (!(await this.verificationKey(hit.kid, now))) {
        this.verified.delete(token);
        throw new InvalidTokenError('The access token was signed by an unknown or retired key');
      }
      return hit.claims;
    }
    const claims = await this.verifySignature(token, now);
    if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.clear();
    this.verified.set(token, claims);
    return claims.claims;
  }

  private async verifySignature(token: string, now: number): Promise<{ claims: AccessTokenClaims & { sid?: string }; kid: string }> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new InvalidTokenError('The access token is malformed');
    }
    if (!kid) throw new InvalidTokenError('The access token has no key id');
    const key = await this.verificationKey(kid, now);
    if (!key) throw new InvalidTokenError('The access token was signed by an unknown or retired key');
    try {
      const { payload } = await jwtVerify(token, key.key, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, typ: 'at+jwt', algorithms: [key.alg], currentDate: new Date(now) });
      if (typeof payload.sub !== 'string' || typeof payload.username !== 'string' || typeof payload.role !== 'string' || !payload.exp) {
        throw new InvalidTokenError('The access token lacks required claims');
      }
      const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
      return { claims: { id: payload.sub, username: payload.username, role: payload.role, exp: payload.exp, ...(sid ? { sid } : {}) }, kid };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      const code = (err as { code?: string }).code;
      throw new InvalidTokenError(code === 'ERR_JWT_EXPIRED' ? 'The access token has expired' : 'The access token is not valid');
    }
  }

  /** A short-lived signed blob (e.g. OIDC state and nonce kept in a cookie), verifiable on any replica. */
  async signBlob(purpose: string, payload: Record<string, unknown>, ttlSeconds: number): Promise<string> {
    const key = await this.signingKey();
    return new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: purpose })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(purpose)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key.key);
  }

  /** The payload of a blob from signBlob, or null when it is forged, expired or for another purpose. */
  async verifyBlob(purpose: string, blob: string): Promise<Record<string, unknown> | null> {
    try {
      const kid = decodeProtectedHeader(blob).kid;
      const key = kid ? await this.verificationKey(kid, Date.now()) : null;
      if (!key) return null;
      const { payload } = await jwtVerify(blob, key.key, { issuer: TOKEN_ISSUER, audience: purpose, typ: purpose, algorithms: [key.alg] });
      return payload as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  /**
   * Generates a new signing key in the database and retires the current one, deleting its private half (it never
   * signs again; its public half verifies for one more access-token lifetime). Not with a configured key.
   */
  async rotate(): Promise<string> {
    if (this.options.signingKeyPem) throw new Error('The signing key comes from STREAMSPACE_JWT_SIGNING_KEY; rotate it there');
    const kid = await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(SigningKeyEntity).update({ retiredAt: IsNull() }, { retiredAt: new Date(), privateJwk: null });
      return (await this.insertGeneratedKey(manager.getRepository(SigningKeyEntity))).kid;
    });
    this.forgetKeys();
    for (const listener of this.rotatedListeners) listener(kid);
    return kid;
  }

  private signingKey(): Promise<SigningKey> {
    this.signing ??= this.loadSigningKey().catch((err: unknown) => {
      this.signing = undefined;
      throw err;
    });
    return this.signing;
  }

  private async loadSigningKey(): Promise<SigningKey> {
    const pem = this.options.signingKeyPem;
    if (pem) {
      const { alg, kid } = describePem(pem);
      return { kid, alg, key: await importPKCS8(pem, alg) };
    }
    const repo = this.dataSource.getRepository(SigningKeyEntity);
    let row = await repo
      .createQueryBuilder('k')
      .addSelect('k.privateJwk')
      .where('k.retired_at IS NULL AND k.private_jwk IS NOT NULL')
      .orderBy('k.created_at', 'DESC')
      .getOne();
    if (!row?.privateJwk) {
      // Two replicas starting together may both get here; each inserts its own key, and verification
      // finds either by kid, so that is harmless.
      row = await this.insertGeneratedKey(repo);
    }
    return { kid: row.kid, alg: row.algorithm, key: (await importJWK(row.privateJwk! as JWK, row.algorithm)) as CryptoKey };
  }

  private async insertGeneratedKey(repo: Repository<SigningKeyEntity>): Promise<SigningKeyEntity> {
    const alg = 'ES256';
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const kid = jwkThumbprint(publicJwk);
    const row = repo.create({ kid, algorithm: alg, privateJwk: { ...privateJwk }, publicJwk: { ...publicJwk }, retiredAt: null });
    await repo.save(row);
    return row;
  }

  /** The key of `kid` while it may verify: active, or retired less than one access-token lifetime before `now`. */
  private async verificationKey(kid: string, now: number): Promise<VerificationKey | null> {
    let found = this.verifying.get(kid);
    const cached = found ? await found.catch(() => null) : null;
    if (!found) {
      found = this.loadVerificationKey(kid);
      this.verifying.set(kid, found);
      // Unknown kids are not cached, so a key made by another replica is found on the next try.
      void found.then((k) => (k ? undefined : this.verifying.delete(kid)), () => this.verifying.delete(kid));
    } else if (cached && !cached.retiredAt && now - cached.loadedAt > ACTIVE_KEY_RECHECK_MS && !this.options.signingKeyPem && !this.rechecking.has(kid)) {
      // A key believed active may have been retired by another replica (whose event this replica missed): read it
      // again now and then, beside the request (which goes on with the key as known), not in front of it.
      this.rechecking.add(kid);
      void this.loadVerificationKey(kid)
        .then((k) => {
          if (k && this.verifying.get(kid) === found) this.verifying.set(kid, Promise.resolve(k));
        })
        .catch(() => undefined)
        .finally(() => this.rechecking.delete(kid));
    }
    const key = await found;
    if (!key) return null;
    if (key.retiredAt && now >= key.retiredAt.getTime() + this.options.accessTokenTtlMs) return null;
    return key;
  }

  private async loadVerificationKey(kid: string): Promise<VerificationKey | null> {
    const pem = this.options.signingKeyPem;
    if (pem) {
      const { alg, kid: pemKid } = describePem(pem);
      if (pemKid !== kid) return null;
      const spki = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
      return { key: await importSPKI(spki, alg), alg, retiredAt: null, loadedAt: Date.now() };
    }
    const row = await this.dataSource.getRepository(SigningKeyEntity).findOneBy({ kid });
    if (!row) return null;
    return { key: (await importJWK(row.publicJwk as JWK, row.algorithm)) as CryptoKey, alg: row.algorithm, retiredAt: row.retiredAt, loadedAt: Date.now() };
  }
}

function jwkThumbprint(jwk: JWK): string {
  return createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 32);
}

/** The JWS algorithm and a stable kid for a configured PEM private key. */
export function describePem(pem: string): { alg: string; kid: string } {
  const publicKey = createPublicKey(pem);
  const type = publicKey.asymmetricKeyType;
  let alg: string;
  if (type === 'ec') {
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`STREAMSPACE_JWT_SIGNING_KEY: EC keys must use P-256 (got ${curve})`);
    alg = 'ES256';
  } else if (type === 'ed25519') {
    alg = 'EdDSA';
  } else if (type === 'rsa') {
    alg = 'RS256';
  } else {
    throw new Error(`STREAMSPACE_JWT_SIGNING_KEY: unsupported key type ${type}`);
  }
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { alg, kid: createHash('sha256').update(der).digest('base64url').slice(0, 32) };
}
