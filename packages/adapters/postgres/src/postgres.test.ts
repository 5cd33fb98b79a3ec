import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { expectCode, kvBasic } from '@prism/keyvalue-basic/conformance';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { kvBatch } from '@prism/keyvalue-batch/conformance';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { kvCAS } from '@prism/keyvalue-cas/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { kvTx, tx } from '@prism/keyvalue-transactional/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL, waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, instantiatePlugin } from '@prism/sdk';
import { useTestDatabase } from './database.test-util.js';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

const db = useTestDatabase();

async function open(namespace: string, config: Record<string, unknown> = {}) {
  const h = await db.open({ pool_size: 2, ...config }, { namespace });
  return {
    handle: h,
    kv: kvBasic(h.get(KeyValueBasic)!, namespace),
    ttl: kvTTL(h.get(KeyValueTTL)!, namespace),
    scan: kvScan(h.get(KeyValueScan)!, namespace),
    batch: kvBatch(h.get(KeyValueBatch)!, namespace),
    transact: kvTx(h.get(KeyValueTransactional)!, namespace),
    cas: kvCAS(h.get(KeyValueCAS)!, namespace),
  };
}

describe('postgres adapter against a real server', () => {
  it('writes rows that a separate client sees, tagged with the namespace, with a new version per write', async () => {
    const { kv } = await open('rows');
    await kv.set('user:1', bytes('alice'));
    const [first] = await db.direct`SELECT namespace, key, value, expires_at, version FROM prism.kv
      WHERE namespace = 'rows' AND key = 'user:1'`;
    expect(first).toMatchObject({
      namespace: 'rows',
      key: 'user:1',
      value: Buffer.from('alice'),
      expires_at: null,
    });
    await kv.set('user:1', bytes('bob'));
    const [second] =
      await db.direct`SELECT value, version FROM prism.kv WHERE namespace = 'rows' AND key = 'user:1'`;
    expect(second?.value).toEqual(Buffer.from('bob'));
    expect(BigInt(second?.version)).toBeGreaterThan(BigInt(first?.version));
    expect(await kv.delete('user:1')).toBe(true);
    expect(await db.direct`SELECT 1 FROM prism.kv WHERE namespace = 'rows'`).toHaveLength(0);
  });

  it('reads rows written directly in the table (the table is the source of truth)', async () => {
    const { kv } = await open('direct-write');
    await db.direct`INSERT INTO prism.kv (namespace, key, value) VALUES ('direct-write', 'k', ${Buffer.from('v')})`;
    expect(await kv.get('k')).toEqual({ found: true, value: bytes('v') });
  });

  it('keeps namespaces apart on one database, through Get, Scan and Count', async () => {
    const a = await open('iso-a');
    const b = await open('iso-b');
    await a.kv.set('p/1', bytes('a'));
    await a.kv.set('p/2', bytes('a'));
    await b.kv.set('p/1', bytes('b'));
    expect((await a.kv.get('p/1')).value).toEqual(bytes('a'));
    expect(await a.scan.keys('')).toEqual(['p/1', 'p/2']);
    expect(await b.scan.keys('')).toEqual(['p/1']);
    expect(await b.scan.count('p/')).toBe(1);
    const rows = await db.direct`SELECT namespace, count(*)::int AS n FROM prism.kv
      WHERE namespace IN ('iso-a', 'iso-b') GROUP BY namespace ORDER BY namespace`;
    expect(rows.map((r) => [r.namespace, r.n])).toEqual([
      ['iso-a', 2],
      ['iso-b', 1],
    ]);
  });

  it('stores expires_at and sweeps expired rows in the background, without any read', async () => {
    const { ttl } = await open('sweep', { sweep_interval_ms: 20 });
    await ttl.setWithTTL('short', bytes('v'), 100);
    await ttl.setWithTTL('long', bytes('v'), 60_000);
    const [row] =
      await db.direct`SELECT expires_at > now() AS future FROM prism.kv WHERE namespace = 'sweep' AND key = 'short'`;
    expect(row?.future).toBe(true);
    const keys = async () =>
      (await db.direct`SELECT key FROM prism.kv WHERE namespace = 'sweep' ORDER BY key`).map((r) => r.key);
    await waitUntil(async () => (await keys()).length === 1, 'the sweeper deleted the expired row');
    expect(await keys()).toEqual(['long']);
  });

  it('writes a batch as rows in one statement and deletes them', async () => {
    const { batch } = await open('batch-rows');
    await batch.set([
      ['b', bytes('2')],
      ['a', bytes('1')],
      ['b', bytes('3')],
    ]);
    const rows = await db.direct`SELECT key, value FROM prism.kv WHERE namespace = 'batch-rows' ORDER BY key`;
    expect(rows.map((r) => [r.key, r.value.toString()])).toEqual([
      ['a', '1'],
      ['b', '3'],
    ]);
    await batch.delete(['a', 'b']);
    expect(await db.direct`SELECT 1 FROM prism.kv WHERE namespace = 'batch-rows'`).toHaveLength(0);
  });

  it('leaves no placeholder rows behind, whether a transaction commits or aborts', async () => {
    const { kv, transact } = await open('tx-rows');
    await kv.set('present', bytes('v'));
    // Commits: checks a missing key, deletes a missing key, sets another.
    await transact([tx.del('never'), tx.set('new', bytes('n'))], [tx.exists('absent', false)]);
    // Aborts: the condition on a missing key fails after its placeholder was taken.
    await expect(transact([tx.set('other', bytes('o'))], [tx.exists('missing')])).rejects.toThrow(
      /conditions\[0\]/,
    );
    const rows = await db.direct`SELECT key FROM prism.kv WHERE namespace = 'tx-rows' ORDER BY key`;
    expect(rows.map((r) => r.key)).toEqual(['new', 'present']);
  });

  it('lets exactly one create-if-absent win when CompareAndSet create_only races Transact exists=false', async () => {
    const { kv, cas, transact } = await open('race-create', { pool_size: 8 });
    for (let round = 0; round < 5; round++) {
      const key = `k${round}`;
      const attempts = Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? cas.set(key, bytes(`cas-${i}`), { createOnly: true })
          : transact([tx.set(key, bytes(`tx-${i}`))], [tx.exists(key, false)]),
      );
      const outcomes = await Promise.allSettled(attempts);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected')
          expect([Code.AlreadyExists, Code.Aborted]).toContain((o.reason as ConnectError).code);
      expect(await kv.exists(key)).toBe(true);
    }
  });

  describe('while another session holds the row lock', () => {
    /** Runs `fn` while a separate session holds a row lock on `key`, then releases it. */
    async function whileLocked(namespace: string, key: string, fn: () => Promise<void>) {
      await db.direct.begin(async (tx) => {
        await tx`SELECT 1 FROM prism.kv WHERE namespace = ${namespace} AND key = ${key} FOR UPDATE`;
        await fn();
      });
    }
    /** Waits until no query of `namespace`'s pool is running (a canceled one has really stopped). */
    const idle = (namespace: string) =>
      waitUntil(
        async () =>
          (
            await db.direct`SELECT 1 FROM pg_stat_activity
              WHERE application_name = ${`prism:${namespace}`} AND state = 'active'`
          ).length === 0,
        `no query of ${namespace} is running`,
      );
    const waiting = (namespace: string) =>
      waitUntil(
        async () =>
          (
            await db.direct`SELECT 1 FROM pg_stat_activity
              WHERE application_name = ${`prism:${namespace}`} AND wait_event_type = 'Lock'`
          ).length > 0,
        `a query of ${namespace} waits for the lock`,
      );

    it('answers DEADLINE_EXCEEDED when statement_timeout_ms passes', async () => {
      const { kv } = await open('slow', { statement_timeout_ms: 200 });
      await kv.set('locked', bytes('v'));
      await whileLocked('slow', 'locked', async () => {
        await expectCode(() => kv.set('locked', bytes('w')), Code.DeadlineExceeded);
      });
      expect((await kv.get('locked')).value).toEqual(bytes('v'));
    });

    it('gives up with UNAVAILABLE after query_timeout_ms and cancels the query on the server', async () => {
      const { kv } = await open('stuck', { statement_timeout_ms: 0, query_timeout_ms: 300 });
      await kv.set('locked', bytes('v'));
      await whileLocked('stuck', 'locked', async () => {
        const err = await expectCode(() => kv.set('locked', bytes('w')), Code.Unavailable);
        expect(err.rawMessage).toMatch(/did not answer within 300 ms/);
        await idle('stuck');
      });
      expect((await kv.get('locked')).value).toEqual(bytes('v'));
    });

    it('cancels the query when the caller goes away, answering CANCELED', async () => {
      const { handle, kv } = await open('gone');
      await kv.set('locked', bytes('v'));
      await whileLocked('gone', 'locked', async () => {
        const caller = new AbortController();
        const req = create(SetRequestSchema, { namespace: 'gone', key: 'locked', value: bytes('w') });
        const call = Promise.resolve(handle.get(KeyValueBasic)!.set(req, { signal: caller.signal }));
        await waiting('gone');
        caller.abort();
        await expectCode(() => call, Code.Canceled);
        await idle('gone');
      });
      expect((await kv.get('locked')).value).toEqual(bytes('v'));
    });
  });

  it('creates its schema idempotently when many instances start at once, in a custom schema', async () => {
    const started = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        instantiatePlugin(plugin, { url: db.url, schema: 'race_kv' }, { namespace: `race-${i}` }),
      ),
    );
    db.track(...started);
    await kvBasic(started[0]!.get(KeyValueBasic)!, 'race-0').set('k', bytes('v'));
    const [row] = await db.direct`SELECT count(*)::int AS n FROM race_kv.kv`;
    expect(row?.n).toBe(1);
  });

  it('uses a key collation that orders by bytes whatever the database locale', async () => {
    const { kv, scan } = await open('order');
    const keys = ['b', 'B', 'a', '_', 'é', 'Z', '~', '1'];
    for (const k of keys) await kv.set(k, bytes(k));
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(await scan.keys('')).toEqual(byBytes);
  });

  it('reports healthy with the target, never the password', async () => {
    const u = new URL(db.url);
    u.password = 'hunter2-secret';
    const h = await instantiatePlugin(plugin, { url: u.toString() }, { namespace: 'health' });
    db.track(h);
    const report = await h.health();
    expect(report.status).toBe('healthy');
    expect(JSON.stringify(report)).not.toContain('hunter2-secret');
  });

  it('fails to start on an unreachable server with UNAVAILABLE naming namespace and backend, password redacted', async () => {
    const err = await instantiatePlugin(
      plugin,
      { url: 'postgres://prism:s3cr3t-pw@127.0.0.1:1/db', connect_timeout_ms: 2000 },
      { namespace: 'orders' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    const ce = err as ConnectError;
    expect(ce.rawMessage).toContain('namespace "orders"');
    expect(ce.rawMessage).toContain('postgres');
    expect(ce.rawMessage).toContain('127.0.0.1:1');
    expect(ce.rawMessage).not.toContain('s3cr3t-pw');
    expect(ce.code).toBe(14); // UNAVAILABLE
  });

  it('rejects a config without url or host, and a bad schema name, naming the field', async () => {
    await expect(instantiatePlugin(plugin, {}, { namespace: 'cfg' })).rejects.toThrow(/url/);
    await expect(
      instantiatePlugin(plugin, { url: db.url, schema: 'Bad-Name' }, { namespace: 'cfg' }),
    ).rejects.toThrow(/schema/);
  });
});
