import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import { clientCertificateOf, codeName, type Principal, socketOf } from '@prism/sdk';
import type { AccessPolicy } from './access.js';
import { type Authenticator, bearer } from './authenticate.js';

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Guards the proxy's own HTTP surface (`/metrics`, the admin API) on the client port when auth is on: the
 * caller needs `admin` in `proxy.access`, or `authorization: Bearer <proxy.admin_token>`. Answers 401/403
 * itself and resolves false when refused.
 */
export async function allowAdmin(
  req: Request,
  res: Response,
  auth: Authenticator,
  policy: AccessPolicy,
  adminToken: string | undefined,
): Promise<boolean> {
  const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : null;
  let principal: Principal;
  try {
    if (adminToken !== undefined && authorization !== null && same(bearer(authorization), adminToken))
      return true;
    principal = await auth.authenticate({ authorization, clientCert: clientCertificateOf(socketOf(req)) });
  } catch (err) {
    const e = ConnectError.from(err);
    refuse(res, e.code === Code.Unauthenticated ? 401 : 503, e.rawMessage, codeName(e.code));
    return false;
  }
  if (policy.allowsProxy(principal, 'admin')) return true;
  refuse(
    res,
    403,
    `principal "${principal.subject}" has no admin permission on this proxy (proxy.access)`,
    'PERMISSION_DENIED',
  );
  return false;
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
