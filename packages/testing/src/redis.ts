import { findBinary } from './binaries.js';
import { tcpExchange } from './ports.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';
import { makeTestCerts } from './tls.js';

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Require this password (`requirepass`); clients then AUTH with it. */
  readonly password?: string;
  /** Use this port instead of a free one. */
  readonly port?: number;
  /** Serve TLS only (no plain port) with a throwaway CA; `url` is then `rediss://` and `ca` the CA PEM. */
  readonly tls?: boolean;
}

/** A running redis-server. `url` carries no credentials; `password` is set when one is required. */
export interface RedisTestServer extends TestServer {
  readonly password: string | undefined;
  /** With `tls: true`: the PEM of the CA that signed the server certificate. */
  readonly ca: string | undefined;
}

/** Sends a RESP command line (inline protocol) and reports whether Redis answered PONG. */
async function pingRedis(
  port: number,
  password: string | undefined,
  ca: string | undefined,
): Promise<boolean> {
  const auth = password ? `AUTH ${password}\r\n` : '';
  const tls = ca ? { ca } : undefined;
  const reply = await tcpExchange('127.0.0.1', port, `${auth}PING\r\n`, /\+PONG\r\n|-[^\r]*\r\n/, 1000, tls);
  return reply.includes('+PONG');
}

/**
 * Starts `redis-server` on a free 127.0.0.1 port in its own temp dir, without persistence
 * (`--save '' --appendonly no`), and resolves once it answers PING.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisTestServer> {
  const bin = findBinary('redis-server', 'redis-server', ['/usr/bin', '/usr/local/bin']);
  const dir = makeTempDir('redis');
  const certs = opts.tls ? makeTestCerts(dir) : undefined;
  const server = await startManagedServer(
    {
      kind: 'redis',
      dir,
      command: (port) => ({
        cmd: bin,
        args: [
          ...(certs
            ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.serverCertFile]
            : ['--port', String(port)]),
          ...(certs
            ? [
                '--tls-key-file',
                certs.serverKeyFile,
                '--tls-ca-cert-file',
                certs.caFile,
                '--tls-auth-clients',
                'no',
              ]
            : []),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--daemonize',
          'no',
          '--protected-mode',
          'no',
          ...(opts.password ? ['--requirepass', opts.password] : []),
        ],
      }),
      probe: (port) => pingRedis(port, opts.password, certs?.ca.toString()),
      url: (port) => `${certs ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    },
    opts.port,
  );
  return Object.assign(server, { password: opts.password, ca: certs?.ca.toString() });
}
