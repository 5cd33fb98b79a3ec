import { createServer, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it when binding port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/**
 * Opens a TCP connection, writes `send` (if any) and resolves with what the server answered before
 * `untilMatch` matched or the connection closed. Rejects on connection errors or after `timeoutMs`.
 */
export function tcpExchange(
  host: string,
  port: number,
  send: string | undefined,
  untilMatch: RegExp,
  timeoutMs = 1000,
  tls?: { readonly ca: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    // With `tls`, the exchange runs over TLS, trusting only the given CA.
    const socket = tls
      ? tlsConnect({ host, port, ca: tls.ca, servername: host === '127.0.0.1' ? undefined : host })
      : new Socket();
    let data = '';
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(data);
    };
    socket.setTimeout(timeoutMs, () =>
      done(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
    );
    socket.once('error', done);
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (untilMatch.test(data)) done();
    });
    socket.once('end', () => done());
    if (tls) socket.once('secureConnect', () => send && socket.write(send));
    else
      socket.connect(port, host, () => {
        if (send) socket.write(send);
      });
  });
}

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}
