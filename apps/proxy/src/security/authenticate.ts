import { Code, ConnectError } from '@connectrpc/connect';
import type { AuthConfig } from '@prism/config';
import { type ClientCertificate, isPromise, type Middleware, type Principal } from '@prism/sdk';
import { JwtVerifier, type JwtVerifierOptions } from './jwt.js';

/** What a caller presents: the `authorization` header and the TLS client certificate. */
export interface Credentials {
  readonly authorization: string | null;
  readonly clientCert?: ClientCertificate | undefined;
}

/** The caller without credentials, when `allow_anonymous` lets them in. */
export const ANONYMOUS: Principal = Object.freeze({
  subject: 'anonymous',
  groups: [],
  provider: 'anonymous',
});

/** Validated tokens kept; beyond this the oldest is dropped (a token is re-verified when it comes back). */
const MAX_CACHED_TOKENS = 10_000;
const CACHE_KEY_CHARS = 24;

/**
 * Turns credentials into a principal with the configured providers. A bearer token goes to the JWT
 * provider of its issuer; without one, a verified client certificate goes to the mTLS provider; without
 * either, the caller is anonymous when allowed. A validated token is cached until it expires, so
 * steady-state calls pay one map lookup, not a signature check.
 */
export class Authenticator {
  private readonly jwt: JwtVerifier[];
  private readonly mtls: string | undefined;
  private readonly tokens = new Map<string, { header: string; principal: Principal; expiresAt: number }>();

  constructor(
    readonly config: AuthConfig,
    options: JwtVerifierOptions = {},
  ) {
    this.jwt = config.providers.flatMap((p) => (p.type === 'jwt' ? [new JwtVerifier(p, options)] : []));
    this.mtls = config.providers.find((p) => p.type === 'mtls')?.name;
  }

  /** Fetches every provider's keys (best effort: a failure is retried on the first call). */
  warm(): Promise<unknown> {
    return Promise.allSettled(this.jwt.map((v) => v.warm()));
  }

  /** The caller's principal (sync when cached); throws UNAUTHENTICATED saying what is wrong. */
  authenticate(creds: Credentials): Principal | Promise<Principal> {
    const header = creds.authorization;
    if (header !== null) {
      // Keyed by the header's tail (signature bytes, effectively random) so a hit hashes a few
      // characters, not the whole token; the full header must still match.
      const hit = this.tokens.get(header.slice(-CACHE_KEY_CHARS));
      if (hit && hit.header === header && hit.expiresAt > Date.now()) return hit.principal;
      return this.verify(header);
    }
    const cert = creds.clientCert;
    if (cert && this.mtls !== undefined) {
      if (!cert.verified)
        throw new ConnectError(
          `client certificate rejected (provider "${this.mtls}"): ${cert.error ?? 'not signed by the client CA'}`,
          Code.Unauthenticated,
        );
      if (!cert.identity)
        throw new ConnectError(
          `client certificate rejected (provider "${this.mtls}"): it names no URI SAN, DNS SAN or CN`,
          Code.Unauthenticated,
        );
      return { subject: cert.identity, groups: [], provider: this.mtls };
    }
    if (this.config.allowAnonymous) return ANONYMOUS;
    const ways = [
      this.jwt.length ? 'an "authorization: Bearer <token>" header' : undefined,
      this.mtls !== undefined ? 'a client certificate' : undefined,
    ].filter(Boolean);
    throw new ConnectError(`no credentials: this proxy needs ${ways.join(' or ')}`, Code.Unauthenticated);
  }

  private async verify(header: string): Promise<Principal> {
    const token = bearer(header);
    const { principal, expiresAt } = await this.verifierFor(token).verify(token);
    const key = header.slice(-CACHE_KEY_CHARS);
    if (!this.tokens.has(key) && this.tokens.size >= MAX_CACHED_TOKENS)
      this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(key, { header, principal, expiresAt });
    return principal;
  }

  /** The JWT provider of the token's issuer (read unverified, only to pick the provider). */
  private verifierFor(token: string): JwtVerifier {
    if (this.jwt.length === 0)
      throw new ConnectError(
        'bearer tokens are not accepted here: no jwt provider is configured',
        Code.Unauthenticated,
      );
    const iss = unverifiedIssuer(token);
    if (iss === undefined)
      throw new ConnectError(
        'invalid bearer token: it is not a well-formed JWT with an "iss" claim',
        Code.Unauthenticated,
      );
    const match = this.jwt.find((v) => v.config.issuer === iss);
    if (!match)
      throw new ConnectError(
        `invalid bearer token: its issuer ${JSON.stringify(iss)} is not trusted (trusted: ${this.jwt.map((v) => v.config.issuer).join(', ')})`,
        Code.Unauthenticated,
      );
    return match;
  }
}

/** The authentication middleware: sets `call.principal` or fails the call UNAUTHENTICATED. */
export function authenticate(auth: Authenticator): Middleware {
  return (next) => (call) => {
    const principal = auth.authenticate({
      authorization: call.header('authorization'),
      clientCert: call.clientCert,
    });
    if (!isPromise(principal)) {
      call.principal = principal;
      return next(call);
    }
    return principal.then((p) => {
      call.principal = p;
      return next(call);
    });
  };
}

/** The token of an `authorization: Bearer <token>` header; throws UNAUTHENTICATED for other forms. */
export function bearer(header: string): string {
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!m)
    throw new ConnectError('malformed authorization header: expected "Bearer <token>"', Code.Unauthenticated);
  return m[1] as string;
}

function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      iss?: unknown;
    };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}
