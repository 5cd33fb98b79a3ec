import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findBinary, postgresBinDirs } from './binaries.js';
import { isListening } from './ports.js';
import { createDatabase, dropDatabase, type PostgresTestServer, startPostgres } from './postgres.js';
import { isAlive } from './process.js';

function sql(url: string, query: string): string {
  return execFileSync(
    findBinary('psql', 'postgresql', postgresBinDirs()),
    [url, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', query],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim();
}

describe('startPostgres', () => {
  let pg: PostgresTestServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.dispose();
  });

  it('runs a real PostgreSQL on 127.0.0.1 with trust auth', () => {
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(sql(pg.url, 'select 40 + 2')).toBe('42');
    expect(sql(pg.url, "select current_setting('listen_addresses')")).toBe('127.0.0.1');
    expect(pg.logs()).toMatch(/ready to accept connections/);
  });

  it('runs with wal_level=logical, so pgoutput replication slots can be made (for CDC tests)', () => {
    expect(sql(pg.url, 'SHOW wal_level')).toBe('logical');
    sql(pg.url, "SELECT pg_create_logical_replication_slot('prism_test_slot', 'pgoutput')");
    expect(sql(pg.url, "SELECT plugin FROM pg_replication_slots WHERE slot_name = 'prism_test_slot'")).toBe(
      'pgoutput',
    );
    sql(pg.url, "SELECT pg_drop_replication_slot('prism_test_slot')");
  });

  it('creates fresh databases per suite', async () => {
    const a = await createDatabase(pg.url);
    const b = await createDatabase(pg.url);
    expect(a).not.toBe(b);
    sql(a, 'create table t (x int); insert into t values (1)');
    expect(sql(a, 'select count(*) from t')).toBe('1');
    expect(sql(b, "select count(*) from pg_tables where tablename = 't'")).toBe('0');
    await dropDatabase(b);
    expect(() => sql(b, 'select 1')).toThrow(/does not exist/);
    await expect(createDatabase(pg.url, 'Bad-Name')).rejects.toThrow(/invalid database name/);
  });

  it('stops (no postmaster left) and restarts on the same port with the data kept', async () => {
    const db = await createDatabase(pg.url);
    sql(db, 'create table kept (x int); insert into kept values (7)');
    const pid = pg.pid!;
    await pg.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await isListening('127.0.0.1', pg.port)).toBe(false);
    expect(existsSync(pg.dir)).toBe(true);
    await pg.restart();
    expect(sql(db, 'select x from kept')).toBe('7');
  });
});
