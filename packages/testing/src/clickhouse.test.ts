import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from '@jest/globals';
import { type ClickHouseTestServer, startClickHouse } from './clickhouse.js';
import { isListening } from './ports.js';
import { isAlive } from './process.js';

describe('startClickHouse', () => {
  const started: ClickHouseTestServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.dispose()));
  });

  it('starts a real clickhouse-server that answers SQL over HTTP with the password', async () => {
    const ch = await startClickHouse({ password: 'p@ss/word' });
    started.push(ch);
    expect(ch.url).toBe(`http://default:p%40ss%2Fword@127.0.0.1:${ch.port}`);
    expect(ch.httpUrl).toBe(`http://127.0.0.1:${ch.port}`);
    expect((await ch.query('SELECT version()')).trim()).toMatch(/^\d+\.\d+/);
    await ch.query('CREATE TABLE t (x Int64) ENGINE = MergeTree ORDER BY x');
    await ch.query('INSERT INTO t VALUES (3), (1)');
    expect(await ch.query('SELECT x FROM t ORDER BY x')).toBe('1\n3\n');
    // The URL's credentials are the ones the server checks.
    const url = new URL(ch.url);
    const auth = Buffer.from(`${url.username}:${decodeURIComponent(url.password)}`).toString('base64');
    const ok = await fetch(`${ch.httpUrl}/?query=SELECT%202`, {
      headers: { Authorization: `Basic ${auth}` },
    });
    expect(await ok.text()).toBe('2\n');
  });

  it('rejects a wrong password', async () => {
    const ch = await startClickHouse();
    started.push(ch);
    const res = await fetch(`${ch.httpUrl}/?query=SELECT%201`, {
      headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': 'wrong' },
    });
    expect(res.ok).toBe(false);
    expect(await res.text()).toMatch(/password/i);
  });

  it('stops by PID and restarts on the same port with its data', async () => {
    const ch = await startClickHouse();
    started.push(ch);
    await ch.query('CREATE TABLE kept (x Int64) ENGINE = MergeTree ORDER BY x');
    await ch.query('INSERT INTO kept VALUES (7)');
    const { pid, port } = ch;
    await ch.stop();
    expect(isAlive(pid!)).toBe(false);
    expect(ch.pid).toBeUndefined();
    expect(await isListening('127.0.0.1', port)).toBe(false);
    await ch.restart();
    expect(ch.port).toBe(port);
    expect(await ch.query('SELECT x FROM kept')).toBe('7\n');
  });

  it('dispose removes the temp dir and is idempotent', async () => {
    const ch = await startClickHouse();
    const { dir, pid } = ch;
    expect(existsSync(dir)).toBe(true);
    await ch.dispose();
    await ch.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(isAlive(pid!)).toBe(false);
  });
});
