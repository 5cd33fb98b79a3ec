import { type DescMessage, type MessageShape, toJson as messageToJson } from '@bufbuild/protobuf';
import { type Timestamp, timestampDate } from '@bufbuild/protobuf/wkt';
import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { AdminService, type PluginStatus } from '@prism/proto/prism/admin/v1/admin_pb';
import { type Command, Option } from 'commander';
import { CheckFailedError, type JsonOption, UsageError, withJson } from './io.js';
import { toJson } from './output.js';

/** The admin listener of the built-in config (`proxy.admin.listen`). */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8981';
/** Environment variables the remote options fall back to. */
export const ENDPOINT_ENV = 'PRISM_ADMIN_ENDPOINT';
export const TOKEN_ENV = 'PRISM_ADMIN_TOKEN';

/** How long opening the connection may take before the endpoint counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Deadline of one admin call (a sidecar restart included), unless the command sets its own. */
const CALL_TIMEOUT_MS = 60_000;

/** Options of every command that calls the admin API. */
export interface RemoteOptions extends JsonOption {
  readonly endpoint: string;
  readonly token?: string;
}

/** Adds `--endpoint`, `--token` (both with an environment fallback) and `--json` to a remote command. */
export function withRemote(cmd: Command): Command {
  cmd
    .addOption(
      new Option('--endpoint <url>', 'admin API of the proxy (its proxy.admin.listen)')
        .default(DEFAULT_ENDPOINT)
        .env(ENDPOINT_ENV),
    )
    .addOption(
      new Option(
        '--token <token>',
        'bearer token: proxy.admin_token, or a token of a principal with admin in proxy.access',
      ).env(TOKEN_ENV),
    );
  return withJson(cmd);
}

/** The base URL of `--endpoint` (`host:port` means `http://host:port`); a bad one is a usage error. */
export function endpointUrl(endpoint: string): string {
  const text = endpoint.includes('://') ? endpoint : `http://${endpoint}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not a URL (e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)}: use http:// or https://`);
  if (url.search || url.hash || url.username || url.password)
    throw new UsageError(
      `--endpoint ${JSON.stringify(endpoint)}: give only scheme, host, port (and a path prefix)`,
    );
  return url.href.replace(/\/$/, '');
}

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

/** Network error codes (of the cause) that mean the endpoint could not be reached at all. */
function networkCause(err: unknown): string | undefined {
  // Duck-typed: errors of node:net may come from another realm (jest's vm) than `Error` here.
  for (let c = err, depth = 0; typeof c === 'object' && c !== null && depth < 5; depth++) {
    const { code, cause } = c as { code?: unknown; cause?: unknown };
    c = cause;
    if (typeof code === 'string' && /^(E[A-Z]+|ERR_SSL_.*|ERR_TLS_.*|ERR_HTTP2_.*|.*CERT.*)$/.test(code))
      return code;
  }
  return undefined;
}

/** OpenSSL's `…:SSL routines:fn:wrong version number:file:line:` as `TLS: wrong version number`. */
const cleanReason = (reason: string) => {
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(reason);
  return ssl ? `TLS: ${ssl[1]}` : reason.trim().replace(/^\w*Error: /, '');
};

const unreachable = (url: string, reason: string, code?: string) =>
  `cannot reach the admin API at ${url}: ${cleanReason(reason)}${
    code && /CERT|ERR_TLS/.test(code)
      ? ' (a private CA: set NODE_EXTRA_CA_CERTS=ca.pem)'
      : code === 'ERR_SSL_WRONG_VERSION_NUMBER'
        ? ' (the listener has no TLS: use http://)'
        : ''
  } — is the proxy running with proxy.admin.listen?`;

/** `UNAUTHENTICATED` for Code.Unauthenticated. */
const codeName = (code: Code) =>
  Code[code]?.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() ?? String(code);

/** The message of a failed admin call, with what to do about it. */
export function callFailure(url: string, err: unknown): string {
  const e = ConnectError.from(err);
  const net = networkCause(e);
  if (net && (e.code === Code.Unavailable || e.code === Code.Internal || e.code === Code.Unknown))
    return unreachable(url, e.rawMessage, net);
  const what = `${e.rawMessage} (${codeName(e.code)})`;
  switch (e.code) {
    case Code.Unauthenticated:
      return `the admin API at ${url} refused the call: ${what}; pass --token TOKEN or set ${TOKEN_ENV} (proxy.admin_token, or a token of a principal with admin in proxy.access)`;
    case Code.PermissionDenied:
      return `the admin API at ${url} refused the call: ${what}; pass --token with proxy.admin_token or a token of a principal granted admin in proxy.access`;
    case Code.Unimplemented:
      return `${url} does not serve prism.admin.v1.AdminService: ${what}; is it the admin listener (proxy.admin.listen), not the client port?`;
    case Code.Canceled:
      // prismctl cancels nothing: the other end reset the stream (plain HTTP/2 sent to a TLS listener).
      return `the admin API at ${url} closed the call: ${what}${url.startsWith('http:') ? '; if the proxy has proxy.tls, use https://' : ''}`;
    case Code.DeadlineExceeded:
      return `the admin API at ${url} did not answer in time: ${what}`;
    default:
      return what;
  }
}

