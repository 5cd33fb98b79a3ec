import { create } from '@bufbuild/protobuf';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { type ClickHouseTestServer, startClickHouse, testServerUrl } from '@prism/testing';
import {
  AggregateRequestSchema,
  Aggregator,
  aggregatePoints,
  TimeSeriesAggregation,
} from '@prism/timeseries-aggregation';
import { QueryRequestSchema, SeriesSelectorSchema, TimeSeriesBasic, tagKey } from '@prism/timeseries-basic';
import { pt, type TestPoint, timeSeriesBasic } from '@prism/timeseries-basic/conformance';
import { TimeSeriesRetention } from '@prism/timeseries-retention';
import { timeSeriesRetention } from '@prism/timeseries-retention/conformance';
import { namespaceTables } from './client.js';
import plugin from './index.js';

// Effects checked in ClickHouse itself with a separate @clickhouse/client, the aggregation push-down against
// the shared reference, and outages of a server of this file's own.

const ctx = { signal: new AbortController().signal };
const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const MS = 1_000_000n;
const HOUR = 3_600_000n * MS;

const serverUrl = testServerUrl('clickhouse');
const url = new URL(serverUrl);
const direct = createClient({
  url: `${url.protocol}//${url.host}`,
  username: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
});

async function select<T>(query: string): Promise<T[]> {
  const rs = await direct.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

async function errorOf(fn: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

let seq = 0;
const uniqueNs = (name: string) => `ch-${name}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

const handles: PluginHandle[] = [];
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await direct.close();
});

async function open(namespace: string, extra: Record<string, unknown> = {}) {
  const handle = await instantiatePlugin(plugin, { url: serverUrl, ...extra }, { namespace });
  handles.push(handle);
  const tables = namespaceTables({ database: 'default', table_prefix: 'prism_ts_' }, namespace);
  return {
    handle,
    table: `default.${tables.points}`,
    tables,
    basic: timeSeriesBasic(handle.get(TimeSeriesBasic)!, namespace),
    retention: timeSeriesRetention(handle.get(TimeSeriesRetention)!, namespace),
  };
}

type StoredRow = {
  series: string;
  tag_key: string;
  ts: string;
  tag_names: string[];
  tag_values: string[];
  value: number;
  version: string;
};

describe('clickhouse adapter: what is stored', () => {
  it('keeps one row per write and one point per identity after FINAL, the later write winning', async () => {
    const ns = uniqueNs('identity');
    const { basic, table } = await open(ns);
    // No background merge may fold the rows before they are counted.
    await direct.command({ query: `SYSTEM STOP MERGES ${table}` });
    await basic.write(pt('cpu', { host: 'a', dc: 'x' }, 10, 1.5));
    await basic.write(pt('cpu', { dc: 'x', host: 'a' }, 10, 2.5));
    await basic.write(pt('cpu', { host: 'a', dc: 'x' }, 20, 3), pt('cpu', { host: 'a', dc: 'x' }, 20, 4));
    const raw = await select<StoredRow>(
      `SELECT series, tag_key, toString(ts) AS ts, tag_names, tag_values, value, toString(version) AS version FROM ${table} ORDER BY ts, version`,
    );
    expect(raw).toHaveLength(4);
    expect(raw[0]).toMatchObject({
      series: 'cpu',
      tag_key: tagKey({ host: 'a', dc: 'x' }),
      ts: '10',
      tag_names: ['dc', 'host'],
      tag_values: ['x', 'a'],
      value: 1.5,
    });
    // Versions grow with every point written, within a batch too.
    const versions = raw.map((r) => BigInt(r.version));
    expect([...versions].sort((a, b) => (a < b ? -1 : 1))).toEqual(versions);
    expect(new Set(versions).size).toBe(4);
    const final = await select<{ ts: string; value: number }>(
      `SELECT toString(ts) AS ts, value FROM ${table} FINAL ORDER BY ts`,
    );
    expect(final).toEqual([
      { ts: '10', value: 2.5 },
      { ts: '20', value: 4 },
    ]);
    expect((await basic.query('cpu', MIN, MAX)).map((p) => p.value)).toEqual([2.5, 4]);
    // After a merge the table itself holds one row per identity.
    await direct.command({ query: `SYSTEM START MERGES ${table}` });
    await direct.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
    expect(await select(`SELECT toString(ts) AS ts, value FROM ${table} ORDER BY ts`)).toEqual(final);
  });

  it('stores hostile series names, tag names and values verbatim, and runs nothing they contain', async () => {
    const ns = uniqueNs('hostile');
    const { basic, table } = await open(ns);
    const series = `x'); DROP TABLE ${table}; --`;
    const tags = {
      "k'ey": "v'; SELECT 1; --",
      'back\\slash': '\\',
      quote: "'",
      ctl: '\u0000\u0001\n\r\t\u001f\u007f',
      'uni ☃': '日本 \u{1f600} \uffff',
      '{x:String}': '`b`',
    };
    const points: TestPoint[] = [pt(series, tags, -5, 1), pt(series, { quote: "'" }, 7, 2)];
    expect(await basic.write(...points)).toBe(2);
    expect(await basic.query(series, MIN, MAX)).toEqual(points);
    expect(await basic.query(series, MIN, MAX, { tags: { 'back\\slash': '\\' } })).toEqual([points[0]]);
    expect(await basic.query(series, MIN, MAX, { tags: { quote: "' OR 1 = 1 --" } })).toEqual([]);
    const rows = await select<StoredRow>(
      `SELECT series, tag_names, tag_values FROM ${table} FINAL ORDER BY ts`,
    );
    expect(rows[0]!.series).toBe(series);
    expect(Object.fromEntries(rows[0]!.tag_names.map((n, i) => [n, rows[0]!.tag_values[i]]))).toEqual(tags);
    // The table is still there, with exactly these rows.
    expect(await select(`SELECT count() AS n FROM ${table}`)).toEqual([{ n: '2' }]);
  });

  it('gives each namespace its own tables, also for namespaces that slug alike', async () => {
    const a = await open(`${uniqueNs('slug')}.a`);
    const b = await open(a.handle.namespace.replace(/\.a$/, '-a'));
    expect(a.tables.points).not.toBe(b.tables.points);
    await a.basic.write(pt('s', {}, 1, 1));
    await b.basic.write(pt('s', {}, 1, 2));
    const names = await select<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = 'default' AND name IN ('${a.tables.points}', '${b.tables.points}', '${a.tables.meta}', '${b.tables.meta}') ORDER BY name`,
    );
    expect(names).toHaveLength(4);
    expect(await select(`SELECT value FROM ${a.table} FINAL`)).toEqual([{ value: 1 }]);
    expect(await select(`SELECT value FROM ${b.table} FINAL`)).toEqual([{ value: 2 }]);
    expect((await a.basic.query('s', MIN, MAX)).map((p) => p.value)).toEqual([1]);
  });
});

describe('clickhouse adapter: retention drops partitions', () => {
  const partitions = async (table: string) =>
    (
      await select<{ partition: string }>(
        `SELECT DISTINCT partition FROM system.parts WHERE database = 'default' AND table = '${table}' AND active ORDER BY partition`,
      )
    ).map((r) => BigInt(r.partition));

  it('SetRetention drops the hourly partitions older than the period and deletes the older rows of the one it cuts', async () => {
    const ns = uniqueNs('retention');
    const { basic, retention, tables, table } = await open(ns, { partition: 'hour' });
    const now = BigInt(Date.now()) * MS;
    const ages = [5n * HOUR, 3n * HOUR, 90n * 60_000n * MS, 30n * 60_000n * MS, 60_000n * MS];
    await basic.write(...ages.map((age, i) => pt('r', { i: String(i) }, now - age, i)));
    const hourOf = (ts: bigint) => (ts - (((ts % HOUR) + HOUR) % HOUR)) / HOUR;
    const expected = [...new Set(ages.map((age) => hourOf(now - age)))].sort((x, y) => (x < y ? -1 : 1));
    expect(await partitions(tables.points)).toEqual(expected);

    const dropped = await retention.set(3_600_000);
    const cutoff = now - HOUR;
    // Partitions ending at or before the cutoff are gone: the 5 h and 3 h ones at least.
    const gone = expected.filter((p) => (p + 1n) * HOUR <= cutoff - 10_000n * MS);
    expect(gone.length).toBeGreaterThanOrEqual(2);
    expect(dropped).toBeGreaterThanOrEqual(gone.length);
    const left = await partitions(tables.points);
    for (const p of gone) expect(left).not.toContain(p);
    // Only the rows within the hour are left: the 90-minute-old one went with its partition or, when the
    // cutoff cut that partition, by the DELETE.
    expect(
      await select(`SELECT toString(i) AS i FROM (SELECT tag_values[1] AS i FROM ${table} FINAL) ORDER BY i`),
    ).toEqual([{ i: '3' }, { i: '4' }]);
    expect((await retention.get()).enforcement).toMatch(/hour partitions of default\.prism_ts_points_/);
    // The width is the table's: another config does not change an existing namespace.
    const again = await open(ns, { partition: 'day' });
    expect((await again.retention.get()).enforcement).toMatch(/^hour partitions .*\/ 3600000000000\)/);
  });

  it('the background loop drops partitions that aged out, also of rows that reached the table otherwise', async () => {
    const ns = uniqueNs('loop');
    const { retention, tables, table, basic } = await open(ns, {
      partition: 'hour',
      retention_check_interval_ms: 1000,
    });
    await retention.set(3_600_000);
    await basic.write(pt('l', {}, BigInt(Date.now()) * MS, 1));
    // A row 3 h old, as a write racing with SetRetention could have left it (Write itself rejects it).
    const old = (BigInt(Date.now()) * MS - 3n * HOUR).toString();
    await direct.insert({
      table,
      values: [
        {
          series: 'l',
          tag_key: '',
          ts: old,
          tag_names: [],
          tag_values: [],
          value_hex: '000000000000f03f',
          version: '1',
        },
      ],
      format: 'JSONEachRow',
    });
    const oldPartition = BigInt(old) / HOUR;
    expect(await partitions(tables.points)).toContain(oldPartition);
    // Hidden from reads at once, dropped by the loop within a few intervals.
    expect((await basic.query('l', MIN, MAX)).map((p) => p.value)).toEqual([1]);
    const deadline = Date.now() + 10_000;
    while ((await partitions(tables.points)).includes(oldPartition) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await partitions(tables.points)).not.toContain(oldPartition);
  });
});

type GroupLike = {
  group?: { [name: string]: string };
  buckets?: { startNs?: bigint; count?: bigint; value?: number }[];
};
/** Groups as plain data (the reference answers messages, the binding plain objects). */
const plainGroups = (groups: readonly GroupLike[] | undefined) =>
  (groups ?? []).map((g) => ({
    group: { ...(g.group ?? {}) },
    buckets: (g.buckets ?? []).map((b) => [b.startNs, b.count, b.value]),
  }));

describe('clickhouse adapter: aggregation in SQL answers exactly the reference', () => {
  it('matches aggregatePoints for every aggregator, with and without group_by, on random points', async () => {
    const ns = uniqueNs('agg');
    const { handle, basic } = await open(ns);
    const agg = handle.get(TimeSeriesAggregation)!;
    // Deterministic pseudo-random data: values that make float sums order-sensitive, -0 and 0, ties.
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const hosts = ['a', 'b', 'c', 'é', ''];
    const values = [0.1, 0.2, 0.3, -0, 0, 1e16, -1e16, 1 / 3, 7, -2.5];
    const points: TestPoint[] = [];
    for (let i = 0; i < 600; i++) {
      const tags: Record<string, string> = {};
      const h = hosts[Math.floor(rnd() * hosts.length)]!;
      if (h) tags.host = h;
      if (rnd() < 0.5) tags.dc = rnd() < 0.5 ? 'x' : 'y';
      const ts = BigInt(Math.floor(rnd() * 2000) - 1000);
      const value = rnd() < 0.6 ? values[Math.floor(rnd() * values.length)]! : (rnd() - 0.5) * 1000;
      points.push(pt('m', tags, ts, value));
    }
    await basic.write(...points);
    const stored = await basic.query('m', MIN, MAX);
    const aggregators = [
      Aggregator.AVG,
      Aggregator.SUM,
      Aggregator.MIN,
      Aggregator.MAX,
      Aggregator.COUNT,
      Aggregator.PERCENTILE,
      Aggregator.FIRST,
      Aggregator.LAST,
    ];
    const inRange = (p: TestPoint, s: bigint, e: bigint) => p.timestampNs >= s && p.timestampNs < e;
    for (const aggregator of aggregators)
      for (const groupBy of [[], ['host'], ['dc', 'host']])
        for (const percentile of aggregator === Aggregator.PERCENTILE ? [0, 33.3, 50, 90, 99.9, 100] : [0])
          for (const [startNs, endNs, bucketNs, tags] of [
            [-1000n, 1000n, 7n, {}],
            [-333n, 555n, 100n, { dc: 'x' }],
          ] as const) {
            const req = create(AggregateRequestSchema, {
              namespace: ns,
              selector: create(SeriesSelectorSchema, { series: 'm', tags }),
              startNs,
              endNs,
              bucketNs,
              aggregator,
              percentile,
              groupBy,
            });
            const got = await agg.aggregate(req, ctx);
            const want = aggregatePoints(
              stored.filter(
                (p) => inRange(p, startNs, endNs) && Object.entries(tags).every(([k, v]) => p.tags[k] === v),
              ),
              req,
            );
            const label = `${Aggregator[aggregator]} p=${percentile} group_by=${groupBy} bucket=${bucketNs}`;
            expect({ label, groups: plainGroups(got.groups) }).toEqual({
              label,
              groups: plainGroups(want.groups),
            });
          }
  }, 120_000);

  it('answers ±Infinity where a sum overflows, as the reference does (JSON would have said null)', async () => {
    const ns = uniqueNs('overflow');
    const { handle, basic } = await open(ns);
    const agg = handle.get(TimeSeriesAggregation)!;
    const big = Number.MAX_VALUE;
    await basic.write(
      pt('o', { s: '+' }, 1, big),
      pt('o', { s: '+' }, 2, big),
      pt('o', { s: '-' }, 1, -big),
      pt('o', { s: '-' }, 2, -big),
    );
    for (const aggregator of [Aggregator.SUM, Aggregator.AVG]) {
      const req = create(AggregateRequestSchema, {
        namespace: ns,
        selector: create(SeriesSelectorSchema, { series: 'o' }),
        startNs: 0n,
        endNs: 10n,
        bucketNs: 10n,
        aggregator,
        groupBy: ['s'],
      });
      const got = plainGroups((await agg.aggregate(req, ctx)).groups);
      expect(got).toEqual(plainGroups(aggregatePoints(await basic.query('o', MIN, MAX), req).groups));
      expect(got.map((g) => g.buckets[0]![2])).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    }
  });
});

// These tests stop, freeze and restart a clickhouse-server of their own, never the run-wide one.
describe('clickhouse adapter: outages', () => {
  let server: ClickHouseTestServer;
  beforeAll(async () => {
    server = await startClickHouse();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('answers UNAVAILABLE while the server is down and recovers by itself when it is back', async () => {
    const ns = uniqueNs('outage');
    const handle = await instantiatePlugin(
      plugin,
      { url: server.url, request_timeout_ms: 3000 },
      { namespace: ns },
    );
    handles.push(handle);
    const basic = timeSeriesBasic(handle.get(TimeSeriesBasic)!, ns);
    await basic.write(pt('o', {}, 1, 1));
    await server.stop();
    const writeErr = await errorOf(() => basic.write(pt('o', {}, 2, 2)));
    expect(writeErr.code).toBe(Code.Unavailable);
    expect(writeErr.rawMessage).toMatch(/clickhouse backend .* of namespace "ch-outage/);
    expect(writeErr.rawMessage).not.toContain(server.password);
    expect((await errorOf(() => basic.query('o', MIN, MAX))).code).toBe(Code.Unavailable);
    expect((await handle.health()).status).toBe('unhealthy');
    await server.restart();
    expect(await basic.write(pt('o', {}, 3, 3))).toBe(1);
    expect((await basic.query('o', MIN, MAX)).map((p) => p.value)).toEqual([1, 3]);
    expect((await handle.health()).status).toBe('healthy');
  }, 60_000);

  it('answers UNAVAILABLE when a hung server does not answer within request_timeout_ms', async () => {
    const ns = uniqueNs('hung');
    const handle = await instantiatePlugin(
      plugin,
      { url: server.url, request_timeout_ms: 1000 },
      { namespace: ns },
    );
    handles.push(handle);
    const basic = timeSeriesBasic(handle.get(TimeSeriesBasic)!, ns);
    await basic.write(pt('h', {}, 1, 1));
    await server.freeze();
    try {
      const started = Date.now();
      const err = await errorOf(() => basic.query('h', MIN, MAX));
      expect(err.code).toBe(Code.Unavailable);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await server.thaw();
    }
    expect((await basic.query('h', MIN, MAX)).map((p) => p.value)).toEqual([1]);
  }, 60_000);

  it('answers CANCELED for a call canceled while the server hangs, not UNAVAILABLE', async () => {
    const ns = uniqueNs('cancel');
    const handle = await instantiatePlugin(
      plugin,
      { url: server.url, request_timeout_ms: 20_000 },
      { namespace: ns },
    );
    handles.push(handle);
    const impl = handle.get(TimeSeriesBasic)!;
    await server.freeze();
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const err = await errorOf(async () => {
        const stream = impl.query(
          create(QueryRequestSchema, {
            namespace: ns,
            selector: create(SeriesSelectorSchema, { series: 'c' }),
            startNs: MIN,
            endNs: MAX,
          }),
          { signal: ac.signal },
        );
        for await (const _ of stream) {
          // drain
        }
      });
      expect(err.code).toBe(Code.Canceled);
    } finally {
      await server.thaw();
    }
  }, 60_000);

  it('fails to start with UNAVAILABLE when the server is down, and UNAUTHENTICATED with a wrong password', async () => {
    const wrong = new URL(server.url);
    wrong.password = 'wrong';
    const authErr = await errorOf(() =>
      instantiatePlugin(
        plugin,
        { url: wrong.toString().replace(/\/$/, '') },
        { namespace: uniqueNs('auth') },
      ),
    );
    expect(authErr.code).toBe(Code.Unauthenticated);
    expect(authErr.rawMessage).not.toContain('wrong');
    await server.stop();
    try {
      const err = await errorOf(() =>
        instantiatePlugin(plugin, { url: server.url }, { namespace: uniqueNs('down') }),
      );
      expect(err.code).toBe(Code.Unavailable);
    } finally {
      await server.restart();
    }
  }, 60_000);
});
