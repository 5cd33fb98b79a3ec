import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
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
  /**
   * Create this ACL user (all keys, channels and commands) and turn the `default` user off, so every
   * client must `AUTH <user> <password>`. Not with `password`.
   */
  readonly acl?: { readonly user: string; readonly password: string };
}

/** A running redis-server. `url` carries no credentials; `password` is set when one is required. */
export interface RedisTestServer extends TestServer {
  /** The `requirepass` password, or the ACL user's current one. */
  readonly password: string | undefined;
  /** With `tls: true`: the PEM of the CA that signed the server certificate. */
  readonly ca: string | undefined;
  /** With `acl`: the ACL user. */
  readonly user: string | undefined;
  /**
   * Runs one command (e.g. `['CLIENT', 'LIST']`), logged in as the ACL user (or with `requirepass`) when
   * there is one. Resolves with the reply as text (`OK`, a bulk string, an integer, array items joined
   * by newlines); rejects with a Redis error reply.
   */
  command(...args: string[]): Promise<string>;
  /**
   * With `acl`: rotates the user's password (`ACL SETUSER <user> resetpass ><new>`, as an operator would)
   * and, unless `disconnect` is false, kills the user's connections (`CLIENT KILL USER`) so clients must
   * log in again — with the old password that now fails.
   */
  setPassword(password: string, opts?: { readonly disconnect?: boolean }): Promise<void>;
}

/** Sends a RESP command line (inline protocol) and reports whether Redis answered PONG. */
async function pingRedis(
  port: number,
  password: string | undefined,
  ca: string | undefined,
  user?: string,
): Promise<boolean> {
  const auth = password ? `AUTH ${user ? `${user} ` : ''}${password}\r\n` : '';
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
  const acl = opts.acl;
  if (acl && opts.password) throw new Error('startRedis: give either password or acl');
  if (acl && !/^[\x21-\x7e]+$/.test(acl.user + acl.password))
    throw new Error('startRedis: acl user and password must be printable ASCII without spaces');
  // (They become ACL file words and the inline AUTH of the readiness probe.)
  let password = acl?.password ?? opts.password;
  // The rules `ACL SETUSER` takes; setPassword() saves the rotated ones here (ACL SAVE) for restart().
  const aclFile = join(dir, 'users.acl');
  if (acl) writeFileSync(aclFile, `user ${acl.user} on >${acl.password} ~* &* +@all\nuser default off\n`);
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
          ...(acl ? ['--aclfile', aclFile] : []),
        ],
      }),
      probe: (port) => pingRedis(port, password, certs?.ca.toString(), acl?.user),
      url: (port) => `${certs ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    },
    opts.port,
  );
  const ca = certs?.ca.toString();
  const command = async (...args: string[]) => {
    const auth = password ? [['AUTH', ...(acl ? [acl.user] : []), password]] : [];
    const replies = await respExchange(server.port, [...auth, args], ca);
    const [login, reply] = auth.length ? replies : [undefined, replies[0]];
    if (login instanceof Error) throw login;
    if (reply instanceof Error) throw reply;
    return reply ?? '';
  };
  return Object.assign(server, {
    get password() {
      return password;
    },
    ca,
    user: acl?.user,
    command,
    setPassword: async (next: string, o: { readonly disconnect?: boolean } = {}) => {
      if (!acl) throw new Error('setPassword needs a server started with { acl }');
      await command('ACL', 'SETUSER', acl.user, 'resetpass', `>${next}`);
      password = next;
      await command('ACL', 'SAVE');
      if (o.disconnect !== false) await command('CLIENT', 'KILL', 'USER', acl.user);
    },
  });
}

type Resp = string | Error;

/**
 * Parses one RESP reply at `at` of `buf`: `[text, next offset]`, or undefined while incomplete. Arrays
 * become their items' text joined by newlines (enough for the admin commands tests send).
 */
function parseResp(buf: Buffer, at: number): [Resp, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', at + 1, eol);
  const type = String.fromCharCode(buf[at] as number);
  if (type === '+' || type === ':') return [head, eol + 2];
  if (type === '-') return [new Error(head), eol + 2];
  const n = Number(head);
  if (type === '$') {
    if (n < 0) return ['', eol + 2];
    if (buf.length < eol + 2 + n + 2) return undefined;
    return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
  }
  if (type === '*') {
    const items: string[] = [];
    let next = eol + 2;
    for (let i = 0; i < n; i++) {
      const item = parseResp(buf, next);
      if (!item) return undefined;
      items.push(String(item[0] instanceof Error ? item[0].message : item[0]));
      next = item[1];
    }
    return [items.join('\n'), next];
  }
  throw new Error(`unexpected RESP reply type "${type}"`);
}

/** Sends `commands` as RESP arrays on one connection and resolves with one reply per command. */
function respExchange(port: number, commands: readonly string[][], ca: string | undefined): Promise<Resp[]> {
  const wire = commands
    .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = ca ? tlsConnect({ host: '127.0.0.1', port, ca }) : connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (err?: Error, replies?: Resp[]) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(replies ?? []);
    };
    socket.setTimeout(5000, () => done(new Error(`redis on 127.0.0.1:${port} did not answer within 5 s`)));
    socket.once('error', (err) => done(err));
    socket.once(ca ? 'secureConnect' : 'connect', () => socket.write(wire));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const replies: Resp[] = [];
      let at = 0;
      while (replies.length < commands.length) {
        const r = parseResp(buf, at);
        if (!r) return;
        replies.push(r[0]);
        at = r[1];
      }
      done(undefined, replies);
    });
    // CLIENT KILL USER also ends this connection: what arrived before that is the answer.
    socket.once('end', () => done(undefined, []));
  });
}
