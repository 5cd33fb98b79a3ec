// Lists, sets and sorted sets through the proxy process over gRPC and gRPC-web, with every effect read back
// from the backend itself (Redis with node-redis, PostgreSQL with postgres.js).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListBasicInterface } from '@prism/list-basic';
import { ListBlockingInterface } from '@prism/list-blocking';
import { InsertPosition, ListIndexingInterface } from '@prism/list-indexing';
import { ListRangeInterface } from '@prism/list-range';
import { SetBasicInterface } from '@prism/set-basic';
import { SetOperationsInterface } from '@prism/set-operations';
import { SortedSetBasicInterface } from '@prism/sortedset-basic';
import { SortedSetRangeInterface } from '@prism/sortedset-range';
import { SortedSetRankInterface } from '@prism/sortedset-rank';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import postgres from 'postgres';
import { createClient as createRedisClient, RESP_TYPES } from 'redis';
import { codeOf } from './codes.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('lists, sets and sorted sets through the proxy, checked in Redis and PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-ds-'));
  let pgUrl: string;
  let proxy: ProxyProcess;
  let sql: postgres.Sql;
  let redis: ReturnType<typeof redisClient>;
  const redisClient = () =>
    createRedisClient({ url: testServerUrl('redis') }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const doors: Record<string, () => Transport> = {
    gRPC: () => createGrpcTransport({ baseUrl: proxy.url }),
    'gRPC-web': () => createGrpcWebTransport({ baseUrl: proxy.url, httpVersion: '2' }),
  };

  beforeAll(async () => {
    pgUrl = await createDatabase(testServerUrl('postgres'));
    sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
    redis = redisClient();
    await redis.connect();
    const config = join(dir, 'prism.yaml');
    const redisBackend = `{ type: redis, config: { url: "${testServerUrl('redis')}" } }`;
    const pgBackend = `{ type: postgres, config: { url: "${pgUrl}" } }`;
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: ds-list-redis, pattern: list, needs: [list_range, list_indexing, list_blocking], backend: ${redisBackend} }
  - { name: ds-list-pg, pattern: list, backend: ${pgBackend} }
  - { name: ds-set-redis, pattern: set, needs: [set_operations], backend: ${redisBackend} }
  - { name: ds-set-pg, pattern: set, needs: [set_operations], backend: ${pgBackend} }
  - { name: ds-zset-redis, pattern: sortedset, needs: [sortedset_range, sortedset_rank], backend: ${redisBackend} }
  - { name: ds-zset-pg, pattern: sortedset, needs: [sortedset_range, sortedset_rank], backend: ${pgBackend} }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    await redis?.close();
    await sql?.end();
    if (pgUrl) await dropDatabase(pgUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [door, transport] of Object.entries(doors)) {
    describe(`over ${door}`, () => {
      const key = `k-${door}`;

      it('List on Redis: push, range, index, insert, trim and a blocking pop, as LRANGE shows', async () => {
        const t = transport();
        const ns = 'ds-list-redis';
        const list = createClient(ListBasicInterface, t);
        const range = createClient(ListRangeInterface, t);
        const idx = createClient(ListIndexingInterface, t);
        const blocking = createClient(ListBlockingInterface, t);
        await list.pushRight({ namespace: ns, key, values: ['a', 'b', 'c', 'd'].map(enc) });
        await idx.insert({
          namespace: ns,
          key,
          position: InsertPosition.BEFORE,
          pivot: enc('c'),
          value: enc('b2'),
        });
        expect((await idx.index({ namespace: ns, key, index: -1n })).value).toEqual(enc('d'));
        const all = await range.range({ namespace: ns, key, start: 0n, stop: -1n });
        expect(all.values.map(dec)).toEqual(['a', 'b', 'b2', 'c', 'd']);
        expect((await range.trim({ namespace: ns, key, start: 1n, stop: 3n })).length).toBe(3n);
        const inRedis = await redis.lRange(`${ns}:\u0000l\u0000${key}`, 0, -1);
        expect(inRedis.map((b) => b.toString())).toEqual(['b', 'b2', 'c']);

        // A waiter is served by a push that comes after it started waiting.
        const waiting = blocking.blockingPopLeft({
          namespace: ns,
          keys: [`${key}-empty`],
          timeoutMs: 10_000n,
        });
        await new Promise((r) => setTimeout(r, 200));
        await list.pushRight({ namespace: ns, key: `${key}-empty`, values: [enc('late')] });
        const popped = await waiting;
        expect([popped.found, popped.key, dec(popped.value)]).toEqual([true, `${key}-empty`, 'late']);
        expect(await codeOf(blocking.blockingPopLeft({ namespace: ns, keys: [], timeoutMs: 10n }))).toBe(
          Code.InvalidArgument,
        );
      });

      it('List on PostgreSQL: list_basic order, as the table rows show', async () => {
        const t = transport();
        const ns = 'ds-list-pg';
        const list = createClient(ListBasicInterface, t);
        await list.pushRight({ namespace: ns, key, values: [enc('2'), enc('3')] });
        await list.pushLeft({ namespace: ns, key, values: [enc('1')] });
        expect((await list.length({ namespace: ns, key })).length).toBe(3n);
        const rows = await sql<{ value: Buffer }[]>`
          SELECT value FROM prism.list_items WHERE namespace = ${ns} AND key = ${key} ORDER BY pos`;
        expect(rows.map((r) => r.value.toString())).toEqual(['1', '2', '3']);
        expect(dec((await list.popLeft({ namespace: ns, key })).value)).toBe('1');
        expect(dec((await list.popRight({ namespace: ns, key })).value)).toBe('3');
        expect((await list.length({ namespace: ns, key })).length).toBe(1n);
      });

      for (const backend of ['redis', 'pg'] as const) {
        it(`Set on ${backend}: add, members, union store, as the backend shows`, async () => {
          const t = transport();
          const ns = `ds-set-${backend}`;
          const set = createClient(SetBasicInterface, t);
          const ops = createClient(SetOperationsInterface, t);
          expect(
            (await set.add({ namespace: ns, key: `${key}-a`, members: ['x', 'y'].map(enc) })).added,
          ).toBe(2n);
          await set.add({ namespace: ns, key: `${key}-b`, members: ['y', 'z'].map(enc) });
          const members: string[] = [];
          for await (const batch of set.members({ namespace: ns, key: `${key}-a` }))
            members.push(...batch.members.map(dec));
          expect(members.sort()).toEqual(['x', 'y']);
          const stored = await ops.unionStore({
            namespace: ns,
            destination: `${key}-u`,
            keys: [`${key}-a`, `${key}-b`],
          });
          expect(stored.cardinality).toBe(3n);
          const inBackend =
            backend === 'redis'
              ? (await redis.sMembers(`${ns}:\u0000set\u0000${key}-u`)).map((b) => b.toString())
              : (
                  await sql<{ member: Buffer }[]>`
                    SELECT member FROM prism.set_members WHERE namespace = ${ns} AND key = ${`${key}-u`}`
                ).map((r) => r.member.toString());
          expect(inBackend.sort()).toEqual(['x', 'y', 'z']);
        });

        it(`SortedSet on ${backend}: add, range by score, rank, as the backend shows`, async () => {
          const t = transport();
          const ns = `ds-zset-${backend}`;
          const z = createClient(SortedSetBasicInterface, t);
          const range = createClient(SortedSetRangeInterface, t);
          const rank = createClient(SortedSetRankInterface, t);
          const entries = [
            { member: enc('low'), score: Number.NEGATIVE_INFINITY },
            { member: enc('b'), score: 2 },
            { member: enc('a'), score: 2 },
            { member: enc('high'), score: 10.5 },
          ];
          expect((await z.add({ namespace: ns, key, entries })).count).toBe(4n);
          const got = await range.rangeByScore({
            namespace: ns,
            key,
            min: { value: 2 },
            max: { value: 100 },
          });
          expect(got.entries.map((e) => [dec(e.member), e.score])).toEqual([
            ['a', 2],
            ['b', 2],
            ['high', 10.5],
          ]);
          expect((await rank.rank({ namespace: ns, key, member: enc('high') })).rank).toBe(3n);
          expect(
            await codeOf(z.add({ namespace: ns, key, entries: [{ member: enc('nan'), score: Number.NaN }] })),
          ).toBe(Code.InvalidArgument);
          const inBackend = backend === 'redis' ? await zrangeRedis(ns, key) : await zrangePg(ns, key);
          expect(inBackend).toEqual([
            ['low', Number.NEGATIVE_INFINITY],
            ['a', 2],
            ['b', 2],
            ['high', 10.5],
          ]);
        });
      }
    });
  }

  async function zrangeRedis(ns: string, key: string): Promise<[string, number][]> {
    const entries = await redis.zRangeWithScores(`${ns}:\u0000zset\u0000${key}`, 0, -1);
    return entries.map((e) => [e.value.toString(), e.score]);
  }

  async function zrangePg(ns: string, key: string): Promise<[string, number][]> {
    const rows = await sql<{ member: Buffer; score: number }[]>`
      SELECT member, score FROM prism.zset_members WHERE namespace = ${ns} AND key = ${key}
      ORDER BY score, member`;
    return rows.map((r) => [r.member.toString(), r.score]);
  }
});
