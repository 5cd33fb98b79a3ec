import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuthConfig, JwtProviderConfig } from '@prism/config';
import { JWT_ALGORITHMS } from '@prism/config';
import { startIdentityProvider, type TestIdentityProvider } from '@prism/testing';
import { SignJWT } from 'jose';
import { ANONYMOUS, Authenticator, type Credentials } from './authenticate.js';

let idp: TestIdentityProvider;
let other: TestIdentityProvider;
const jwt = (p: TestIdentityProvider, extra: Partial<JwtProviderConfig> = {}): JwtProviderConfig => ({
  name: 'main',
  type: 'jwt',
  issuer: p.issuer,
  audience: ['prism'],
  algorithms: [...JWT_ALGORITHMS],
  groupsClaim: 'groups',
  clockSkewSeconds: 30,
  ...extra,
});
const auth = (providers: AuthConfig['providers'], allowAnonymous = false) =>
  new Authenticator({ providers, allowAnonymous });
const bearer = (token: string): Credentials => ({ authorization: `Bearer ${token}` });

/** The error `fn` fails with (its code and message), checked never to contain `secret`. */
async function failure(fn: () => unknown, secret?: string): Promise<ConnectError> {
  try {
    await fn();
  } catch (err) {
    const e = ConnectError.from(err);
    if (secret) expect(e.message).not.toContain(secret);
    return e;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  idp = await startIdentityProvider('prism');
  other = await startIdentityProvider('prism');
});
afterAll(async () => {
  await idp?.stop();
  await other?.stop();
});

describe('jwt provider', () => {
  it('accepts a valid token: subject, groups from the configured claim, provider name', async () => {
    const a = auth([jwt(idp, { groupsClaim: 'roles' })]);
    const token = await idp.token({ sub: 'alice', roles: ['readers', 'ops'] });
    expect(await a.authenticate(bearer(token))).toEqual({
      subject: 'alice',
      groups: ['readers', 'ops'],
      provider: 'main',
    });
  });

  it('caches a validated token: the next call answers synchronously, without a signature check', async () => {
    const a = auth([jwt(idp)]);
    const token = await idp.token({ sub: 'bob' });
    await a.authenticate(bearer(token));
    const again = a.authenticate(bearer(token));
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as { subject: string }).subject).toBe('bob');
  });

  it('discovers the key set from the issuer, and refetches it for an unknown kid', async () => {
    const a = new Authenticator({ providers: [jwt(idp)], allowAnonymous: false }, { jwksCooldownMs: 0 }); // no jwks_url: OIDC discovery
    await a.authenticate(bearer(await idp.token({ sub: 'c1' })));
    const before = idp.jwksFetches;
    await idp.rotateKey();
    await a.authenticate(bearer(await idp.token({ sub: 'c2' })));
    expect(idp.jwksFetches).toBe(before + 1);
  });

  it.each([
    ['expired', { expiresIn: -120 }, {}, /expired at/],
    ['for another audience', { aud: 'billing' }, {}, /audience is not "prism"/],
    ['not valid yet', { notBefore: 600 }, {}, /not valid yet/],
    [
      'signed by a key outside the key set (same kid)',
      {},
      { key: 'foreign' as const },
      /signature does not verify/,
    ],
    [
      'signed under a kid the issuer never published',
      {},
      { kid: 'nope' },
      /key the issuer's key set does not have/,
    ],
  ])('rejects a token %s: UNAUTHENTICATED saying why, never the token', async (_what, claims, opts, why) => {
    const a = auth([jwt(idp, { jwksUrl: idp.jwksUrl })]);
    const token = await idp.token({ sub: 'eve', ...claims }, opts);
    const err = await failure(() => a.authenticate(bearer(token)), token);
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(why);
  });

  it('allows a small clock skew on exp', async () => {
    const a = auth([jwt(idp, { clockSkewSeconds: 60 })]);
    await expect(a.authenticate(bearer(await idp.token({ expiresIn: -20 })))).resolves.toMatchObject({
      subject: 'test-user',
    });
  });

  it('rejects a token from another issuer, alg none and HS256', async () => {
    const a = auth([jwt(idp)]);
    const foreign = await other.token({ sub: 'mallory' });
    expect((await failure(() => a.authenticate(bearer(foreign)), foreign)).rawMessage).toMatch(
      /issuer .* is not trusted/,
    );

    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: idp.issuer, aud: 'prism', sub: 'root', exp: now + 60 };
    const none = `${enc({ alg: 'none' })}.${enc(payload)}.`;
    expect((await failure(() => a.authenticate(bearer(none)), none)).code).toBe(Code.Unauthenticated);
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('k'.repeat(32)));
    const err = await failure(() => a.authenticate(bearer(hs)), hs);
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/algorithm is not allowed/);
  });

  it('picks the provider by issuer when several are configured', async () => {
    const a = auth([jwt(idp), jwt(other, { name: 'partner' })]);
    expect(await a.authenticate(bearer(await other.token({ sub: 'p' })))).toMatchObject({
      subject: 'p',
      provider: 'partner',
    });
    expect(await a.authenticate(bearer(await idp.token({ sub: 'm' })))).toMatchObject({
      subject: 'm',
      provider: 'main',
    });
    const bad = await failure(() => a.authenticate(bearer('not-a-jwt')));
    expect(bad.rawMessage).toMatch(/not a well-formed JWT/);
    expect(bad.code).toBe(Code.Unauthenticated);
  });

  it('reports an unreachable identity provider as UNAVAILABLE, not as the caller’s fault', async () => {
    const a = auth([jwt(idp, { issuer: 'http://127.0.0.1:9/', name: 'gone' })]);
    const err = await failure(async () =>
      a.authenticate(bearer(await idp.token({ iss: 'http://127.0.0.1:9/' }))),
    );
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/OIDC discovery/);
  });
});

describe('credentials', () => {
  it('no credentials: UNAUTHENTICATED naming what to send; anonymous when allowed', async () => {
    const err = await failure(() =>
      auth([jwt(idp), { name: 'certs', type: 'mtls' }]).authenticate({ authorization: null }),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/authorization: Bearer <token>" header or a client certificate/);
    expect(auth([jwt(idp)], true).authenticate({ authorization: null })).toBe(ANONYMOUS);
  });

  it('a malformed authorization header is UNAUTHENTICATED without echoing it', async () => {
    const err = await failure(
      () => auth([jwt(idp)]).authenticate({ authorization: 'Basic c2VjcmV0OnB3' }),
      'c2VjcmV0OnB3',
    );
    expect(err.rawMessage).toMatch(/expected "Bearer <token>"/);
  });

  it('mtls: a verified certificate is the principal; an unverified one is refused', async () => {
    const a = auth([{ name: 'certs', type: 'mtls' }]);
    expect(
      a.authenticate({
        authorization: null,
        clientCert: { identity: 'spiffe://prism.test/app', verified: true },
      }),
    ).toEqual({
      subject: 'spiffe://prism.test/app',
      groups: [],
      provider: 'certs',
    });
    const err = await failure(() =>
      a.authenticate({
        authorization: null,
        clientCert: { identity: 'x', verified: false, error: 'SELF_SIGNED_CERT_IN_CHAIN' },
      }),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/SELF_SIGNED_CERT_IN_CHAIN/);
  });
});
