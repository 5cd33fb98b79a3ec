import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from '@jest/globals';
import { isListening, tcpExchange } from './ports.js';
import { isAlive } from './process.js';
import { type RedisTestServer, startRedis } from './redis.js';

const cmd = (port: number, line: string) => tcpExchange('127.0.0.1', port, `${line}\r\n`, /\r\n/);

describe('startRedis', () => {
  const started: RedisTestServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.dispose()));
  });

  it('starts a real redis-server on a free 127.0.0.1 port that answers commands', async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await cmd(redis.port, 'SET k v')).toBe('+OK\r\n');
    expect(await cmd(redis.port, 'GET k')).toBe('$1\r\nv\r\n');
    expect(await cmd(redis.port, 'CONFIG GET save')).toMatch(/save\r\n\$0\r\n/);
    expect(redis.logs()).toMatch(/Ready to accept connections/);
  });

  it('stops by PID, leaving no process and a closed port, and restarts on the same port', async () => {
    const redis = await startRedis();
    started.push(redis);
    const pid = redis.pid!;
    const port = redis.port;
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
    expect(redis.pid).toBeUndefined();
    expect(await isListening('127.0.0.1', port)).toBe(false);
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pid);
    expect(await cmd(port, 'PING')).toBe('+PONG\r\n');
  });

  it('dispose removes the temp dir and is idempotent', async () => {
    const redis = await startRedis();
    const { dir, pid } = redis;
    expect(existsSync(dir)).toBe(true);
    await redis.dispose();
    await redis.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(isAlive(pid!)).toBe(false);
    await expect(redis.restart()).rejects.toThrow(/disposed/);
  });

  it('requires the password when one is set', async () => {
    const redis = await startRedis({ password: 's3cret' });
    started.push(redis);
    expect(redis.password).toBe('s3cret');
    expect(await cmd(redis.port, 'PING')).toMatch(/^-NOAUTH/);
    expect(await tcpExchange('127.0.0.1', redis.port, 'AUTH s3cret\r\nPING\r\n', /PONG\r\n/)).toBe(
      '+OK\r\n+PONG\r\n',
    );
  });

  it('serves TLS only with a throwaway CA when asked', async () => {
    const redis = await startRedis({ tls: true });
    started.push(redis);
    expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
    expect(redis.ca).toMatch(/BEGIN CERTIFICATE/);
    const reply = await tcpExchange('127.0.0.1', redis.port, 'PING\r\n', /\r\n/, 1000, { ca: redis.ca! });
    expect(reply).toBe('+PONG\r\n');
    // A client that does not trust the CA cannot connect.
    await expect(
      tcpExchange('127.0.0.1', redis.port, 'PING\r\n', /\r\n/, 1000, { ca: '' }),
    ).rejects.toThrow();
  });

  it('gives two servers different ports and dirs', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
  });

  it('freezes (connections accepted, nothing answered) and thaws', async () => {
    const redis = await startRedis();
    started.push(redis);
    await redis.freeze();
    await redis.freeze(); // idempotent
    await expect(cmd(redis.port, 'PING')).rejects.toThrow(/no answer/);
    await redis.thaw();
    expect(await cmd(redis.port, 'PING')).toBe('+PONG\r\n');
    // stop() of a frozen server resumes it first, so SIGTERM ends it gracefully.
    await redis.freeze();
    const pid = redis.pid!;
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
  });
});
