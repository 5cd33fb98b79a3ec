import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import { clientCertificateOf, codeName, type Principal, socketOf } from '@prism/sdk';
import type { AccessPolicy } from './access.js';
import { type Authenticator, bearer, type Credentials } from './authenticate.js';

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** How the proxy's own surface authenticates: `proxy.auth` (with `proxy.access`) and/or `proxy.admin_token`. */
export interface AdminAuth {
  readonly auth?: { readonly authenticator: Authenticator; readonly policy: AccessPolicy } | undefined;
  readonly adminToken?: string | undefined;
}

/** Who a caller of the proxy's own surface holding the admin token is (for the audit log). */
export const ADMIN_TOKEN_PRINCIPAL: Principal = Object.freeze({
  subject: 'admin_token',
  groups: [],
  provider: 'admin_token',
});

/**
 * Decides whether a caller may use the proxy's own surface (the admin API, `/metrics` on the client port):
 * `authorization: Bearer <proxy.admin_token>` (compared in constant time), or a principal that
 * `proxy.auth` authenticates and `proxy.access` grants `admin`. Resolves with the caller; rejects with a
 * ConnectError: UNAUTHENTICATED (no or bad credentials), PERMISSION_DENIED (no admin permission), or
 * the authenticator's own code (UNAVAILABLE when a key set cannot be fetched). Callers check first that
 * there is something to enforce (either setting present).
 */
export async function authorizeAdmin(creds: Credentials, guard: AdminAuth): Promise<Principal> {
  const { auth, adminToken } = guard;
  const header = creds.authorization;
  if (
    adminToken !== undefined &&
    header !== null &&
    /^Bearer /i.test(header) &&
    same(bearer(header), adminToken)
  )
    return ADMIN_TOKEN_PRINCIPAL;
  if (!auth)
    throw new ConnectError(
      header === null
        ? 'no credentials: the admin API needs "authorization: Bearer <proxy.admin_token>"'
        : 'the authorization header is not "Bearer <proxy.admin_token>"',
      Code.Unauthenticated,
    );
  const principal = await auth.authenticator.authenticate(creds);
  if (auth.policy.allowsProxy(principal, 'admin')) return principal;
  throw new ConnectError(
    `principal "${principal.subject}" (provider ${principal.provider}) has no admin permission on this proxy (proxy.access)`,
    Code.PermissionDenied,
  );
}

/**
 * Guards the proxy's own HTTP surface on the client port (`/metrics`) when auth is on: see
 * {@link authorizeAdmin}. Answers 401/403/503 itself and resolves false when refused.
 */
export async function allowAdmin(
  req: Request,
  res: Response,
  auth: Authenticator,
  policy: AccessPolicy,
  adminToken: string | undefined,
): Promise<boolean> {
  const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : null;
  try {
    await authorizeAdmin(
      { authorization, clientCert: clientCertificateOf(socketOf(req)) },
      { auth: { authenticator: auth, policy }, adminToken },
    );
    return true;
  } catch (err) {
    const e = ConnectError.from(err);
    const status = e.code === Code.Unauthenticated ? 401 : e.code === Code.PermissionDenied ? 403 : 503;
    refuse(res, status, e.rawMessage, codeName(e.code));
    return false;
  }
}

function refuse(res: Response, status: number, message: string, code: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.end(`${code}: ${message}\n`);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
