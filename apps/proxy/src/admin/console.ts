import { createReadStream, existsSync, statSync } from 'node:fs';
import type http from 'node:http';
import type http2 from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, ConnectError, createContextValues, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import {
  CLIENT_CERTIFICATE,
  clientCertificateOf,
  clientInputErrors,
  type InterfaceDefinition,
  mountPipeline,
  PEER_ADDRESS,
  type Pipeline,
  socketOf,
  strictJsonOptions,
} from '@prism/sdk';
import type { HealthService } from '../health.js';
import type { ProxyMetrics } from '../metrics.js';
import { isMetricsRequest } from '../metrics.js';

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** Where the web console is served on the admin listener. */
export const CONSOLE_PATH = '/console';

/** What {@link consoleRoutes} serves besides the admin API. */
export interface ConsoleRouteOptions {
  /** The interfaces the client port mounts: mounted here too, on the client port's pipeline. */
  readonly interfaces: readonly InterfaceDefinition[];
  readonly pipeline: Pipeline;
  readonly metrics: ProxyMetrics;
  /** The client port's guard of `/metrics` (admin permission or `proxy.admin_token` with `proxy.auth`). */
  readonly guardMetrics: (req: Request, res: Response, serve: () => void) => void;
  /** After a Drain (or during shutdown) data calls here answer UNAVAILABLE, as the client port is closed. */
  readonly health: HealthService;
  /** `proxy.read_max_bytes`, as on the client port. */
  readonly readMaxBytes: number;
  /** Ends streams when the proxy drains (the client port's connect-node shutdown signal). */
  readonly shutdownSignal: AbortSignal;
  /** The console's built files (default: {@link findConsoleDist}). */
  readonly consoleDir?: string | undefined;
}

/**
 * The built console (`@prism/console`'s `dist/`): `PRISM_CONSOLE_DIR` when set; else a `console/`
 * directory next to this module with an index.html (a deployment that copies the built files next to
 * the proxy's bundle, e.g. a container image); else the installed `@prism/console` package if this proxy
 * can resolve it; else `apps/console/dist` of the workspace this proxy runs from (found by walking up from
 * this module, so it holds for src/, dist/ and the bundle). The directory may not exist yet: it is
 * checked per request.
 */
export function findConsoleDist(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PRISM_CONSOLE_DIR) return resolve(env.PRISM_CONSOLE_DIR);
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'console');
  if (existsSync(join(beside, 'index.html'))) return beside;
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@prism/console/package.json')), 'dist');
  } catch {
    // not installed next to the proxy (the workspace does not link it: the console depends on the proxy)
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'apps/console/package.json'))) return join(dir, 'apps/console/dist');
    if (dirname(dir) === dir) return undefined;
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The page may load only its own files and call only this origin (the admin listener): no inline
 * script, no other hosts, no framing.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

function notBuilt(res: Response, dir: string | undefined): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(
    `The Prism console is not built${dir ? ` (no ${join(dir, 'index.html')})` : ''}.\n` +
      'Build it from the repository root: pnpm install && pnpm --filter @prism/console build\n' +
      '(npm test builds it too; npm start installs only the proxy), or point PRISM_CONSOLE_DIR at a built\n' +
      'console. No proxy restart is needed.\n',
  );
}

/** Serves `/console/...` from the built files; `dir` is re-checked per request (build while running). */
function serveStatic(req: Request, res: Response, dir: string | undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://console');
  // /console → /console/, so the page's relative asset URLs resolve under /console/.
  if (url.pathname === CONSOLE_PATH) {
    res.writeHead(308, { location: `${CONSOLE_PATH}/${url.search}` }).end();
    return;
  }
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    notBuilt(res, dir);
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname.slice(CONSOLE_PATH.length + 1)) || 'index.html';
  } catch {
    res.writeHead(400).end();
    return;
  }
  const file = resolve(dir, rel);
  const inside = file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  const stat = inside && existsSync(file) ? statSync(file) : undefined;
  // The console routes in its URL hash, so any other path is a missing file.
  if (!stat?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': String(stat.size),
    // The build names assets by content hash; index.html must be re-read to pick up a new build.
    'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res as NodeJS.WritableStream);
}

/**
 * The web console's routes on the admin listener, tried before the admin API: the built page at
 * `/console/` (`/` redirects there), `GET /metrics` behind the same guard as on the client port, and every
 * client interface (KeyValueBasicInterface, …) through the client port's pipeline, so the page's data
 * calls are same-origin and are authenticated, authorized, limited, counted and audited exactly like
 * calls on the client port. Returns a handler that answers and returns true for those requests.
 */
export function consoleRoutes(opts: ConsoleRouteOptions): (req: Request, res: Response) => boolean {
  const dir = opts.consoleDir ?? findConsoleDist();
  const services = new Set(opts.interfaces.map((i) => i.service.typeName));
  // A drained proxy serves no more data calls on any port.
  const refuseWhenDrained: Interceptor = (next) => async (req) => {
    if ((await opts.health.status('')) !== Status.SERVING)
      throw new ConnectError('proxy is drained or shutting down: it serves no more calls', Code.Unavailable);
    return next(req);
  };
  const data = connectNodeAdapter({
    routes: (router) => mountPipeline(router, opts.interfaces, opts.pipeline),
    contextValues: (req) =>
      createContextValues()
        .set(PEER_ADDRESS, req.socket?.remoteAddress)
        .set(CLIENT_CERTIFICATE, clientCertificateOf(socketOf(req))),
    readMaxBytes: opts.readMaxBytes,
    interceptors: [clientInputErrors, refuseWhenDrained],
    jsonOptions: strictJsonOptions,
    compressMinBytes: 16 * 1024,
    shutdownSignal: opts.shutdownSignal,
  });
  return (req, res) => {
    const path = req.url ?? '/';
    if (path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`) || path.startsWith(`${CONSOLE_PATH}?`)) {
      serveStatic(req, res, dir);
      return true;
    }
    if ((path === '/' || path.startsWith('/?')) && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(302, { location: `${CONSOLE_PATH}/` }).end();
      return true;
    }
    if (isMetricsRequest(req)) {
      opts.guardMetrics(req, res, () => void opts.metrics.serve(res));
      return true;
    }
    const service = path.slice(1, path.indexOf('/', 1));
    if (path.indexOf('/', 1) > 0 && services.has(service)) {
      data(req, res);
      return true;
    }
    return false;
  };
}
