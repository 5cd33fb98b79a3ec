import { chmod, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Registry } from 'prom-client';
import { createLogger, type Logger } from './logger.js';
import { tracing } from './middleware/tracing.js';
import type { PluginDefinition } from './plugin.js';
import { PluginHost } from './plugin-host.js';
import { createPromMetrics } from './prometheus.js';
import { startTracing, type TracingOptions } from './tracing.js';
import { clientInputErrors, strictJsonOptions } from './wire/client-errors.js';
import { PEER_ADDRESS } from './wire/connect-door.js';
import { hookStreams } from './wire/stream-hook.js';

/** TLS for a TCP plugin server (PEM contents). `ca` + `requireClientCert` turn on mutual TLS. */
export interface ServeTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA bundle that signs client certificates. */
  readonly ca?: string | Buffer;
  /** Refuse clients without a certificate signed by `ca`. */
  readonly requireClientCert?: boolean;
}

/** Where and how {@link servePlugin} listens: a Unix socket, or a TCP port (optionally TLS). */
export interface ServeOptions {
  /** Unix socket path; the socket file gets mode 0600. Wins over `port`. */
  readonly socket?: string;
  /** TCP port (0 = any free port). Default 0 when no socket is given. */
  readonly port?: number;
  /** TCP address; default 127.0.0.1. */
  readonly host?: string;
  readonly tls?: ServeTlsOptions;
  /** Logger; default pino to stderr (stdout stays free for the readiness line). */
  readonly logger?: Logger;
  /**
   * Exports a span per call (a child of the caller's `traceparent`) over OTLP/HTTP. Default: from the
   * environment the proxy sets for its sidecars, `PRISM_OTLP_ENDPOINT` and `PRISM_TRACE_SAMPLE_RATIO`.
   */
  readonly tracing?: TracingOptions;
  /** Largest request message accepted (default 16 MiB). */
  readonly readMaxBytes?: number;
}

const DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024;

/** Tracing settings from `PRISM_OTLP_ENDPOINT` / `PRISM_TRACE_SAMPLE_RATIO`, if set. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TracingOptions | undefined {
  const endpoint = env.PRISM_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  const ratio = Number(env.PRISM_TRACE_SAMPLE_RATIO ?? '1');
  return { otlpEndpoint: endpoint, sampleRatio: Number.isFinite(ratio) ? ratio : 1 };
}

/** A running plugin server. */
export interface PluginServer {
  /** `unix:<path>`, `http://host:port` or `https://host:port`. */
  readonly url: string;
  readonly socket?: string;
  readonly port?: number;
  /** Stops every instance and closes the server. */
  close(): Promise<void>;
}

/**
 * Serves a plugin out of process: the `prism.plugin.v1` lifecycle plus every interface the plugin
 * declares, over HTTP/2 (gRPC, Connect, gRPC-web) on a Unix socket or a TCP port with TLS/mTLS.
 * Without options it is a command-line program (see {@link runPluginMain}): that is what an adapter's
 * `bin` calls.
 */
