import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, isRoot, postgresBinDirs, run } from './binaries.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

const execFileAsync = promisify(execFile);

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Use this port instead of a free one. */
  readonly port?: number;
  /**
   * Create this login role (with CREATE on the `postgres` database) and require `scram-sha-256` for it on
   * 127.0.0.1; the superuser `postgres` keeps trust auth so `url` and the helpers still work.
   */
  readonly auth?: { readonly user: string; readonly password: string };
}

/** A running PostgreSQL cluster; `url` connects as superuser `postgres` (trust auth on 127.0.0.1). */
export interface PostgresTestServer extends TestServer {
  readonly user: string;
  readonly database: string;
  /** Directory of the Unix socket (inside the temp dir). */
  readonly socketDir: string;
  /** With `auth`: the role that must log in with scram-sha-256. */
  readonly authUser: string | undefined;
  /** With `auth`: `postgres://<authUser>@127.0.0.1:<port>/postgres`, without the password. */
  readonly authUrl: string | undefined;
  /** Runs SQL as the superuser (psql) and returns its unaligned, tuples-only output. */
  query(sql: string): Promise<string>;
  /**
   * Rotates the auth role's password (ALTER ROLE, as an operator would) and, unless `disconnect` is false,
   * ends the role's sessions so clients must log in again.
   */
  setPassword(password: string, opts?: { readonly disconnect?: boolean }): Promise<void>;
}

/** A SQL string literal. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** A SQL identifier. */
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

// The superuser keeps trust (fixtures, helpers); every other role must prove its password with SCRAM.
const SCRAM_HBA = `local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
`;

function pgBin(name: string): string {
  return findBinary(name, 'postgresql', postgresBinDirs());
}

/** uid/gid of the `postgres` OS user; initdb and postgres refuse to run as root. */
function postgresUser(): { uid: number; gid: number } {
  const uid = Number(run('id', ['-u', 'postgres']).trim());
  const gid = Number(run('id', ['-g', 'postgres']).trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(
      'running as root needs the "postgres" OS user. Install it with: apt-get install -y postgresql',
    );
  return { uid, gid };
}

/** Runs a PostgreSQL binary, as the `postgres` user when this process is root. */
function asPostgres(bin: string, args: string[]): { cmd: string; args: string[] } {
  return isRoot() ? { cmd: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { cmd: bin, args };
}

async function pgIsReady(port: number): Promise<boolean> {
  try {
    await execFileAsync(pgBin('pg_isready'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-t',
      '1',
    ]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates a cluster with `initdb` in a temp dir (owned by `postgres` when running as root), starts
 * `postgres` on a free 127.0.0.1 port with its socket in the temp dir and trust auth, and resolves once
 * `pg_isready` reports it accepts connections. Durability is off (fsync) since the data is throwaway.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresTestServer> {
  const initdb = pgBin('initdb');
  const postgres = pgBin('postgres');
  pgBin('pg_isready');
  const dir = makeTempDir('postgres');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    chownSync(dataDir, uid, gid);
  }
  const init = asPostgres(initdb, [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  run(init.cmd, init.args, { cwd: dir, timeoutMs: 120_000 });
  if (opts.auth) writeFileSync(join(dataDir, 'pg_hba.conf'), SCRAM_HBA);

  const server = await startManagedServer(
    {
      kind: 'postgres',
      dir,
      command: (port) =>
        asPostgres(postgres, [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=300',
          '-c',
          'password_encryption=scram-sha-256',
          // Logical decoding (pgoutput) for change-data-capture tests: replication slots need wal_level=logical.
          '-c',
          'wal_level=logical',
          '-c',
          'max_replication_slots=16',
          '-c',
          'max_wal_senders=16',
        ]),
      probe: pgIsReady,
      url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
      // Behind runuser the postmaster is a grandchild; its PID is the first line of postmaster.pid.
      signalPid: (child) => {
        try {
          const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
          return Number.isInteger(pid) && pid > 0 ? pid : child.pid;
        } catch {
          return child.pid;
        }
      },
      // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to disconnect.
      stopSignal: 'SIGINT',
      readyTimeoutMs: 60_000,
    },
    opts.port,
  );
  const auth = opts.auth;
  const query = (sql: string) => psql(server.url, sql);
  if (auth) {
    try {
      await query(
        `CREATE ROLE ${ident(auth.user)} LOGIN PASSWORD ${literal(auth.password)}; GRANT CREATE ON DATABASE postgres TO ${ident(auth.user)}`,
      );
    } catch (err) {
      await server.dispose();
      throw err;
    }
  }
  const authUrl = auth
    ? `postgres://${encodeURIComponent(auth.user)}@127.0.0.1:${server.port}/postgres`
    : undefined;
  return Object.assign(server, {
    user: 'postgres',
    database: 'postgres',
    socketDir: dir,
    authUser: auth?.user,
    authUrl,
    query,
    setPassword: async (password: string, o: { readonly disconnect?: boolean } = {}) => {
      if (!auth) throw new Error('setPassword needs a server started with { auth }');
      await query(`ALTER ROLE ${ident(auth.user)} PASSWORD ${literal(password)}`);
      if (o.disconnect !== false)
        await query(
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = ${literal(auth.user)}`,
        );
    },
  });
}

let dbCounter = 0;

async function psql(pgUrl: string, sql: string): Promise<string> {
  const u = new URL(pgUrl);
  const args = [
    '-h',
    u.hostname,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username || 'postgres'),
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-qAt',
    '-c',
    sql,
  ];
  const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
  try {
    return (await execFileAsync(pgBin('psql'), args, { env, timeout: 30_000 })).stdout;
  } catch (err) {
    throw new Error(
      `psql failed running ${sql}: ${(err as { stderr?: string }).stderr || (err as Error).message}`,
    );
  }
}

/**
 * Creates a fresh, uniquely named database on the server of `pgUrl` and returns a URL pointing to it,
 * so every suite starts from an empty database.
 */
export async function createDatabase(pgUrl: string, name?: string): Promise<string> {
  const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${(dbCounter++).toString(36)}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`invalid database name "${db}": use [a-z0-9_]`);
  await psql(pgUrl, `CREATE DATABASE "${db}"`);
  const u = new URL(pgUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Drops a database created by {@link createDatabase}, disconnecting its clients. */
export async function dropDatabase(pgUrl: string): Promise<void> {
  const db = decodeURIComponent(new URL(pgUrl).pathname.slice(1));
  await psql(pgUrl, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
}
