import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { expectCode, kvBasic } from '@prism/keyvalue-basic/conformance';
import { waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { createDatabase, type PostgresTestServer, startPostgres } from '@prism/testing';
import { pino } from 'pino';
import postgres from 'postgres';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

// A server of this file's own: it is stopped and restarted, and its authentication is changed.
let server: PostgresTestServer;
let url = '';
beforeAll(async () => {
  server = await startPostgres();
  url = await createDatabase(server.url);
}, 120_000);
afterAll(async () => {
  await server?.dispose();
});

/** Settles `p` or fails the test after `ms`, so a hanging call shows up as a clear failure. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`call did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('postgres outage', () => {
  let handle: PluginHandle;
  afterAll(async () => {
    await handle?.close();
  });

  it('fails fast with UNAVAILABLE while the server is down and recovers without a new adapter', async () => {
    // The harness trusts local connections, so any password works: it is here to prove it never leaks.
    const secret = 'hunter2-outage-pw';
    const withSecret = new URL(url);
    withSecret.password = secret;
    const config = {
      url: withSecret.toString(),
      connect_timeout_ms: 1000,
      query_timeout_ms: 3000,
      sweep_interval_ms: 50,
    };
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const logged = (text: string) => async () => lines.some((l) => l.includes(text));
    handle = await instantiatePlugin(plugin, config, { namespace: 'outage', logger });
    const kv = kvBasic(handle.get(KeyValueBasic)!, 'outage');
    await kv.set('before', bytes('v'));

    await server.stop();
    for (let i = 0; i < 5; i++) {
      const err = await within(
        5000,
        expectCode(() => kv.get('before'), Code.Unavailable),
      );
      expect(err.rawMessage).toContain('namespace "outage"');
    }
    await within(
      5000,
      expectCode(() => kv.set('during', bytes('x')), Code.Unavailable),
    );
    expect((await handle.health()).status).toBe('unhealthy');
    await waitUntil(logged('sweeping expired keys failed'), 'the sweeper logged the outage');

    await server.restart();
    await waitUntil(
      async () => (await kv.get('before').catch(() => ({ found: false }))).found,
      'calls succeed again after the restart',
      15_000,
    );
    await kv.set('after', bytes('y'));
    expect(await kv.get('after')).toEqual({ found: true, value: bytes('y') });
    expect((await handle.health()).status).toBe('healthy');
    await waitUntil(logged('sweeping expired keys works again'), 'the sweeper logged the recovery');
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
  }, 60_000);
});

describe('postgres authentication', () => {
  beforeAll(async () => {
    // The harness trusts every local connection; require a password from one role to test credentials.
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE ROLE prism_app LOGIN PASSWORD 'right-pw'`);
      await admin.unsafe(`GRANT ALL ON DATABASE "${new URL(url).pathname.slice(1)}" TO prism_app`);
      const hba = join(server.dir, 'data', 'pg_hba.conf');
      writeFileSync(hba, `host all prism_app 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
      await admin`SELECT pg_reload_conf()`;
    } finally {
      await admin.end();
    }
  });

  const withUser = (user: string, password: string) => {
    const u = new URL(url);
    u.username = user;
    u.password = password;
    return u.toString();
  };

  it('rejects a wrong password at start with an error naming namespace and backend, without the secret', async () => {
    const err = await instantiatePlugin(
      plugin,
      { url: withUser('prism_app', 'wr0ng-s3cret') },
      { namespace: 'billing' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    const ce = err as ConnectError;
    expect(ce.rawMessage).toContain('namespace "billing"');
    expect(ce.rawMessage).toContain('postgres');
    expect(ce.rawMessage).toMatch(/password authentication failed/);
    expect(ce.rawMessage).toContain('prism_app:***@');
    expect(ce.rawMessage).not.toContain('wr0ng-s3cret');
    expect(ce.code).toBe(Code.Unauthenticated);
  });

  it('rejects a wrong password given as a separate field, without the secret', async () => {
    const u = new URL(url);
    const config = {
      host: u.hostname,
      port: Number(u.port),
      user: 'prism_app',
      password: 'an0ther-s3cret',
      database: u.pathname.slice(1),
    };
    const err = (await instantiatePlugin(plugin, config, { namespace: 'billing' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toMatch(/password authentication failed/);
    expect(err.message).not.toContain('an0ther-s3cret');
  });

  it('connects with the right password', async () => {
    const h = await instantiatePlugin(
      plugin,
      { url: withUser('prism_app', 'right-pw'), schema: 'app' },
      { namespace: 'ok' },
    );
    try {
      const kv = kvBasic(h.get(KeyValueBasic)!, 'ok');
      await kv.set('k', bytes('v'));
      expect((await kv.get('k')).found).toBe(true);
    } finally {
      await h.close();
    }
  });
});
