import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, tcpExchange } from './ports.js';
import { makeTempDir, waitUntil } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

/** Options for {@link startNats}. */
export interface StartNatsOptions {
  /** Use this client port instead of a free one. */
  readonly port?: number;
  /** Require this user/password (an `authorization` block in a config file the server reloads). */
  readonly auth?: { readonly user: string; readonly password: string };
}

/** A running nats-server with JetStream. `monitorUrl` serves `/healthz`, `/varz`, `/jsz`. */
export interface NatsTestServer extends TestServer {
  readonly monitorPort: number;
  readonly monitorUrl: string;
  /** With `auth`: the required user. */
  readonly user: string | undefined;
  /**
   * With `auth`: rewrites the config with a new password and reloads it (SIGHUP), resolving once the
   * server accepts the new password. The server disconnects clients logged in with the old one.
   */
  setPassword(password: string): Promise<void>;
  /** Whether the server accepts a login with `user`/`password` (a CONNECT + PING exchange). */
  accepts(user: string, password: string): Promise<boolean>;
}

/**
 * The config file of an auth-enabled server. It holds `jetstream` too (instead of -js/-sd): a reload
 * applies the file, and one without it would shut JetStream down.
 */
const authConfig = (storeDir: string, user: string, password: string) =>
  `jetstream {\n  store_dir: ${JSON.stringify(storeDir)}\n}\nauthorization {\n  users: [ { user: ${JSON.stringify(user)}, password: ${JSON.stringify(password)} } ]\n}\n`;

/** Sends CONNECT with the credentials and PING: PONG means accepted, -ERR refused. */
async function natsAccepts(port: number, user: string, password: string): Promise<boolean> {
  const connect = JSON.stringify({ user, pass: password, verbose: false, pedantic: false });
  const reply = await tcpExchange(
    '127.0.0.1',
    port,
    `CONNECT ${connect}\r\nPING\r\n`,
    /PONG\r\n|-ERR[^\r]*\r\n/,
  );
  return reply.includes('PONG');
}

/** Ready when the monitoring endpoint reports healthy (JetStream included) and the client port sends INFO. */
async function probeNats(port: number, monitorPort: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1000) });
  if (!res.ok) return false;
  const info = await tcpExchange('127.0.0.1', port, undefined, /^INFO .*\r\n/);
  return info.startsWith('INFO ');
}

/**
 * Starts `nats-server -js` on free 127.0.0.1 ports (client + monitoring) with its JetStream store in
 * a temp dir, and resolves once `/healthz` answers ok and the client port greets with INFO.
 */
export async function startNats(opts: StartNatsOptions = {}): Promise<NatsTestServer> {
  const bin = findBinary('nats-server', 'nats-server', ['/usr/sbin', '/usr/bin', '/usr/local/bin']);
  const dir = makeTempDir('nats');
  const monitorPort = await freePort();
  const auth = opts.auth;
  const confFile = join(dir, 'nats.conf');
  if (auth) writeFileSync(confFile, authConfig(join(dir, 'jetstream'), auth.user, auth.password));
  const server = await startManagedServer(
    {
      kind: 'nats',
      dir,
      command: (port) => ({
        cmd: bin,
        args: [
          ...(auth ? ['-c', confFile] : ['-js', '-sd', join(dir, 'jetstream')]),
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-m',
          String(monitorPort),
        ],
      }),
      probe: (port) => probeNats(port, monitorPort),
      url: (port) => `nats://127.0.0.1:${port}`,
    },
    opts.port,
  );
  const accepts = (user: string, password: string) => natsAccepts(server.port, user, password);
  return Object.assign(server, {
    monitorPort,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    user: auth?.user,
    accepts,
    setPassword: async (password: string) => {
      const pid = server.pid;
      if (!auth || pid === undefined)
        throw new Error('setPassword needs a running server started with { auth }');
      writeFileSync(confFile, authConfig(join(dir, 'jetstream'), auth.user, password));
      process.kill(pid, 'SIGHUP');
      await waitUntil(() => accepts(auth.user, password), {
        what: 'nats-server to accept the new password after its config reload',
        timeoutMs: 10_000,
      });
    },
  });
}
