import { Code, ConnectError } from '@connectrpc/connect';
import type { JwtProviderConfig } from '@prism/config';
import type { Principal } from '@prism/sdk';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** How long a fetched key set is trusted before it is fetched again (an unknown `kid` refetches sooner). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** Least time between two fetches, so a flood of unknown `kid`s cannot hammer the identity provider. */
const JWKS_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5000;

/** Tuning of {@link JwtVerifier} (tests shorten the cooldown). */
export interface JwtVerifierOptions {
  readonly fetch?: typeof fetch;
  /** Least time between two key set fetches (default 30 s). */
  readonly jwksCooldownMs?: number;
}

/**
 * Verifies JWTs of one issuer with `jose`: keys from `jwks_url` or OIDC discovery, cached and refetched
 * when a token names an unknown `kid`; an asymmetric-only algorithm allow-list; `exp` required and
 * `exp`/`nbf` checked with a clock-skew allowance.
 */
export class JwtVerifier {
  private keys: Promise<KeySet> | undefined;

  private readonly fetchImpl: typeof fetch;

  constructor(
    readonly config: JwtProviderConfig,
    private readonly options: JwtVerifierOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The principal a token names, with its expiry (ms since the epoch); throws UNAUTHENTICATED. */
  async verify(token: string): Promise<{ principal: Principal; expiresAt: number }> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw this.explain(err);
    }
    const subject = payload.sub as string;
    return {
      principal: { subject, groups: groupsOf(payload[this.config.groupsClaim]), provider: this.config.name },
      expiresAt: (payload.exp as number) * 1000,
    };
  }

  /** Fetches the key set now (at start, so the first call does not wait); failures are retried on use. */
  async warm(): Promise<void> {
    await (await this.keySet()).reload();
  }

  private keySet(): Promise<KeySet> {
    this.keys ??= this.jwksUrl().then(
      (url) =>
        createRemoteJWKSet(new URL(url), {
          cacheMaxAge: JWKS_MAX_AGE_MS,
          cooldownDuration: this.options.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
          timeoutDuration: FETCH_TIMEOUT_MS,
        }),
      (err: unknown) => {
        this.keys = undefined; // discovery failed: try again on the next call
        throw err;
      },
    );
    return this.keys;
  }

  /** `jwks_url`, or the `jwks_uri` of the issuer's OpenID configuration. */
  private async jwksUrl(): Promise<string> {
    if (this.config.jwksUrl) return this.config.jwksUrl;
    const issuer = this.config.issuer;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw new ConnectError(
        `cannot verify tokens: OIDC discovery at ${url} failed (${(err as Error).message})`,
        Code.Unavailable,
      );
    }
    if (doc.issuer !== issuer || typeof doc.jwks_uri !== 'string')
      throw new ConnectError(
        `cannot verify tokens: ${url} ${doc.issuer !== issuer ? `names issuer ${JSON.stringify(doc.issuer)}, not "${issuer}"` : 'has no jwks_uri'}`,
        Code.Unavailable,
      );
    return doc.jwks_uri;
  }

  /** A jose failure as the error the caller gets: what is wrong with the token, never the token. */
  private explain(err: unknown): ConnectError {
    const unauthenticated = (why: string) =>
      new ConnectError(`invalid bearer token (provider "${this.config.name}"): ${why}`, Code.Unauthenticated);
    if (err instanceof errors.JWTExpired)
      return unauthenticated(`expired at ${new Date((err.payload.exp ?? 0) * 1000).toISOString()}`);
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'aud')
        return unauthenticated(`audience is not ${this.config.audience.map((a) => `"${a}"`).join(' or ')}`);
      if (err.claim === 'iss') return unauthenticated(`issuer is not "${this.config.issuer}"`);
      if (err.claim === 'nbf') return unauthenticated('not valid yet (nbf is in the future)');
      if (err.reason === 'missing') return unauthenticated(`it has no "${err.claim}" claim`);
      return unauthenticated(`claim "${err.claim}" is invalid`);
    }
    if (err instanceof errors.JOSEAlgNotAllowed)
      return unauthenticated(`its algorithm is not allowed (allowed: ${this.config.algorithms.join(', ')})`);
    if (err instanceof errors.JWKSNoMatchingKey)
      return unauthenticated("it is signed by a key the issuer's key set does not have");
    if (err instanceof errors.JWSSignatureVerificationFailed)
      return unauthenticated('the signature does not verify');
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
      return unauthenticated('it is not a well-formed JWT');
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof TypeError)
      return new ConnectError(
        `cannot verify tokens: the key set of "${this.config.issuer}" is unreachable or invalid`,
        Code.Unavailable,
      );
    if (err instanceof ConnectError) return err;
    if (err instanceof errors.JOSEError && err.code !== 'ERR_JOSE_GENERIC') return unauthenticated(err.code);
    return new ConnectError(`cannot verify tokens: ${(err as Error).message}`, Code.Unavailable);
  }
}

/** Groups from a claim: a list of strings or one space-separated string (OAuth `scope` style). */
function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  return [];
}
