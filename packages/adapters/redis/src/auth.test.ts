// The seeds' authentication suite against a private redis-server with an ACL user (default user off),
// in_process: the adapter package called directly. Sidecar and remote modes run in apps/proxy.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import { Code, ConnectError, createLogger, instantiatePlugin } from '@prism/sdk';
import { type RedisTestServer, startRedis } from '@prism/testing';
import { type AuthSuiteFactory, captureLogs, describeAuthenticationSuite } from '@prism/testing/auth-suite';
import plugin from './index.js';

const USER = 'prism_app';
let redis: RedisTestServer;
let password = `pw-${randomBytes(8).toString('hex')}`;
const logs = captureLogs();
const logger = createLogger({ name: 'redis-auth', level: 'debug', stream: logs.stream });

beforeAll(async () => {
  redis = await startRedis({ acl: { user: USER, password } });
});
afterAll(async () => {
  await redis?.dispose();
});

/** Connections Redis attributes to `user` (CLIENT LIST, minus the one asking). */
async function clientsOf(user: string): Promise<number> {
  const list = await redis.command('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l.includes(` user=${user} `) && !l.includes(' cmd=client|list '))
    .length;
}

const factory: AuthSuiteFactory = {
  valid: () => ({ user: USER, password }),
  pooled: false, // one command connection per instance (node-redis multiplexes); the suite starts five
  start: async (creds) => {
    const namespace = `auth-${randomBytes(4).toString('hex')}`;
    const config = {
      url: redis.url,
      username: creds.user,
      ...(creds.password ? { password: creds.password } : {}),
      connect_timeout_ms: 2000,
    };
    const h = await instantiatePlugin(plugin, config, { namespace, logger });
    const kv = kvBasic(h.get(KeyValueBasic)!, namespace);
    return {
      op: async (i) => {
        await kv.set(`k${i}`, new TextEncoder().encode(String(i)));
        await kv.get(`k${i}`);
      },
      close: () => h.close(),
    };
  },
  rotate: async () => {
    password = `pw-${randomBytes(8).toString('hex')}`;
    await redis.setPassword(password);
  },
  sessions: clientsOf,
  logs: () => logs.text() + redis.logs(),
};

describeAuthenticationSuite('redis (in_process, ACL user)', factory);

describe('redis credentials: backend specifics', () => {
  it('logs in as the configured ACL user (CLIENT LIST on the server)', async () => {
    const namespace = 'whoami';
    const h = await instantiatePlugin(
      plugin,
      { url: redis.url, username: USER, password },
      { namespace, logger },
    );
    try {
      await kvBasic(h.get(KeyValueBasic)!, namespace).set('k', new Uint8Array([1]));
      expect(await redis.command('ACL', 'WHOAMI')).toBe(USER); // the admin connection, for contrast
      const others = (await redis.command('CLIENT', 'LIST'))
        .split('\n')
        .filter((l) => l && !l.includes(' cmd=client|list '));
      expect(others.length).toBeGreaterThanOrEqual(1);
      for (const line of others) expect(line).toContain(` user=${USER} `);
    } finally {
      await h.close();
    }
  });

  it('answers INVALID_ARGUMENT when the server requires a login and no password is configured', async () => {
    const err = await instantiatePlugin(plugin, { url: redis.url }, { namespace: 'anon', logger }).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('InvalidArgument');
    expect(err.rawMessage).toMatch(/requires authentication but no password is configured/);
  });

  it('takes the password from the URL too, and never echoes it', async () => {
    const wrong = `url-${randomBytes(6).toString('hex')}`;
    const url = redis.url.replace('redis://', `redis://${USER}:${wrong}@`);
    const err = await instantiatePlugin(plugin, { url }, { namespace: 'url', logger }).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('Unauthenticated');
    expect(err.message).not.toContain(wrong);
  });
});
