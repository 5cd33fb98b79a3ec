import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code } from '@prism/sdk';
import { AggregateRequestSchema, Aggregator, TimeSeriesAggregation } from '@prism/timeseries-aggregation';
import {
  type Point,
  QueryRequestSchema,
  TimeSeriesBasic,
  tagKey,
  WriteRequestSchema,
} from '@prism/timeseries-basic';
import {
  GetRetentionRequestSchema,
  SetRetentionRequestSchema,
  TimeSeriesRetention,
} from '@prism/timeseries-retention';
import { useTestDatabase } from './database.test-util.js';
import { DAY_NS, namespacePartition } from './timeseries.js';

const db = useTestDatabase();
const ctx = { signal: new AbortController().signal };
const MS = 1_000_000n;

async function open(namespace: string) {
  const h = await db.open({ pool_size: 3 }, { namespace });
  const basic = h.get(TimeSeriesBasic)!;
  const retention = h.get(TimeSeriesRetention)!;
  const aggregation = h.get(TimeSeriesAggregation)!;
  return {
    write: async (points: { tags?: Record<string, string>; timestampNs: bigint; value: number }[]) =>
      basic.write(
        create(WriteRequestSchema, { namespace, points: points.map((p) => ({ series: 'cpu', ...p })) }),
        ctx,
      ),
    query: async (startNs: bigint, endNs: bigint, tags: Record<string, string> = {}, batchSize = 0) => {
      const batches: Point[][] = [];
      for await (const res of basic.query(
        create(QueryRequestSchema, {
          namespace,
          selector: { series: 'cpu', tags },
          startNs,
          endNs,
          batchSize,
        }),
        ctx,
      ))
        batches.push((res.points ?? []) as Point[]);
      return batches;
    },
    aggregate: (
      startNs: bigint,
      endNs: bigint,
      bucketNs: bigint,
      aggregator: Aggregator,
      groupBy: string[] = [],
    ) =>
      aggregation.aggregate(
        create(AggregateRequestSchema, {
          namespace,
          selector: { series: 'cpu' },
          startNs,
          endNs,
          bucketNs,
          aggregator,
          groupBy,
        }),
        ctx,
      ),
    setRetention: async (retentionMs: bigint) =>
      Number(
        (await retention.setRetention(create(SetRetentionRequestSchema, { namespace, retentionMs }), ctx))
          .droppedPartitions,
      ),
    getRetention: () => retention.getRetention(create(GetRetentionRequestSchema, { namespace }), ctx),
  };
}

/** The day partitions of a namespace, by name, as PostgreSQL lists them. */
const partitions = async (ns: string) =>
  (
    await db.direct<{ name: string }[]>`SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ${`prism.${namespacePartition(ns)}`}::regclass ORDER BY 1`
  ).map((r) => r.name);

const rows = (ns: string) =>
  db.direct<{ series: string; tag_key: string; tags: Record<string, string>; ts: string; value: number }[]>`
    SELECT series, tag_key, tags, ts::text AS ts, value FROM prism.ts_points WHERE namespace = ${ns} ORDER BY ts, tag_key`;

const nowNs = () => BigInt(Date.now()) * MS;
const dayStart = (ns: bigint) => (ns / DAY_NS) * DAY_NS;

