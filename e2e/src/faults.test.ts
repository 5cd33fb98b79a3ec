import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import {
  type PostgresTestServer,
  type RedisTestServer,
  startPostgres,
  startRedis,
  waitUntil,
} from '@prism/testing';
import postgres from 'postgres';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

// 32 writers on a MemStore, a Redis and a PostgreSQL namespace while Redis is killed and restarted and
// PostgreSQL is frozen for 5 s, thawed and restarted. Acked writes to PostgreSQL must all be there; every
// error must be UNAVAILABLE or DEADLINE_EXCEEDED; each namespace must serve again within 2 s of its
// backend's return; the MemStore bystander must see no error at all.

const NAMESPACES = ['mem', 'red', 'pg'] as const;
type Ns = (typeof NAMESPACES)[number];

let dir: string;
let redis: RedisTestServer;
let pg: PostgresTestServer;
let proxy: ProxyProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prism-e2e-faults-'));
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const file = join(dir, 'prism.yaml');
  writeFileSync(
    file,
    `namespaces:
  - name: mem
    pattern: keyvalue
    backend: { type: memstore }
  - name: red
    pattern: keyvalue
    backend: { type: redis, config: { url: "${redis.url}", command_timeout_ms: 1000, connect_timeout_ms: 1000 } }
  - name: pg
    pattern: keyvalue
    backend: { type: postgres, config: { url: "${pg.url}", query_timeout_ms: 1000, connect_timeout_ms: 1000 } }
`,
  );
  proxy = await startProxyProcess(file);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.allSettled([redis?.dispose(), pg?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Tally {
  acked: string[];
  errors: Map<string, number>;
  /** Times (performance.now) of successful writes. */
  ok: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PG_FREEZE_MS = 5000;

it('survives a Redis kill and a PostgreSQL freeze and restart under 32 writers', async () => {
  const kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
  const fresh = (): Tally => ({ acked: [], errors: new Map(), ok: [] });
  const tally: Record<Ns, Tally> = { mem: fresh(), red: fresh(), pg: fresh() };
  let running = true;
  const writer = async (w: number) => {
    const ns = NAMESPACES[w % 3] as Ns;
    const t = tally[ns];
    for (let i = 0; running; i++) {
      const key = `w${w}-${i}`;
      try {
        await kv.set({ namespace: ns, key, value: new TextEncoder().encode(key) }, { timeoutMs: 2000 });
        t.acked.push(key);
        t.ok.push(performance.now());
      } catch (err) {
        const code = Code[ConnectError.from(err).code];
        t.errors.set(code, (t.errors.get(code) ?? 0) + 1);
        await sleep(20);
      }
    }
  };
  const writers = Array.from({ length: 32 }, (_, w) => writer(w));

  const okAfter = (ns: Ns, t0: number) => tally[ns].ok.some((t) => t >= t0);
  const until = (probe: () => boolean, what: string) =>
    waitUntil(probe, { timeoutMs: 15_000, intervalMs: 20, what });

  await until(() => NAMESPACES.every((ns) => tally[ns].acked.length >= 100), 'writes on every namespace');
  process.kill(redis.pid as number, 'SIGKILL');
  await until(() => tally.red.errors.size > 0, 'the Redis outage to be felt');
  await redis.restart();
  const redisBack = performance.now();
  await until(() => okAfter('red', redisBack), 'a Redis write after the restart');

  await pg.freeze();
  await sleep(PG_FREEZE_MS); // the fault itself: PostgreSQL frozen this long
  await pg.thaw();
  const pgThawed = performance.now();
  await until(() => okAfter('pg', pgThawed), 'a PostgreSQL write after the thaw');
  await pg.restart();
  const pgBack = performance.now();
  await until(() => okAfter('pg', pgBack) && okAfter('red', pgBack), 'writes after the PostgreSQL restart');
  running = false;
  await Promise.all(writers);

  const firstOkAfter = (ns: Ns, t0: number) =>
    (tally[ns].ok.find((t) => t >= t0) ?? Number.POSITIVE_INFINITY) - t0;
  const errorsOf = (ns: Ns) => Object.fromEntries(tally[ns].errors);
  // Every error is a backend outage or a deadline, never INTERNAL or UNKNOWN.
  for (const ns of NAMESPACES)
    for (const code of tally[ns].errors.keys())
      expect([ns, code]).toEqual([ns, expect.stringMatching(/^(Unavailable|DeadlineExceeded)$/)]);
  expect(errorsOf('mem')).toEqual({});
  expect(tally.mem.acked.length).toBeGreaterThan(1000);
  expect(tally.red.errors.size + tally.pg.errors.size).toBeGreaterThan(0); // the faults were felt
  expect(firstOkAfter('red', redisBack)).toBeLessThanOrEqual(2000);
  expect(firstOkAfter('pg', pgThawed)).toBeLessThanOrEqual(2000);
  expect(firstOkAfter('pg', pgBack)).toBeLessThanOrEqual(2000);

  // Every write PostgreSQL acked is in PostgreSQL.
  const sql = postgres(pg.url, { max: 1 });
  try {
    const rows = await sql<{ key: string }[]>`SELECT key FROM prism.kv WHERE namespace = 'pg'`;
    const stored = new Set(rows.map((r) => r.key));
    const lost = tally.pg.acked.filter((k) => !stored.has(k));
    expect({ acked: tally.pg.acked.length > 100, lost }).toEqual({ acked: true, lost: [] });
  } finally {
    await sql.end();
  }
}, 60_000);
