import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface SigningKey {
  readonly kid: string;
  readonly privateKey: PrivateKey;
  readonly jwk: JWK;
}

/** What a test token says; `expiresIn`/`notBefore` are seconds relative to now (negative: in the past). */
export interface TokenClaims {
  sub?: string;
  aud?: string | string[];
  iss?: string;
  groups?: string[];
  expiresIn?: number;
  notBefore?: number;
  [claim: string]: unknown;
}

/** How a test token is signed: by a key the provider does not publish, under a kid of choice. */
export interface SignOptions {
  /** `foreign`: a key outside the key set (with the current kid); default: the current key. */
  key?: 'current' | 'foreign';
  kid?: string;
}

/** A real OIDC identity provider for tests: discovery document, JWKS endpoint, token signing. */
export interface TestIdentityProvider {
  /** Issuer URL, e.g. `http://127.0.0.1:41234` (discovery at `/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** How many times the key set was fetched. */
  readonly jwksFetches: number;
  /** Signs a token (RS256) for `audience` unless `claims.aud` says otherwise; expires in 5 minutes by default. */
  token(claims?: TokenClaims, opts?: SignOptions): Promise<string>;
  /** Publishes a new signing key (old tokens stay valid while the old key is published). */
  rotateKey(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts an identity provider on a free loopback port with RS256 keys made by `jose`. Tokens carry
 * `iss`, `aud` (default `audience`), `sub`, `iat`, `exp` and any extra claims.
 */
export async function startIdentityProvider(audience = 'prism'): Promise<TestIdentityProvider> {
  const keys: SigningKey[] = [await newKey()];
  const foreign = await newKey();
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    get jwksFetches() {
      return fetches;
    },
    async token(claims = {}, opts = {}) {
      const { expiresIn = 300, notBefore, sub = 'test-user', aud = audience, iss = issuer, ...rest } = claims;
      const current = keys[keys.length - 1] as SigningKey;
      const key = opts.key === 'foreign' ? foreign : current;
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT(rest as JWTPayload)
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? current.kid })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresIn);
      if (notBefore !== undefined) jwt.setNotBefore(now + notBefore);
      return jwt.sign(key.privateKey);
    },
    async rotateKey() {
      keys.push(await newKey());
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