/** Options of {@link callAdmin}. */
export interface CallOptions {
  /** Deadline of the call in ms; `null`: none (the proxy bounds it itself). Default 60 s. */
  readonly timeoutMs?: number | null;
  /** Receives notes for stderr (a token sent in clear text). */
  readonly warn?: (text: string) => void;
}

/**
 * Connects to the admin API at `opts.endpoint`, runs `fn` with a client (sending `authorization: Bearer`
 * when `opts.token` is set) and closes the connection. Every failure becomes a {@link CheckFailedError}
 * (exit 1) saying what to do: an unreachable endpoint, a missing or refused token, a wrong port.
 */
export async function callAdmin<T>(
  opts: RemoteOptions,
  fn: (admin: Client<typeof AdminService>) => Promise<T>,
  options: CallOptions = {},
): Promise<T> {
  const url = endpointUrl(opts.endpoint);
  const token = opts.token?.trim();
  const { protocol, hostname } = new URL(url);
  if (token && protocol === 'http:' && !isLoopback(hostname))
    options.warn?.(`note: the token is sent in clear text to ${url} (the admin listener has no TLS)`);
  const sessions = new Http2SessionManager(url);
  try {
    let timer: NodeJS.Timeout | undefined;
    const connected = await Promise.race([
      sessions.connect(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CONNECT_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (connected === 'timeout')
      throw new CheckFailedError(unreachable(url, `no connection within ${CONNECT_TIMEOUT_MS / 1000} s`));
    if (connected === 'error') {
      const cause = sessions.error();
      throw new CheckFailedError(unreachable(url, ConnectError.from(cause).rawMessage, networkCause(cause)));
    }
    const auth: Interceptor = (next) => (req) => {
      req.header.set('authorization', `Bearer ${token}`);
      return next(req);
    };
    const timeoutMs = options.timeoutMs === undefined ? CALL_TIMEOUT_MS : options.timeoutMs;
    const transport = createGrpcTransport({
      baseUrl: url,
      sessionManager: sessions,
      ...(token ? { interceptors: [auth] } : {}),
      ...(timeoutMs !== null ? { defaultTimeoutMs: timeoutMs } : {}),
    });
    try {
      return await fn(createClient(AdminService, transport));
    } catch (err) {
      if (err instanceof CheckFailedError || err instanceof UsageError) throw err;
      throw new CheckFailedError(callFailure(url, err));
    }
  } finally {
    sessions.abort();
  }
}

/** A response message as JSON for `--json`: the proto3 JSON mapping, every field present. */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  return toJson(messageToJson(schema, message, { alwaysEmitImplicit: true }));
}

/** `42s`, `5m 3s`, `2h 5m`, `3d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A timestamp to the second, e.g. `2025-06-01T12:00:00Z`. */
export const timeText = (t: Timestamp) =>
  timestampDate(t)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');

/** `-` for an empty value (a pid of 0, an empty list). */
export const orDash = (value: string | number | readonly string[]): string =>
  (Array.isArray(value) ? value.join(', ') : String(value)) || '-';

/** A pid, `-` for none (in_process and remote plugins, a sidecar while restarting). */
export const pidText = (pid: number) => (pid ? String(pid) : '-');

/**
 * `Label:  value` lines, labels padded to one width; a multi-line value continues under the first line.
 * Pairs with an undefined value are left out.
 */
export function formatFields(fields: readonly (readonly [string, string | undefined])[]): string {
  const shown = fields.filter((f): f is readonly [string, string] => f[1] !== undefined);
  const width = Math.max(...shown.map(([l]) => l.length + 1));
  return shown
    .map(([label, value]) =>
      `${`${label}:`.padEnd(width)}  ${value.split('\n').join(`\n${' '.repeat(width + 2)}`)}`.trimEnd(),
    )
    .join('\n');
}

/** The plugin name and version as one cell, e.g. `memstore 0.1.0`. */
export const pluginText = (p: PluginStatus) => (p.version ? `${p.plugin} ${p.version}` : p.plugin);

/** The fields of a plugin's status (`plugins status`, `plugins restart`). */
export function pluginFields(p: PluginStatus): [string, string | undefined][] {
  return [
    ['Namespace', p.namespace],
    ['Backend', `${p.backendType} (${p.pluginMode})`],
    ['State', p.state],
    ['Plugin', pluginText(p)],
    ['PID', pidText(p.pid)],
    ['Restarts', String(p.restarts)],
    [
      p.state === 'running' ? 'Started' : 'Down since',
      p.startedAt && `${timeText(p.startedAt)} (${formatDuration(p.uptimeSeconds)} ago)`,
    ],
    ['In flight', String(p.inFlight)],
    ['Endpoint', p.endpoint || undefined],
    ['Last error', p.lastError || undefined],
  ];
}
