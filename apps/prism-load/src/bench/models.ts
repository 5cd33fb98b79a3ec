// TimeSeries and Graph rows: writing 100k points and a bucketed aggregate on ClickHouse and PostgreSQL
// (@clickhouse/client and postgres.js direct vs through Prism), and a 3-hop traversal of a 10k-vertex graph on
// Gremlin Server (the gremlin driver direct vs through Prism) and PostgreSQL (a recursive CTE with postgres.js
// vs through Prism). Both sides run in this process with the same closed-loop scheduler; the Prism side uses
// connect-node's gRPC client, as an application would.
import { createClient as createClickHouse } from '@clickhouse/client';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { GraphBasicInterface } from '@prism/graph-basic';
import { GraphTraversalInterface } from '@prism/graph-traversal';
import { Aggregator, TimeSeriesAggregationInterface } from '@prism/timeseries-aggregation';
import { TimeSeriesBasicInterface } from '@prism/timeseries-basic';
import gremlin from 'gremlin';
import postgres from 'postgres';
import { driveOp } from '../run.js';
import type { Op } from '../scheduler.js';
import type { BenchProcess } from './proxy-process.js';
import type { Scenario } from './results.js';
import { alternate, type Bench } from './scenarios.js';

const POINTS = 100_000;
const BATCH = 10_000;
const SECOND = 1_000_000_000n;
const HOSTS = 100;
// 100 hosts × 1,000 timestamps 86 s apart, from the start of yesterday (UTC): one day partition holds them.
const DAY0 = ((BigInt(Date.now()) * 1_000_000n) / (86_400n * SECOND) - 1n) * 86_400n * SECOND;
const STEP = 86n * SECOND;

const VERTICES = 10_000;
const OUT_DEGREE = 3;

/** Runs `fn` on `items` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** The i-th point of a 100k-point write: host i % 100, timestamp slot i / 100; `round` shifts the values. */
const point = (i: number, round: number) => ({
  host: `h${i % HOSTS}`,
  ts: DAY0 + BigInt(Math.floor(i / HOSTS)) * STEP,
  value: (i % 997) + round,
});

/** Namespaces and backends a time-series row drives. */
export interface TimeSeriesTargets {
  readonly clickhouseUrl: string;
  readonly postgresUrl: string;
}

