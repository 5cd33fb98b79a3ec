import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { KeyValueScanInterface } from '@prism/keyvalue-scan';
import { KeyValueTTLInterface } from '@prism/keyvalue-ttl';
import { ListRangeInterface } from '@prism/list-range';
import { createDatabase, startRedis, type TestServer, testServerUrl } from '@prism/testing';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { createClient as createRedisClient, RESP_TYPES } from 'redis';
import { codeOf } from './codes.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

/** How each backend stores a key, read with the backend's own client: proof the write really landed there. */
type Peek = (namespace: string, key: string) => Promise<Uint8Array | undefined>;

const enc = (s: string) => new TextEncoder().encode(s);

describe('one KV test body through the proxy on MemStore, Redis, PostgreSQL and SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-kv-'));
  const sqlitePath = join(dir, 'kv.db');
  let pgUrl: string;
  let proxy: ProxyProcess;
  let outageRedis: TestServer;
  const peek: Record<string, Peek> = {};
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    pgUrl = await createDatabase(testServerUrl('postgres'));
    const redisUrl = testServerUrl('redis');
    outageRedis = await startRedis();
    const config = join(dir, 'prism.yaml');
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: kv-memstore, pattern: keyvalue, needs: [keyvalue_ttl, keyvalue_scan], backend: { type: memstore } }
  - { name: kv-redis, pattern: keyvalue, needs: [keyvalue_ttl, keyvalue_scan], backend: { type: redis, config: { url: "${redisUrl}" } } }
  - { name: kv-redis-2, pattern: keyvalue, backend: { type: redis, config: { url: "${redisUrl}" } } }
  - { name: kv-postgres, pattern: keyvalue, needs: [keyvalue_ttl, keyvalue_scan], backend: { type: postgres, config: { url: "${pgUrl}" } } }
  - { name: kv-sqlite, pattern: keyvalue, needs: [keyvalue_ttl, keyvalue_scan], backend: { type: sqlite, config: { path: "${sqlitePath}" } } }
  - { name: flaky, pattern: keyvalue, backend: { type: redis, config: { url: "${outageRedis.url}", command_timeout_ms: 1000, connect_timeout_ms: 1000 } } }
`,
    );
    proxy = await startProxyProcess(config);

    const redis = createRedisClient({ url: redisUrl }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    await redis.connect();
    closers.push(() => redis.close());
    peek['kv-redis'] = async (ns, key) => {
      const v = await redis.get(`${ns}:${key}`);
      return v ? new Uint8Array(v) : undefined;
    };
    const sql = postgres(pgUrl, { max: 1 });
    closers.push(() => sql.end());
    peek['kv-postgres'] = async (ns, key) => {
      const rows = await sql`SELECT value FROM prism.kv WHERE namespace = ${ns} AND key = ${key}`;
      return rows[0] ? new Uint8Array(rows[0].value as Buffer) : undefined;
    };
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    closers.push(async () => db.close());
    peek['kv-sqlite'] = async (ns, key) => {
      const row = db.prepare('SELECT value FROM prism_kv WHERE namespace = ? AND key = ?').get(ns, key) as
        | { value: Buffer }
        | undefined;
      return row ? new Uint8Array(row.value) : undefined;
    };
  });

  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    for (const close of closers) await close();
    await outageRedis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const transport = () => createGrpcTransport({ baseUrl: proxy.url });

  describe.each(['kv-memstore', 'kv-redis', 'kv-postgres', 'kv-sqlite'])('%s', (namespace) => {
    it('sets, reads, scans, expires and deletes — and the data is really in the backend', async () => {
      const kv = createClient(KeyValueBasicInterface, transport());
      const scan = createClient(KeyValueScanInterface, transport());
      const ttl = createClient(KeyValueTTLInterface, transport());

      await kv.set({ namespace, key: 'user:1', value: enc('ada') });
      await kv.set({ namespace, key: 'user:2', value: enc('grace') });
      await kv.set({ namespace, key: 'order:1', value: new Uint8Array([0, 255]) });
      expect(await kv.get({ namespace, key: 'user:1' })).toMatchObject({ found: true, value: enc('ada') });
      if (peek[namespace]) expect(await peek[namespace](namespace, 'user:1')).toEqual(enc('ada'));

      const keys: string[] = [];
      for await (const page of scan.scanKeys({ namespace, prefix: 'user:', pageSize: 1 }))
        keys.push(...page.keys);
      expect(keys.sort()).toEqual(['user:1', 'user:2']);
      expect((await scan.count({ namespace, prefix: '' })).count).toBe(3n);

      await ttl.setWithTTL({ namespace, key: 'session', value: enc('s'), ttlMs: 200n });
      const deadline = Date.now() + 10_000;
      while ((await kv.exists({ namespace, key: 'session' })).exists && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await kv.exists({ namespace, key: 'session' })).exists).toBe(false);

      expect((await kv.delete({ namespace, key: 'user:1' })).deleted).toBe(true);
      if (peek[namespace]) expect(await peek[namespace](namespace, 'user:1')).toBeUndefined();
      expect(await codeOf(kv.set({ namespace, key: '', value: enc('x') }))).toBe(Code.InvalidArgument);
    });
  });

  it('keeps namespaces on one Redis apart, through scan too', async () => {
    const kv = createClient(KeyValueBasicInterface, transport());
    await kv.set({ namespace: 'kv-redis-2', key: 'user:9', value: enc('other') });
    expect((await kv.get({ namespace: 'kv-redis', key: 'user:9' })).found).toBe(false);
    const scan = createClient(KeyValueScanInterface, transport());
    const seen: string[] = [];
    for await (const page of scan.scanKeys({ namespace: 'kv-redis', prefix: '' })) seen.push(...page.keys);
    expect(seen).not.toContain('user:9');
  });

  it('answers UNIMPLEMENTED for an interface the backend does not declare', async () => {
    const list = createClient(ListRangeInterface, transport());
    expect(await codeOf(list.range({ namespace: 'kv-postgres', key: 'l', stop: -1n }))).toBe(
      Code.Unimplemented,
    );
  });

  it('fails fast with UNAVAILABLE while Redis is down and recovers without a proxy restart', async () => {
    const kv = createClient(KeyValueBasicInterface, transport());
    await kv.set({ namespace: 'flaky', key: 'a', value: enc('1') });
    await outageRedis.stop();
    const started = Date.now();
    expect(await codeOf(kv.get({ namespace: 'flaky', key: 'a' }, { timeoutMs: 10_000 }))).toBe(
      Code.Unavailable,
    );
    expect(Date.now() - started).toBeLessThan(10_000); // well before the client's own deadline
    await outageRedis.restart();
    const deadline = Date.now() + 15_000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = await kv.set({ namespace: 'flaky', key: 'b', value: enc('2') }).then(
        () => true,
        () => false,
      );
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok).toBe(true);
    expect(await kv.get({ namespace: 'flaky', key: 'b' })).toMatchObject({ found: true, value: enc('2') });
  });
});
