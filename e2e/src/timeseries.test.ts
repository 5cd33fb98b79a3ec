// Time series through the proxy process over gRPC and Connect, on ClickHouse and PostgreSQL, with the effects
// read back from the backend itself: a SELECT with @clickhouse/client, the partitioned table's rows with
// postgres.js. Also the bad input the issue names: NaN values and a NaN timestamp over Connect's JSON.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient as createClickHouse } from '@clickhouse/client';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import { Aggregator, TimeSeriesAggregationInterface } from '@prism/timeseries-aggregation';
import { TimeSeriesBasicInterface } from '@prism/timeseries-basic';
import postgres from 'postgres';
import { codeOf } from './codes.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

const SECOND = 1_000_000_000n;
// A fixed hour in the past with a nanosecond part, so precision loss would show.
const BASE = 1_764_000_000n * SECOND + 123_456_789n;

describe('time series through the proxy, checked in ClickHouse and PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-ts-'));
  let pgUrl: string;
  let proxy: ProxyProcess;
  let sql: postgres.Sql;
  const clickhouse = createClickHouse({ url: testServerUrl('clickhouse') });
  const doors: Record<string, () => Transport> = {
    gRPC: () => createGrpcTransport({ baseUrl: proxy.url }),
    Connect: () => createConnectTransport({ baseUrl: proxy.url, httpVersion: '1.1' }),
  };

  beforeAll(async () => {
    pgUrl = await createDatabase(testServerUrl('postgres'));
    sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
    const config = join(dir, 'prism.yaml');
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: ts-ch, pattern: timeseries, needs: [timeseries_aggregation], backend: { type: clickhouse, config: { url: "${testServerUrl('clickhouse')}", table_prefix: e2e_ } } }
  - { name: ts-pg, pattern: timeseries, needs: [timeseries_aggregation], backend: { type: postgres, config: { url: "${pgUrl}" } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    await sql?.end();
    await clickhouse.close();
    if (pgUrl) await dropDatabase(pgUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  // 60 points a second apart for each of two hosts; host b's values are 10x host a's.
  const points = (series: string) =>
    ['a', 'b'].flatMap((host) =>
      Array.from({ length: 60 }, (_, i) => ({
        series,
        tags: { host, dc: 'eu' },
        timestampNs: BASE + BigInt(i) * SECOND,
        value: (host === 'a' ? 1 : 10) * i,
      })),
    );

  for (const [door, transport] of Object.entries(doors)) {
    for (const ns of ['ts-ch', 'ts-pg']) {
      it(`${ns} over ${door}: idempotent writes, an exact ns range and 10 s averages per host`, async () => {
        const t = transport();
        const ts = createClient(TimeSeriesBasicInterface, t);
        const agg = createClient(TimeSeriesAggregationInterface, t);
        const series = `cpu_${door}`;
        expect((await ts.write({ namespace: ns, points: points(series) })).written).toBe(120n);
        // The same identities again (a retry): still one point each.
        await ts.write({ namespace: ns, points: points(series).slice(0, 30) });

        const got = [];
        for await (const batch of ts.query({
          namespace: ns,
          selector: { series, tags: { host: 'a' } },
          startNs: BASE + 10n * SECOND,
          endNs: BASE + 20n * SECOND,
        }))
          got.push(...batch.points);
        expect(got.map((p) => [p.timestampNs, p.value])).toEqual(
          Array.from({ length: 10 }, (_, i) => [BASE + BigInt(10 + i) * SECOND, 10 + i]),
        );

        const res = await agg.aggregate({
          namespace: ns,
          selector: { series },
          startNs: BASE,
          endNs: BASE + 60n * SECOND,
          bucketNs: 10n * SECOND,
          aggregator: Aggregator.AVG,
          groupBy: ['host'],
        });
        expect(res.groups.map((g) => g.group.host)).toEqual(['a', 'b']);
        const a = res.groups[0]?.buckets ?? [];
        // Buckets are aligned to the epoch: BASE is 0.123456789 s past a 10 s boundary.
        const first = (BASE / (10n * SECOND)) * 10n * SECOND;
        expect(a[0]?.startNs).toBe(first);
        expect(a.reduce((n, b) => n + Number(b.count), 0)).toBe(60);
        expect(res.groups[1]?.buckets[1]?.value).toBeCloseTo((a[1]?.value ?? 0) * 10, 9);

        expect(
          await codeOf(
            ts.write({ namespace: ns, points: [{ series, timestampNs: BASE, value: Number.NaN }] }),
          ),
        ).toBe(Code.InvalidArgument);
      });
    }
  }

  it('ClickHouse holds one row per point identity (FINAL) in the namespace table', async () => {
    const tables = await (
      await clickhouse.query({
        query: "SELECT name FROM system.tables WHERE database = 'default' AND name LIKE 'e2e_points%'",
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    expect(tables).toHaveLength(1);
    const rows = await (
      await clickhouse.query({
        query: `SELECT series, count() AS n, min(ts) AS first FROM \`${tables[0]?.name}\` FINAL GROUP BY series ORDER BY series`,
        format: 'JSONEachRow',
      })
    ).json<{ series: string; n: string; first: string }>();
    expect(rows).toEqual([
      { series: 'cpu_Connect', n: '120', first: BASE.toString() },
      { series: 'cpu_gRPC', n: '120', first: BASE.toString() },
    ]);
  });

  it('PostgreSQL holds the points in a day partition of the namespace, one row per identity', async () => {
    const rows = await sql<{ series: string; n: string }[]>`
      SELECT series, count(*)::text AS n FROM prism.ts_points WHERE namespace = 'ts-pg' GROUP BY series ORDER BY series`;
    expect(rows).toEqual([
      { series: 'cpu_Connect', n: '120' },
      { series: 'cpu_gRPC', n: '120' },
    ]);
    const parts = await sql<{ part: string }[]>`
      SELECT c.relname AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname LIKE 'ts_points%' AND p.relname <> 'ts_points'`;
    expect(parts.length).toBeGreaterThanOrEqual(1);
  });

  it('a NaN timestamp over Connect JSON is INVALID_ARGUMENT, not INTERNAL', async () => {
    const res = await fetch(`${proxy.url}/prism.timeseries.v1.TimeSeriesBasicInterface/Write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'ts-pg', points: [{ series: 's', timestampNs: 'NaN', value: 1 }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('invalid_argument');
  });
});