/** 100k-point writes and a 1-hour-bucket avg grouped by host, direct vs through Prism, on ClickHouse and PostgreSQL. */
export async function timeSeries(b: Bench, proxy: BenchProcess, to: TimeSeriesTargets): Promise<Scenario[]> {
  const transport = createGrpcTransport({ baseUrl: proxy.url });
  const ts = createClient(TimeSeriesBasicInterface, transport);
  const agg = createClient(TimeSeriesAggregationInterface, transport);
  const ch = createClickHouse({ url: to.clickhouseUrl });
  const sql = postgres(to.postgresUrl, { max: 4, onnotice: () => {} });
  const loop = (r: Bench) => ({ concurrency: 1, durationS: Math.max(r.durationS, 3), warmupS: 0 });
  let round = 0;
  try {
    // The direct tables: what an application would create for the same data without Prism.
    await ch.command({
      query: `CREATE TABLE IF NOT EXISTS bench_direct_points (series String, host String, ts Int64, value Float64, version UInt64)
        ENGINE = ReplacingMergeTree(version) PARTITION BY intDiv(ts, 86400000000000) ORDER BY (series, host, ts)`,
    });
    await sql`CREATE TABLE IF NOT EXISTS bench_direct_points (series text, host text, ts bigint, value double precision,
      PRIMARY KEY (series, host, ts))`;
    const prismWrite =
      (namespace: string): Op =>
      async () => {
        const r = round++;
        for (let start = 0; start < POINTS; start += BATCH)
          await ts.write({
            namespace,
            points: Array.from({ length: BATCH }, (_, j) => {
              const p = point(start + j, r);
              return { series: 'cpu', tags: { host: p.host }, timestampNs: p.ts, value: p.value };
            }),
          });
        return undefined;
      };
    const chWrite: Op = async () => {
      const r = round++;
      for (let start = 0; start < POINTS; start += BATCH)
        await ch.insert({
          table: 'bench_direct_points',
          format: 'JSONEachRow',
          values: Array.from({ length: BATCH }, (_, j) => {
            const p = point(start + j, r);
            return { series: 'cpu', host: p.host, ts: p.ts.toString(), value: p.value, version: r };
          }),
        });
      return undefined;
    };
    const pgWrite: Op = async () => {
      const r = round++;
      for (let start = 0; start < POINTS; start += BATCH) {
        const rows = Array.from({ length: BATCH }, (_, j) => {
          const p = point(start + j, r);
          return { series: 'cpu', host: p.host, ts: p.ts.toString(), value: p.value };
        });
        await sql`INSERT INTO bench_direct_points ${sql(rows)}
          ON CONFLICT (series, host, ts) DO UPDATE SET value = excluded.value`;
      }
      return undefined;
    };
    const end = DAY0 + BigInt(POINTS / HOSTS) * STEP;
    const hour = 3600n * SECOND;
    const prismAgg = (namespace: string) => () =>
      agg
        .aggregate({
          namespace,
          selector: { series: 'cpu' },
          startNs: DAY0,
          endNs: end,
          bucketNs: hour,
          aggregator: Aggregator.AVG,
          groupBy: ['host'],
        })
        .then(() => undefined);
    const chAgg: Op = () =>
      ch
        .query({
          query: `SELECT host, intDiv(ts, ${hour}) * ${hour} AS bucket, avg(value) AS v, count() AS n
            FROM bench_direct_points FINAL WHERE series = 'cpu' AND ts >= ${DAY0} AND ts < ${end}
            GROUP BY host, bucket ORDER BY host, bucket`,
          format: 'JSONEachRow',
        })
        .then((res) => res.json())
        .then(() => undefined);
    const pgAgg: Op = () =>
      sql`SELECT host, floor(ts / ${hour.toString()}::numeric) AS bucket, avg(value), count(*)
        FROM bench_direct_points WHERE series = 'cpu' AND ts >= ${DAY0.toString()} AND ts < ${end.toString()}
        GROUP BY host, bucket ORDER BY host, bucket`.then(() => undefined);

    const rows: Scenario[] = [];
    for (const [backend, ns, direct, directName, write, aggregate] of [
      ['ClickHouse', 'bench-ts-ch', '@clickhouse/client', '@clickhouse/client', chWrite, chAgg],
      ['PostgreSQL', 'bench-ts-pg', 'postgres.js', 'postgres.js', pgWrite, pgAgg],
    ] as const) {
      const [dw, pw] = await alternate(
        b,
        (r) => driveOp(`${direct} insert 100k`, write, loop(r)),
        (r) => driveOp('Prism TimeSeries.Write 100k', prismWrite(ns), loop(r)),
      );
      rows.push({
        id: `ts-write-${backend === 'ClickHouse' ? 'ch' : 'pg'}`,
        title: `TimeSeries write of ${POINTS.toLocaleString('en-US')} points on ${backend}`,
        how: `One operation = ${POINTS.toLocaleString('en-US')} points (100 hosts × 1,000 timestamps in one day) sent as ${POINTS / BATCH} sequential batches of ${BATCH.toLocaleString('en-US')}; later rounds overwrite the same identities (idempotent writes). Direct: ${direct} inserting into an equivalent table (${backend === 'ClickHouse' ? 'ReplacingMergeTree' : 'primary key + ON CONFLICT DO UPDATE'}). Prism: connect-node gRPC TimeSeriesBasic.Write. Closed loop, concurrency 1; ops/s × 100,000 = points/s, p50 = time per 100k points.`,
        directName,
        direct: dw,
        proxyName: 'through Prism (gRPC)',
        proxy: pw,
      });
      const [da, pa] = await alternate(
        b,
        (r) => driveOp(`${direct} aggregate`, aggregate, { ...loop(r), concurrency: 4 }),
        (r) => driveOp('Prism TimeSeries.Aggregate', prismAgg(ns), { ...loop(r), concurrency: 4 }),
      );
      rows.push({
        id: `ts-agg-${backend === 'ClickHouse' ? 'ch' : 'pg'}`,
        title: `TimeSeries hourly avg by host over ${POINTS.toLocaleString('en-US')} points on ${backend}`,
        how: `AVG in 1-hour buckets grouped by the host tag (100 groups × 24 buckets) over the points the write row stored. Direct: ${direct} running the equivalent GROUP BY on its own table${backend === 'ClickHouse' ? ' (FINAL)' : ''}. Prism: TimeSeriesAggregation.Aggregate. Closed loop, concurrency 4.`,
        directName,
        direct: da,
        proxyName: 'through Prism (gRPC)',
        proxy: pa,
      });
    }
    return rows;
  } finally {
    await ch.close();
    await sql.end();
  }
}

/** Namespaces and backends the graph rows drive. */
export interface GraphTargets {
  readonly gremlinUrl: string;
  readonly postgresUrl: string;
}

