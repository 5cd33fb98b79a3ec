import { DEFAULT_LIMITS } from '@prism/sdk';
import type { Path } from './path.js';
import type { Reporter } from './reporter.js';
import {
  AdminSchema,
  AdminTokenSchema,
  bool,
  CorsSchema,
  LimitsSchema,
  ListenSchema,
  MetricsSchema,
  mapAt,
  positiveInt,
  TracingSchema,
} from './schemas.js';
import { checkAccess, checkAudit, checkAuth, checkServerTls } from './security.js';
import type { ProxyConfig } from './types.js';

/** Proxy defaults (YAML `proxy:` keys left out). */
export const PROXY_DEFAULTS: Readonly<ProxyConfig> = Object.freeze({
  listen: { host: '0.0.0.0', port: 8980 },
  readMaxBytes: 16 * 1024 * 1024,
  cors: { allowedOrigins: ['*'] },
  shutdownTimeoutMs: 10_000,
  limits: DEFAULT_LIMITS,
  metrics: { enabled: true },
  access: [],
  requireAllBackends: false,
  connections: {
    max: 10_000,
    maxPerIp: 1_000,
    maxStreamsPerConnection: 1_000,
    maxOpenStreams: 10_000,
    maxInflightRequestBytes: 256 * 1024 * 1024,
    firstBytesTimeoutMs: 10_000,
    headersTimeoutMs: 10_000,
    bodyIdleTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    idleSessionTimeoutMs: 300_000,
  },
});

/** `proxy.connections` keys → ConnectionsConfig fields. */
const CONNECTION_KEYS: Readonly<Record<string, keyof ProxyConfig['connections']>> = {
  max: 'max',
  max_per_ip: 'maxPerIp',
  max_streams_per_connection: 'maxStreamsPerConnection',
  max_open_streams: 'maxOpenStreams',
  max_inflight_request_bytes: 'maxInflightRequestBytes',
  first_bytes_timeout_ms: 'firstBytesTimeoutMs',
  headers_timeout_ms: 'headersTimeoutMs',
  body_idle_timeout_ms: 'bodyIdleTimeoutMs',
  keep_alive_timeout_ms: 'keepAliveTimeoutMs',
  idle_session_timeout_ms: 'idleSessionTimeoutMs',
};

/** Where the admin API listens when `proxy.admin` leaves `listen` out (loopback: it can restart plugins). */
export const DEFAULT_ADMIN_LISTEN: Readonly<{ host: string; port: number }> = Object.freeze({
  host: '127.0.0.1',
  port: 8981,
});

/** Share of new traces recorded when `proxy.tracing.sample_ratio` is left out. */
export const DEFAULT_SAMPLE_RATIO = 0.01;

const PROXY_KEYS = [
  'listen',
  'read_max_bytes',
  'cors',
  'shutdown_timeout_ms',
  'limits',
  'admin_token',
  'admin',
  'metrics',
  'tracing',
  'tls',
  'auth',
  'audit',
  'access',
  'require_all_backends',
  'connections',
];

/**
 * Checks `proxy:`; invalid fields are reported and replaced by their defaults so checking can go on.
 * Relative file paths resolve against `baseDir` (the config file's directory).
 */
