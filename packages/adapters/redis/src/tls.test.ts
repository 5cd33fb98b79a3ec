import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import { Code, ConnectError, instantiatePlugin } from '@prism/sdk';
import { type RedisTestServer, startRedis } from '@prism/testing';
import { pino } from 'pino';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const quiet = pino({ level: 'silent' });

async function startError(config: Record<string, unknown>): Promise<ConnectError> {
  try {
    const h = await instantiatePlugin(plugin, config, { namespace: 'tls', logger: quiet });
    await h.close();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the start to fail');
}

// A private TLS-only redis-server with a password and a throwaway CA.
describe('redis adapter: TLS', () => {
  let redis: RedisTestServer;
  beforeAll(async () => {
    redis = await startRedis({ tls: true, password: 'tls-secret' });
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it('connects over TLS trusting the configured CA, with AUTH', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const h = await instantiatePlugin(
      plugin,
      { url: redis.url, password: 'tls-secret', tls: { ca: redis.ca } },
      { namespace: 'tls', logger: quiet },
    );
    try {
      const kv = kvBasic(h.get(KeyValueBasic)!, 'tls');
      await kv.set('k', bytes('over tls'));
      expect(await kv.get('k')).toEqual({ found: true, value: bytes('over tls') });
    } finally {
      await h.close();
    }
  });

  it('refuses a server certificate it cannot verify, with a clear start error', async () => {
    const err = await startError({ url: redis.url, password: 'tls-secret', connect_timeout_ms: 2000 });
    expect(Code[err.code]).toBe(Code[Code.Unavailable]);
    expect(err.rawMessage).toMatch(/namespace "tls".*cannot connect: .*(certificate|self.signed)/i);
    expect(err.rawMessage).not.toContain('tls-secret');
  });

  it('accepts an unverified certificate only when reject_unauthorized is false', async () => {
    const h = await instantiatePlugin(
      plugin,
      { url: redis.url, password: 'tls-secret', tls: { reject_unauthorized: false } },
      { namespace: 'tls-insecure', logger: quiet },
    );
    await kvBasic(h.get(KeyValueBasic)!, 'tls-insecure').set('k', bytes('v'));
    await h.close();
  });

  it('fails the start when speaking plain Redis to a TLS port', async () => {
    const plainUrl = redis.url.replace('rediss://', 'redis://');
    const err = await startError({ url: plainUrl, password: 'tls-secret', connect_timeout_ms: 1000 });
    expect(Code[err.code]).toBe(Code[Code.Unavailable]);
    expect(err.rawMessage).toContain('namespace "tls"');
  });
});