/** 3-hop k-hop from a random vertex of a 10k-vertex, 30k-edge graph: Gremlin Server and PostgreSQL. */
export async function graphs(b: Bench, proxy: BenchProcess, to: GraphTargets): Promise<Scenario[]> {
  const transport = createGrpcTransport({ baseUrl: proxy.url });
  const graph = createClient(GraphBasicInterface, transport);
  const walk = createClient(GraphTraversalInterface, transport);
  const client = new gremlin.driver.Client(to.gremlinUrl, { traversalsource: 'g' });
  const sql = postgres(to.postgresUrl, { max: 4, onnotice: () => {} });
  const vid = (i: number) => `v${i}`;
  // A fixed pseudo-random graph (the same on both backends): vertex i links to OUT_DEGREE others.
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const edges = Array.from({ length: VERTICES * OUT_DEGREE }, (_, k) => ({
    id: `e${k}`,
    from: Math.floor(k / OUT_DEGREE),
    to: Math.floor(rand() * VERTICES),
  }));
  const randomStart = () => vid(Math.floor(Math.random() * VERTICES));
  const loop = (r: Bench) => ({ concurrency: 8, durationS: r.durationS, warmupS: r.warmupS });
  try {
    for (const ns of ['bench-graph-gremlin', 'bench-graph-pg']) {
      b.log(`  loading ${VERTICES} vertices and ${edges.length} edges into ${ns} through Prism`);
      await pool(
        Array.from({ length: VERTICES }, (_, i) => i),
        32,
        (i) => graph.addVertex({ namespace: ns, vertex: { id: vid(i), label: 'node', properties: { i } } }),
      );
      await pool(edges, 32, (e) =>
        graph.addEdge({
          namespace: ns,
          edge: { id: e.id, label: 'link', fromId: vid(e.from), toId: vid(e.to), properties: {} },
        }),
      );
    }
    // Gremlin direct: the single traversal an application would send for the same answer (distinct vertices
    // within 3 out-steps, without the start, with their properties).
    const gremlinDirect: Op = () =>
      client
        .submit(
          "g.V(s).as('start').repeat(out('link').dedup()).emit().times(3).dedup().where(neq('start')).limit(1000).elementMap()",
          { s: `bench-graph-gremlin/${randomStart()}` },
        )
        .then(() => undefined);
    // PostgreSQL direct: a breadth-first recursive CTE keeping one row per vertex and level (DISTINCT ON) and
    // never revisiting a vertex on its own path, as an expert would write it (and as the adapter does).
    const pgDirect: Op = () =>
      sql`WITH RECURSIVE walk(id, depth, path) AS (
            SELECT v.id, 0, ARRAY[v.id] FROM prism.graph_vertices v
            WHERE v.namespace = 'bench-graph-pg' AND v.id = ${randomStart()}
            UNION ALL
            SELECT DISTINCT ON (e.to_id) e.to_id, w.depth + 1, w.path || e.to_id
            FROM walk w JOIN prism.graph_edges e
              ON e.namespace = 'bench-graph-pg' AND e.from_id = w.id AND e.label = 'link'
            WHERE w.depth < 3 AND NOT e.to_id = ANY(w.path))
          SELECT v.id, v.label, v.properties, m.depth
          FROM (SELECT id, min(depth) AS depth FROM walk WHERE depth > 0 GROUP BY id) m
          JOIN prism.graph_vertices v ON v.namespace = 'bench-graph-pg' AND v.id = m.id
          ORDER BY m.depth, v.id LIMIT 1001`.then(() => undefined);
    const prismHop = (namespace: string) => () =>
      walk
        .kHop({ namespace, startId: randomStart(), depth: 3, edges: { labels: ['link'] } })
        .then(() => undefined);
    const rows: Scenario[] = [];
    for (const [backend, ns, directName, direct, how] of [
      [
        'Gremlin Server',
        'bench-graph-gremlin',
        'gremlin driver',
        gremlinDirect,
        "the gremlin driver submitting `g.V(s).as('start').repeat(out('link').dedup()).emit().times(3).dedup().where(neq('start'))…elementMap()` with a binding",
      ],
      [
        'PostgreSQL',
        'bench-graph-pg',
        'postgres.js',
        pgDirect,
        "postgres.js running the same breadth-first recursive CTE (DISTINCT ON per level, path check) over the adapter's graph_edges/graph_vertices tables",
      ],
    ] as const) {
      const [d, p] = await alternate(
        b,
        (r) => driveOp(`${directName} 3-hop`, direct, loop(r)),
        (r) => driveOp('Prism GraphTraversal.KHop', prismHop(ns), loop(r)),
      );
      rows.push({
        id: `graph-3hop-${backend === 'PostgreSQL' ? 'pg' : 'gremlin'}`,
        title: `Graph 3-hop traversal on ${backend} (${VERTICES.toLocaleString('en-US')} vertices)`,
        how: `${VERTICES.toLocaleString('en-US')} vertices, ${edges.length.toLocaleString('en-US')} 'link' edges (out-degree ${OUT_DEGREE}, fixed pseudo-random targets), loaded through Prism. From a random start: every vertex within 3 out-steps, once each, with its properties. Direct: ${how}. Prism: connect-node gRPC GraphTraversal.KHop (depth 3). Closed loop, concurrency 8.`,
        directName,
        direct: d,
        proxyName: 'through Prism (gRPC)',
        proxy: p,
      });
    }
    return rows;
  } finally {
    await client.close();
    await sql.end();
  }
}