export async function servePlugin(def: PluginDefinition, opts?: ServeOptions): Promise<PluginServer> {
  if (!opts) return runPluginMain(def);
  const logger = opts.logger ?? createLogger({ name: `prism-plugin-${def.name}`, destination: 2 });
  const registry = new Registry();
  const tracingOptions = opts.tracing ?? tracingFromEnv();
  const traces = tracingOptions
    ? await startTracing({ ...tracingOptions, serviceName: `prism-plugin-${def.name}` })
    : undefined;
  const host = new PluginHost(def, logger, {
    registry,
    metrics: createPromMetrics(registry),
    middleware: traces ? [tracing(traces.tracer)] : [],
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
  });
  const connectHandler = connectNodeAdapter({
    routes: (router) => host.mount(router),
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    interceptors: [clientInputErrors],
    jsonOptions: strictJsonOptions,
    contextValues: (req) => {
      const values = createContextValues();
      values.set(PEER_ADDRESS, req.socket?.remoteAddress);
      return values;
    },
  });
  const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => connectHandler(req, res);
  const settings = { maxConcurrentStreams: 10_000 };
  const server = opts.tls
    ? http2.createSecureServer(
        {
          cert: opts.tls.cert,
          key: opts.tls.key,
          ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
          requestCert: !!opts.tls.requireClientCert,
          rejectUnauthorized: !!opts.tls.requireClientCert,
          settings,
        },
        handler,
      )
    : http2.createServer({ settings }, handler);
  // Binary unary calls (what the proxy sends) are answered on the raw stream; the rest goes to connect-node.
  hookStreams(server, (stream, headers) => host.serveStream(stream, headers));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });

  let url: string;
  let port: number | undefined;
  if (opts.socket) {
    await rm(opts.socket, { force: true });
    await listen(server, (cb) => server.listen(opts.socket, cb));
    await chmod(opts.socket, 0o600);
    url = `unix:${opts.socket}`;
  } else {
    const address = opts.host ?? '127.0.0.1';
    await listen(server, (cb) => server.listen(opts.port ?? 0, address, cb));
    port = (server.address() as AddressInfo).port;
    url = `${opts.tls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }
  logger.info({ address: url, plugin: def.name, version: def.version }, 'plugin serving');

  let closing: Promise<void> | undefined;
  return {
    url,
    ...(opts.socket ? { socket: opts.socket } : {}),
    ...(port !== undefined ? { port } : {}),
    close: () => {
      closing ??= (async () => {
        await host.closeAll();
        await traces?.shutdown();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sessions) s.close();
        });
        if (opts.socket) await rm(opts.socket, { force: true });
      })();
      return closing;
    },
  };
}

function listen(server: http2.Http2Server | http2.Http2SecureServer, start: (cb: () => void) => void) {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    start(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

const USAGE = (
  name: string,
) => `Usage: prism-plugin-${name} (--socket PATH | --port N [--host ADDR]) [TLS options]

  --socket PATH                 serve on a Unix socket (mode 0600)
  --port N                      serve on TCP port N (0 = any free port)
  --host ADDR                   TCP address (default 127.0.0.1)
  --tls-cert FILE --tls-key FILE  serve TLS (PEM)
  --tls-ca FILE                 CA for client certificates
  --tls-require-client-cert     mutual TLS: refuse clients without a certificate signed by --tls-ca
  --read-max-bytes N            largest request message accepted (default 16 MiB)
  --sidecar                     exit when stdin closes (the proxy that spawned this process is gone)
  -h, --help                    show this help

Prints one JSON line {"url": ...} on stdout once serving; logs go to stderr.
SIGTERM/SIGINT stop every instance and exit 0.`;

/** Command-line options of a plugin binary, parsed. */
export interface PluginCliOptions extends ServeOptions {
  readonly sidecar: boolean;
  readonly help: boolean;
}

/** Parses `--socket/--port/--host/--tls-*` (TLS files are read here). Throws with a usage hint. */
export async function parsePluginArgs(argv: readonly string[]): Promise<PluginCliOptions> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      socket: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-require-client-cert': { type: 'boolean' },
      'read-max-bytes': { type: 'string' },
      sidecar: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  if (!values.help && !values.socket && port === undefined) throw new Error('give --socket PATH or --port N');
  const readMaxBytes = values['read-max-bytes'] === undefined ? undefined : Number(values['read-max-bytes']);
  if (readMaxBytes !== undefined && (!Number.isInteger(readMaxBytes) || readMaxBytes < 1))
    throw new Error(`--read-max-bytes must be a positive integer, got "${values['read-max-bytes']}"`);
  if (!!values['tls-cert'] !== !!values['tls-key']) throw new Error('--tls-cert and --tls-key go together');
  if (values['tls-require-client-cert'] && !values['tls-ca'])
    throw new Error('--tls-require-client-cert needs --tls-ca');
  const tls = values['tls-cert']
    ? {
        cert: await readFile(values['tls-cert']),
        key: await readFile(values['tls-key'] as string),
        ...(values['tls-ca'] ? { ca: await readFile(values['tls-ca']) } : {}),
        requireClientCert: !!values['tls-require-client-cert'],
      }
    : undefined;
  return {
    ...(values.socket ? { socket: values.socket } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(tls ? { tls } : {}),
    ...(readMaxBytes ? { readMaxBytes } : {}),
    sidecar: !!values.sidecar,
    help: !!values.help,
  };
}

/**
 * The main function of a plugin binary: parses `process.argv`, serves, prints the readiness line and
 * stops cleanly on SIGTERM/SIGINT (and, with `--sidecar`, when the parent closes stdin).
 */
export async function runPluginMain(
  def: PluginDefinition,
  argv: readonly string[] = process.argv.slice(2),
): Promise<PluginServer> {
  let cli: PluginCliOptions;
  try {
    cli = await parsePluginArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE(def.name)}`);
    process.exit(2);
  }
  if (cli.help) {
    console.log(USAGE(def.name));
    process.exit(0);
  }
  const server = await servePlugin(def, cli).catch((err: Error) => {
    console.error(`prism-plugin-${def.name} failed to start: ${err.message}`);
    process.exit(1);
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, plugin: def.name, pid: process.pid })}\n`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (cli.sidecar) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
  }
  return server;
}
