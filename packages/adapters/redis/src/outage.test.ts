import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { expectCode, kvBasic } from '@prism/keyvalue-basic/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { freePort, type RedisTestServer, startRedis, waitUntil } from '@prism/testing';
import { pino } from 'pino';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const PASSWORD = 'pr1sm-T0p-S3cret';

/** A logger whose every line is kept, to check that no secret is ever logged. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function errorOf(fn: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

// These tests stop and start their own redis-server (with a password), never the run-wide one.
describe('redis adapter: outages and credentials', () => {
  let redis: RedisTestServer;
  const log = capturingLogger();
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    url: redis.url,
    password: PASSWORD,
    command_timeout_ms: 10_000,
    reconnect_max_delay_ms: 200,
    ...extra,
  });

  it('fails fast with UNAVAILABLE while Redis is down and recovers with the same instance', async () => {
    const namespace = 'outage';
    const handle: PluginHandle = await instantiatePlugin(plugin, config(), { namespace, logger: log.logger });
    try {
      const kv = kvBasic(handle.get(KeyValueBasic)!, namespace);
      await kv.set('before', bytes('1'));

      await redis.stop();
      // Far below the 10 s command timeout: calls are refused at once, not queued until Redis returns.
      const t0 = Date.now();
      const err = await expectCode(() => kv.get('before'), Code.Unavailable);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(err.rawMessage).toContain('namespace "outage"');
      expect(err.rawMessage).toContain('redis');
      await expectCode(() => kv.set('during', bytes('x')), Code.Unavailable);
      expect((await handle.health()).status).toBe('unhealthy');

      await redis.restart();
      await waitUntil(
        async () => {
          try {
            await kv.set('after', bytes('2'));
            return true;
          } catch (e) {
            if (ConnectError.from(e).code !== Code.Unavailable) throw e;
            return false;
          }
        },
        { what: 'the adapter to reconnect', timeoutMs: 15_000 },
      );
      expect(await kv.get('after')).toEqual({ found: true, value: bytes('2') });
      expect((await handle.health()).status).toBe('healthy');
    } finally {
      await handle.close();
    }
  });

  it('fails calls in flight when Redis goes away, instead of hanging', async () => {
    const handle = await instantiatePlugin(plugin, config(), { namespace: 'inflight', logger: log.logger });
    try {
      const kv = kvBasic(handle.get(KeyValueBasic)!, 'inflight');
      const calls = Array.from({ length: 50 }, (_, i) =>
        kv.set(`k${i}`, bytes('v')).then(
          () => 'ok',
          (e) => e,
        ),
      );
      await redis.stop();
      const results = await Promise.all(calls);
      for (const r of results) if (r !== 'ok') expect(ConnectError.from(r).code).toBe(Code.Unavailable);
    } finally {
      await redis.restart();
      await handle.close();
    }
  });

  it('authenticates with the password from config or from the URL', async () => {
    const viaUrl = new URL(redis.url);
    viaUrl.password = PASSWORD;
    for (const cfg of [config(), { url: viaUrl.toString() }]) {
      const handle = await instantiatePlugin(plugin, cfg, { namespace: 'auth', logger: log.logger });
      await kvBasic(handle.get(KeyValueBasic)!, 'auth').set('k', bytes('v'));
      await handle.close();
    }
  });

  it('refuses to start with a wrong password: clear error, no secret in it', async () => {
    const wrong = 'Wr0ng-Pa55w0rd';
    const viaUrl = new URL(redis.url);
    viaUrl.password = wrong;
    for (const cfg of [config({ password: wrong }), { url: viaUrl.toString() }]) {
      const err = await errorOf(() =>
        instantiatePlugin(plugin, cfg, { namespace: 'badauth', logger: log.logger }),
      );
      expect(Code[err.code]).toBe(Code[Code.Unauthenticated]);
      expect(err.rawMessage).toMatch(/redis backend of namespace "badauth"/);
      expect(err.rawMessage).toMatch(/WRONGPASS|invalid username-password|NOAUTH/i);
      expect(err.rawMessage).not.toContain(wrong);
      expect(err.rawMessage).not.toContain(PASSWORD);
    }
    const none = await errorOf(() =>
      instantiatePlugin(plugin, { url: redis.url }, { namespace: 'noauth', logger: log.logger }),
    );
    expect(none.rawMessage).toMatch(/namespace "noauth".*NOAUTH/);
    expect(Code[none.code]).toBe(Code[Code.InvalidArgument]);
  });

  it('refuses to start when Redis is unreachable, naming namespace and redacted URL', async () => {
    const port = await freePort();
    const err = await errorOf(() =>
      instantiatePlugin(
        plugin,
        { url: `redis://app:${PASSWORD}@127.0.0.1:${port}`, connect_timeout_ms: 1000 },
        {
          namespace: 'nowhere',
          logger: log.logger,
        },
      ),
    );
    expect(Code[err.code]).toBe(Code[Code.Unavailable]);
    expect(err.rawMessage).toContain('redis backend of namespace "nowhere"');
    expect(err.rawMessage).toContain(`127.0.0.1:${port}`);
    expect(err.rawMessage).not.toContain(PASSWORD);
  });

  it('never writes a password to the logs', () => {
    expect(log.lines.length).toBeGreaterThan(0);
    for (const line of log.lines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain('Wr0ng-Pa55w0rd');
    }
  });
});
