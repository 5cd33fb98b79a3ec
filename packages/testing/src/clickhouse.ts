import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort } from './ports.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

// Debian's clickhouse-server (18.16) for tests: one server per call, configured by a minimal config.xml
// and users.xml in its own temp dir, HTTP and native ports on 127.0.0.1, the `default` user with a password.

/** Options for {@link startClickHouse}. */
export interface StartClickHouseOptions {
  /** Password of the `default` user. Default: a random one. */
  readonly password?: string;
  /** Use this HTTP port instead of a free one. */
  readonly port?: number;
  /** Readiness deadline in ms. Default 60000. */
  readonly readyTimeoutMs?: number;
}

/** A running clickhouse-server. `url` is `http://default:<password>@127.0.0.1:<http port>`. */
export interface ClickHouseTestServer extends TestServer {
  /** The user clients log in as (`default`). */
  readonly user: string;
  /** The `default` user's password. */
  readonly password: string;
  /** `http://127.0.0.1:<http port>`, without credentials. */
  readonly httpUrl: string;
  /** The native protocol port (clickhouse-client), unused by the HTTP clients. */
  readonly tcpPort: number;
  /** Runs one SQL statement over HTTP as `default` and resolves with the response body (rejects on errors). */
  query(sql: string): Promise<string>;
}

/** XML text content: the five predefined entities. */
function xmlText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function serverConfig(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${xmlText(join(dir, 'data'))}/</path>
  <tmp_path>${xmlText(join(dir, 'tmp'))}/</tmp_path>
  <format_schema_path>${xmlText(join(dir, 'format_schemas'))}/</format_schema_path>
  <users_config>${xmlText(join(dir, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`;
}

function usersConfig(password: string): string {
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password>${xmlText(password)}</password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`;
}

/** POSTs `sql` to the HTTP interface; resolves with the body, rejects with ClickHouse's error text. */
async function httpQuery(port: number, password: string, sql: string, timeoutMs = 10_000): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body: sql,
    headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': password },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`clickhouse on 127.0.0.1:${port} answered ${res.status}: ${body.trim()}`);
  return body;
}

/**
 * Starts `clickhouse-server` on free 127.0.0.1 ports in its own temp dir and resolves once `SELECT 1`
 * over HTTP answers `1` with the password.
 */
export async function startClickHouse(opts: StartClickHouseOptions = {}): Promise<ClickHouseTestServer> {
  const bin = findBinary('clickhouse-server', 'clickhouse-server', ['/usr/sbin', '/usr/bin']);
  const password = opts.password ?? randomBytes(12).toString('hex');
  const dir = makeTempDir('clickhouse');
  for (const sub of ['data', 'tmp', 'format_schemas']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'users.xml'), usersConfig(password));
  const configFile = join(dir, 'config.xml');
  // Kept across restarts (restart() reuses the HTTP port; the native one must match the config).
  const tcpPort = await freePort();
  const server = await startManagedServer(
    {
      kind: 'clickhouse',
      dir,
      command: (port) => {
        writeFileSync(configFile, serverConfig(dir, port, tcpPort));
        return { cmd: bin, args: [`--config-file=${configFile}`] };
      },
      probe: async (port) => {
        try {
          return (await httpQuery(port, password, 'SELECT 1', 1000)).trim() === '1';
        } catch {
          return false;
        }
      },
      url: (port) => `http://default:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    },
    opts.port,
  );
  return Object.assign(server, {
    user: 'default',
    password,
    httpUrl: `http://127.0.0.1:${server.port}`,
    tcpPort,
    query: (sql: string) => httpQuery(server.port, password, sql),
  });
}