describe('postgres adapter: time series in per-namespace daily partitions of prism.ts_points', () => {
  it('stores points as rows of the namespace partition, one row per identity (idempotent upserts)', async () => {
    const ns = uniqueNamespace('pgts');
    const ts = await open(ns);
    const t0 = 1_764_806_400_000_000_000n; // 2025-12-04T00:00:00Z
    await ts.write([
      { tags: { host: 'a' }, timestampNs: t0 + 5n, value: 1 },
      { tags: { host: 'a' }, timestampNs: t0 + 5n, value: 2 }, // same identity in one batch: the later wins
      { tags: { host: 'b', dc: 'x' }, timestampNs: t0 + 5n, value: 3 },
      { tags: { host: 'a' }, timestampNs: t0 - 1n, value: 4 }, // the day before
    ]);
    await ts.write([{ tags: { host: 'b', dc: 'x' }, timestampNs: t0 + 5n, value: 30 }]); // a retried write
    expect(await rows(ns)).toEqual([
      { series: 'cpu', tag_key: 'host=a', tags: { host: 'a' }, ts: String(t0 - 1n), value: 4 },
      {
        series: 'cpu',
        tag_key: tagKey({ dc: 'x', host: 'b' }),
        tags: { dc: 'x', host: 'b' },
        ts: String(t0 + 5n),
        value: 30,
      },
      { series: 'cpu', tag_key: 'host=a', tags: { host: 'a' }, ts: String(t0 + 5n), value: 2 },
    ]);
    const part = namespacePartition(ns);
    expect(await partitions(ns)).toEqual([`${part}_20251203`, `${part}_20251204`]);
    // The namespace partition is itself a LIST partition of ts_points, range-partitioned by ts.
    const [info] = await db.direct<{ parent: string; strategy: string; bound: string }[]>`
      SELECT p.relname AS parent, pt.partstrat AS strategy, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent
      JOIN pg_partitioned_table pt ON pt.partrelid = c.oid WHERE c.relname = ${part}`;
    expect(info).toEqual({ parent: 'ts_points', strategy: 'r', bound: `FOR VALUES IN ('${ns}')` });
    const [day] = await db.direct<{ bound: string }[]>`SELECT pg_get_expr(relpartbound, oid) AS bound
      FROM pg_class WHERE relname = ${`${part}_20251204`}`;
    expect(day!.bound).toBe(`FOR VALUES FROM ('${t0}') TO ('${t0 + DAY_NS}')`);
    // Query reads the rows back in (ts, tag set) order, a tag subset selecting.
    const all = (await ts.query(t0 - DAY_NS, t0 + DAY_NS)).flat();
    expect(all.map((p) => [p.timestampNs, p.tags, p.value])).toEqual([
      [t0 - 1n, { host: 'a' }, 4],
      [t0 + 5n, { dc: 'x', host: 'b' }, 30],
      [t0 + 5n, { host: 'a' }, 2],
    ]);
    expect((await ts.query(t0 - DAY_NS, t0 + DAY_NS, { dc: 'x' })).flat().map((p) => p.value)).toEqual([30]);
  });

  it('keeps a BRIN index on ts and prunes partitions for a time-range query', async () => {
    const ns = uniqueNamespace('pgprune');
    const ts = await open(ns);
    const t0 = 1_700_006_400_000_000_000n - (1_700_006_400_000_000_000n % DAY_NS);
    await ts.write([0n, 1n, 2n, 3n].map((d) => ({ timestampNs: t0 + d * DAY_NS + 10n, value: Number(d) })));
    const [brin] = await db.direct<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
      WHERE x.indrelid = 'prism.ts_points'::regclass AND am.amname = 'brin'`;
    expect(brin!.n).toBe(1);
    const plan = (
      await db.direct.unsafe(
        `EXPLAIN SELECT * FROM prism.ts_points WHERE namespace = '${ns}' AND series = 'cpu'
         AND ts >= ${t0 + DAY_NS} AND ts < ${t0 + 2n * DAY_NS}`,
      )
    )
      .map((r) => String(r['QUERY PLAN']))
      .join('\n');
    const part = namespacePartition(ns);
    const day = (d: bigint) =>
      new Date(Number((t0 + d * DAY_NS) / MS)).toISOString().slice(0, 10).replaceAll('-', '');
    expect(plan).toContain(`${part}_${day(1n)}`);
    for (const other of [0n, 2n, 3n]) expect(plan).not.toContain(`${part}_${day(other)}`);
    expect((await ts.query(t0 + DAY_NS, t0 + 2n * DAY_NS)).flat().map((p) => p.value)).toEqual([1]);
    // The adapter's statements are prepared with parameters: a generic plan prunes at executor start.
    const conn = await db.direct.reserve();
    try {
      await conn.unsafe('SET plan_cache_mode = force_generic_plan');
      await conn.unsafe(`PREPARE q(text, bigint, bigint) AS SELECT * FROM prism.ts_points
        WHERE namespace = $1 AND series = 'cpu' AND ts >= $2 AND ts < $3`);
      const generic = (
        await conn.unsafe(
          `EXPLAIN (ANALYZE, COSTS OFF) EXECUTE q('${ns}', ${t0 + DAY_NS}, ${t0 + 2n * DAY_NS})`,
        )
      )
        .map((r) => String(r['QUERY PLAN']))
        .join('\n');
      expect(generic).toMatch(/Subplans Removed: \d+/);
      for (const other of [0n, 2n, 3n]) expect(generic).not.toContain(`${part}_${day(other)}`);
    } finally {
      conn.release();
    }
  });

  it('creates the same new day partitions from several replicas at once', async () => {
    const ns = uniqueNamespace('pgrace');
    const replicas = await Promise.all([open(ns), open(ns), open(ns)]);
    const t0 = 1_600_000_000_000_000_000n;
    await Promise.all(
      replicas.map((r, i) =>
        r.write(
          [0n, 1n, 2n].map((d) => ({ tags: { r: String(i) }, timestampNs: t0 + d * DAY_NS, value: i })),
        ),
      ),
    );
    expect(await partitions(ns)).toHaveLength(3);
    expect(await rows(ns)).toHaveLength(9);
    // Another replica dropped a day this one still believes exists: the write recreates it and goes in.
    const [first] = await partitions(ns);
    await db.direct.unsafe(`DROP TABLE prism."${first}"`);
    await replicas[0]!.write([{ tags: { r: 'again' }, timestampNs: t0, value: 7 }]);
    expect(await partitions(ns)).toHaveLength(3);
    expect((await rows(ns)).filter((r) => r.value === 7)).toHaveLength(1);
  });

  it('pushes aggregation down with floor buckets for negative timestamps', async () => {
    const ns = uniqueNamespace('pgagg');
    const ts = await open(ns);
    await ts.write([
      { tags: { h: 'a' }, timestampNs: -15n, value: 1 },
      { tags: { h: 'b' }, timestampNs: -15n, value: 2 },
      { tags: { h: 'a' }, timestampNs: -1n, value: 3 },
      { tags: {}, timestampNs: 5n, value: 10 },
    ]);
    const res = await ts.aggregate(-20n, 20n, 10n, Aggregator.FIRST, ['h']);
    expect(
      res.groups!.map((g) => [g.group, g.buckets!.map((b) => [b.startNs, Number(b.count), b.value])]),
    ).toEqual([
      [{ h: '' }, [[0n, 1, 10]]],
      [
        { h: 'a' },
        [
          [-20n, 1, 1],
          [-10n, 1, 3],
        ],
      ],
      [{ h: 'b' }, [[-20n, 1, 2]]],
    ]);
    const last = await ts.aggregate(-20n, 20n, 10n, Aggregator.LAST);
    expect(last.groups![0]!.buckets!.map((b) => b.value)).toEqual([2, 3, 10]);
  });

  it('enforces retention by dropping whole day partitions and deleting older rows', async () => {
    const ns = uniqueNamespace('pgret');
    const other = uniqueNamespace('pgret-other');
    const ts = await open(ns);
    const keep = await open(other);
    const now = nowNs();
    const old = [10n, 9n].map((d) => ({ timestampNs: dayStart(now) - d * DAY_NS + 1000n, value: Number(d) }));
    const recent = { timestampNs: now - 3n * 3_600_000n * MS, value: 3 }; // 3 hours ago
    const fresh = { timestampNs: now - 60_000n * MS, value: 1 }; // a minute ago
    await ts.write([...old, recent, fresh]);
    await keep.write(old);
    const before = await partitions(ns);
    expect(before.length).toBeGreaterThanOrEqual(3);
    // Two hours: the two old days go as partitions, the row of three hours ago as a row.
    expect(await ts.setRetention(2n * 3_600_000n)).toBe(2);
    const after = await partitions(ns);
    expect(after).toHaveLength(before.length - 2);
    expect((await rows(ns)).map((r) => r.value)).toEqual([1]);
    // The other namespace's partitions of the same days are its own and stay.
    expect(await partitions(other)).toHaveLength(2);
    expect((await rows(other)).map((r) => r.value)).toEqual([10, 9]);
    const got = await ts.getRetention();
    expect(got.retentionMs).toBe(2n * 3_600_000n);
    expect(got.enforcement).toContain(namespacePartition(ns));
    // Stored in PostgreSQL, so a second replica reads the same period and applies it to writes.
    const replica = await open(ns);
    expect((await replica.getRetention()).retentionMs).toBe(2n * 3_600_000n);
    await expect(replica.write([recent])).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(replica.write([recent])).rejects.toThrow(/points\[0\]\.timestamp_ns/);
    // A row planted behind the adapter's back is hidden from reads until the sweep removes it.
    await db.direct`INSERT INTO prism.ts_points (namespace, series, tag_key, tags, ts, value)
      VALUES (${ns}, 'cpu', '', '{}', ${String(recent.timestampNs)}, 99)`;
    expect((await replica.query(0n, now + DAY_NS)).flat().map((p) => p.value)).toEqual([1]);
    expect(await ts.setRetention(0n)).toBe(0);
    expect((await replica.query(0n, now + DAY_NS)).flat().map((p) => p.value)).toEqual([99, 1]);
  });

  it('re-enforces retention in the background: rows planted behind its back are deleted', async () => {
    const ns = uniqueNamespace('pgsweep');
    const h = await db.open({ pool_size: 2, timeseries_retention_interval_ms: 1000 }, { namespace: ns });
    await h
      .get(TimeSeriesRetention)!
      .setRetention(create(SetRetentionRequestSchema, { namespace: ns, retentionMs: 60_000n }), ctx);
    const old = nowNs() - 120_000n * MS;
    await open(ns).then((ts) => ts.write([{ timestampNs: nowNs(), value: 1 }]));
    await db.direct`INSERT INTO prism.ts_points (namespace, series, tag_key, tags, ts, value)
      VALUES (${ns}, 'cpu', '', '{}', ${String(old)}, 2)`;
    expect(await rows(ns)).toHaveLength(2);
    const deadline = Date.now() + 5000;
    while ((await rows(ns)).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await rows(ns)).map((r) => r.value)).toEqual([1]);
  });

  it('stores tag values holding U+0000 and U+0001, which jsonb cannot hold verbatim', async () => {
    const ns = uniqueNamespace('pgnul');
    const ts = await open(ns);
    const tags = { k: 'a\u0000b\u0001c' };
    await ts.write([{ tags, timestampNs: 7n, value: 1 }]);
    const [row] = await rows(ns);
    expect(row!.tag_key).toBe(tagKey(tags));
    expect((await ts.query(0n, 10n, tags)).flat().map((p) => p.tags)).toEqual([tags]);
    const agg = await ts.aggregate(0n, 10n, 10n, Aggregator.COUNT, ['k']);
    expect(agg.groups!.map((g) => g.group)).toEqual([tags]);
  });
});
