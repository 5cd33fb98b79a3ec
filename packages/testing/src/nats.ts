import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, tcpExchange } from './ports.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

/** Options for {@link startNats}. */
export interface StartNatsOptions {
  /** Use this client port instead of a free one. */
  readonly port?: number;
}

/** A running nats-server with JetStream. `monitorUrl` serves `/healthz`, `/varz`, `/jsz`. */
export interface NatsTestServer extends TestServer {
  readonly monitorPort: number;
  readonly monitorUrl: string;
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
  const server = await startManagedServer(
    {
      kind: 'nats',
      dir,
      command: (port) => ({
        cmd: bin,
        args: [
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-m',
          String(monitorPort),
          '-sd',
          join(dir, 'jetstream'),
        ],
      }),
      probe: (port) => probeNats(port, monitorPort),
      url: (port) => `nats://127.0.0.1:${port}`,
    },
    opts.port,
  );
  return Object.assign(server, { monitorPort, monitorUrl: `http://127.0.0.1:${monitorPort}` });
}