export function checkProxy(raw: unknown, path: Path, r: Reporter, baseDir = '.'): ProxyConfig {
  const obj = mapAt(raw, path, PROXY_KEYS, r, PROXY_KEYS.join(', ')) ?? {};
  const at = (k: string): Path => [...path, k];
  const has = (k: string) => obj[k] !== undefined && obj[k] !== null;

  const listen = has('listen') ? parseListen(obj.listen, at('listen'), r) : undefined;
  const readMaxBytes = has('read_max_bytes')
    ? r.validate(positiveInt('bytes'), obj.read_max_bytes, at('read_max_bytes'))
    : undefined;
  const cors = has('cors') ? r.validate(CorsSchema, obj.cors, at('cors')) : undefined;
  const shutdown = has('shutdown_timeout_ms')
    ? r.validate(positiveInt('milliseconds'), obj.shutdown_timeout_ms, at('shutdown_timeout_ms'))
    : undefined;
  const limits = has('limits') ? r.validate(LimitsSchema, obj.limits, at('limits')) : undefined;
  const adminToken =
    obj.admin_token === undefined
      ? undefined
      : r.validate(AdminTokenSchema, obj.admin_token, at('admin_token'));

  const metrics = has('metrics') ? r.validate(MetricsSchema, obj.metrics, at('metrics')) : undefined;
  const tracing = has('tracing') ? r.validate(TracingSchema, obj.tracing, at('tracing')) : undefined;
  const metricsListen =
    metrics?.listen !== undefined ? parseListen(metrics.listen, [...at('metrics'), 'listen'], r) : undefined;
  const tls = has('tls') ? checkServerTls(obj.tls, at('tls'), baseDir, r) : undefined;
  const auth = has('auth') ? checkAuth(obj.auth, at('auth'), tls, r) : undefined;
  const admin = has('admin') ? r.validate(AdminSchema, obj.admin, at('admin')) : undefined;
  // A bare port or `:port` binds loopback here, unlike the client port: the admin API restarts plugins.
  const adminListen =
    admin &&
    (admin.listen === undefined
      ? { ...DEFAULT_ADMIN_LISTEN }
      : parseListen(admin.listen, [...at('admin'), 'listen'], r, DEFAULT_ADMIN_LISTEN.host));
  const audit = has('audit') ? checkAudit(obj.audit, at('audit'), baseDir, r) : undefined;
  const access = checkAccess(obj.access, at('access'), r);
  const requireAll = has('require_all_backends')
    ? r.validate(bool, obj.require_all_backends, at('require_all_backends'))
    : undefined;
  if (access.length && !auth)
    r.add(at('access'), 'access rules need proxy.auth (without it every caller is anonymous and allowed)');
  if (adminListen) {
    const adminAt = [...at('admin'), ...(admin?.listen === undefined ? [] : ['listen'])];
    if (!isLoopback(adminListen.host) && adminToken === undefined && !has('auth'))
      r.add(
        adminAt,
        `the admin API listens on ${adminListen.host}, which is not loopback: set proxy.admin_token or proxy.auth (the admin API restarts plugins and reloads the config), or listen on 127.0.0.1`,
      );
    const clash = [
      ['proxy.listen', listen ?? PROXY_DEFAULTS.listen],
      ['proxy.metrics.listen', metricsListen],
    ] as const;
    for (const [name, other] of clash)
      if (other && sameSocket(adminListen, other))
        r.add(
          adminAt,
          `port ${adminListen.port} is already taken by ${name}; give the admin API its own port`,
        );
  }

  const out: ProxyConfig = {
    listen: listen ?? { ...PROXY_DEFAULTS.listen },
    readMaxBytes: readMaxBytes ?? PROXY_DEFAULTS.readMaxBytes,
    // With auth on, browsers are trusted only from origins the operator lists.
    cors: {
      allowedOrigins: cors?.allowed_origins ?? (has('auth') ? [] : [...PROXY_DEFAULTS.cors.allowedOrigins]),
    },
    shutdownTimeoutMs: shutdown ?? PROXY_DEFAULTS.shutdownTimeoutMs,
    limits: {
      maxKeyBytes: limits?.max_key_bytes ?? DEFAULT_LIMITS.maxKeyBytes,
      maxValueBytes: limits?.max_value_bytes ?? DEFAULT_LIMITS.maxValueBytes,
    },
    ...(adminToken !== undefined && { adminToken }),
    ...(adminListen && { admin: { listen: adminListen } }),
    metrics: { enabled: metrics?.enabled ?? true, ...(metricsListen && { listen: metricsListen }) },
    ...(tls && { tls }),
    ...(auth && { auth }),
    ...(audit && { audit }),
    access,
    requireAllBackends: requireAll ?? PROXY_DEFAULTS.requireAllBackends,
    connections: checkConnections(obj.connections, at('connections'), r),
    ...(tracing && {
      tracing: {
        otlpEndpoint: tracing.otlp_endpoint,
        sampleRatio: tracing.sample_ratio ?? DEFAULT_SAMPLE_RATIO,
      },
    }),
  };
  if (limits?.max_value_bytes !== undefined && limits.max_value_bytes > out.readMaxBytes)
    r.add(
      [...at('limits'), 'max_value_bytes'],
      `${limits.max_value_bytes} exceeds read_max_bytes (${out.readMaxBytes}): such requests are refused before any namespace sees them`,
    );
  return out;
}

/** `proxy.connections`: positive integers, each defaulting on its own. */
function checkConnections(raw: unknown, path: Path, r: Reporter): ProxyConfig['connections'] {
  const keys = Object.keys(CONNECTION_KEYS);
  const obj = mapAt(raw, path, keys, r, keys.join(', ')) ?? {};
  const out = { ...PROXY_DEFAULTS.connections };
  for (const [key, field] of Object.entries(CONNECTION_KEYS)) {
    if (obj[key] === undefined || obj[key] === null) continue;
    const v = r.validate(
      positiveInt(key.endsWith('_ms') ? 'milliseconds' : key.endsWith('bytes') ? 'bytes' : 'count'),
      obj[key],
      [...path, key],
    );
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/** True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** True when two listen addresses would want the same socket (same fixed port, overlapping hosts). */
function sameSocket(a: ProxyConfig['listen'], b: ProxyConfig['listen']): boolean {
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  return a.port !== 0 && a.port === b.port && (a.host === b.host || wildcard(a.host) || wildcard(b.host));
}

/**
 * `host:port`, `[v6]:port`, `:port` or a bare port (host `defaultHost`, 0.0.0.0 unless given). Port 0
 * picks a free port.
 */
function parseListen(
  raw: unknown,
  path: Path,
  r: Reporter,
  defaultHost = PROXY_DEFAULTS.listen.host,
): ProxyConfig['listen'] | undefined {
  const v = r.validate(ListenSchema, raw, path);
  if (v === undefined) return undefined;
  const m =
    /^\s*(?:\[([^\]]+)\]|([^\s:[\]]*)):(\d+)\s*$/.exec(String(v)) ?? /^\s*()()(\d+)\s*$/.exec(String(v));
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    r.add(
      path,
      `must be "host:port" with a port from 0 to 65535, e.g. "0.0.0.0:8980" (got ${r.show(path, v)})`,
    );
    return undefined;
  }
  return { host: m[1] || m[2] || defaultHost, port };
}
