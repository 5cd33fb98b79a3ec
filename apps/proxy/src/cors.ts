import type http from 'node:http';
import type http2 from 'node:http2';
import { cors } from '@connectrpc/connect';

const ALLOW_METHODS = cors.allowedMethods.join(', ');
const ALLOW_HEADERS = [...cors.allowedHeaders, 'Authorization'].join(', ');
const EXPOSE_HEADERS = cors.exposedHeaders.join(', ');

/**
 * Applies CORS for browser clients (Connect and gRPC-web). Returns true when it answered the request
 * itself (a preflight).
 */
export function applyCors(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  allowedOrigins: readonly string[],
): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  const any = allowedOrigins.includes('*');
  if (!any && !allowedOrigins.includes(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
  if (!any) res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
  res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
  res.setHeader('Access-Control-Max-Age', '7200');
  res.statusCode = 204;
  res.end();
  return true;
}
