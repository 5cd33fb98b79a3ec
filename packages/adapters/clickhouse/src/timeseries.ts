import { type Binding, type CallContext, implement } from '@prism/sdk';
import {
  Aggregator,
  assembleGroups,
  TimeSeriesAggregation,
  type TimeSeriesAggregationImpl,
} from '@prism/timeseries-aggregation';
import {
  checkWriteRetention,
  effectiveBatchSize,
  type PointLike,
  retentionCutoffNs,
  type SeriesSelector,
  sortedTagNames,
  type Tags,
  TimeSeriesBasic,
  type TimeSeriesBasicImpl,
  tagKey,
} from '@prism/timeseries-basic';
import {
  interpolateBatches,
  type TimedValue,
  TimeSeriesInterpolation,
  type TimeSeriesInterpolationImpl,
} from '@prism/timeseries-interpolation';
import { TimeSeriesRetention, type TimeSeriesRetentionImpl } from '@prism/timeseries-retention';
import type { ChClient } from './client.js';
import { PARTITION_NS } from './config.js';
import { count, float64, float64Hex, ident, int64, join, type Sql, sql, str } from './sql.js';

/** The timeseries interfaces this adapter implements. */
export const TIMESERIES_INTERFACES = [
  TimeSeriesBasic,
  TimeSeriesAggregation,
  TimeSeriesRetention,
  TimeSeriesInterpolation,
];

// Versions of writes: ReplacingMergeTree keeps the row with the largest one per (series, tag_key, ts), so
// they must grow with every point written (a later point of the same batch wins too). Wall-clock
// nanoseconds keep "later wins" across proxy replicas; the counter keeps them strictly increasing here.
let lastVersion = 0n;
function nextVersion(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastVersion = now > lastVersion ? now : lastVersion + 1n;
  return lastVersion;
}

/** The floor of ts / width as SQL (intDiv truncates toward zero; floor is needed for negative times). */
const floorDivSql = (col: Sql, width: Sql) =>
  sql`(intDiv(${col}, ${width}) - (modulo(${col}, ${width}) < 0))`;

const TS = sql`ts`;
const NEG_ZERO = float64(-0);

/** Matches the partition width out of the points table's DDL (`intDiv(ts, toInt64(<ns>))`). */
const PARTITION_WIDTH = /part Int64 MATERIALIZED \(?intDiv\(ts, toInt64\((\d+)\)\)/;

/** The DDL of a namespace's tables; `width` is the partition width in ns. */
export function schemaStatements(client: ChClient, width: bigint): Sql[] {
  const w = int64(width);
  return [
    sql`CREATE DATABASE IF NOT EXISTS ${ident(client.tables.database)}`,
    // value_hex carries the double's bits (18.16 parses decimal floats inexactly); value is derived from it.
    // part is floor(ts / width), so every write of one identity lands in one partition and FINAL merges it.
    sql`CREATE TABLE IF NOT EXISTS ${client.pointsTable} (
      series String,
      tag_key String,
      ts Int64,
      tag_names Array(String),
      tag_values Array(String),
      value_hex String,
      value Float64 MATERIALIZED reinterpretAsFloat64(unhex(value_hex)),
      version UInt64,
      part Int64 MATERIALIZED ${floorDivSql(TS, w)}
    ) ENGINE = ReplacingMergeTree(version)
    PARTITION BY part
    ORDER BY (series, tag_key, ts)`,
    sql`CREATE TABLE IF NOT EXISTS ${client.metaTable} (
      id UInt8,
      retention_ms UInt64,
      version UInt64
    ) ENGINE = ReplacingMergeTree(version)
    ORDER BY id`,
  ];
}

/** The WHERE conditions selecting a series and a subset of tags. */
function selectorWhere(selector: SeriesSelector): Sql {
  const conds: Sql[] = [sql`series = ${str(selector.series)}`];
  for (const name of sortedTagNames(selector.tags)) {
    const n = str(name);
    conds.push(
      sql`indexOf(tag_names, ${n}) > 0 AND tag_values[indexOf(tag_names, ${n})] = ${str(selector.tags[name]!)}`,
    );
  }
  return join(conds, ' AND ');
}

/** The time range condition [start, end) narrowed by the retention cutoff. */
function rangeWhere(startNs: bigint, endNs: bigint, cutoffNs: bigint | undefined): Sql {
  const from = cutoffNs !== undefined && cutoffNs > startNs ? cutoffNs : startNs;
  return sql`ts >= ${int64(from)} AND ts < ${int64(endNs)}`;
}

/**
 * A Float64 as ClickHouse's toString writes it (exact, shortest round trip). Text, because JSON output turns
 * ±inf into null, and a SUM or AVG may overflow to ±Infinity as the reference's does.
 */
export function parseFloat64Text(text: string): number {
  if (text === 'inf' || text === '+inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  if (/^[-+]?nan$/.test(text)) return Number.NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`ClickHouse answered ${JSON.stringify(text)} for a Float64`);
  return v;
}

/** A tag set from the stored parallel arrays. */
function tagsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) tags[names[i]!] = values[i] ?? '';
  return tags;
}

/** The SQL reducing one bucket's rows, exactly as the reference `aggregatePoints` reduces its points. */
function reducerSql(aggregator: Aggregator, percentile: number): Sql {
  // Sums run over the values in Query order (timestamp, then tag set), left to right as the reference adds.
  const ordered = sql`arrayMap(x -> tupleElement(x, 3), arraySort(groupArray((ts, tag_key, value))))`;
  switch (aggregator) {
    case Aggregator.AVG:
      return sql`arraySum(${ordered}) / count()`;
    case Aggregator.SUM:
      return sql`arraySum(${ordered})`;
    // Math.min/max tell -0 from 0 (min of both is -0, max is 0); ClickHouse's min/max keep either.
    case Aggregator.MIN:
      return sql`if(min(value) = 0 AND countIf(value = 0 AND 1 / value < 0) > 0, ${NEG_ZERO}, min(value))`;
    case Aggregator.MAX:
      return sql`if(max(value) = 0 AND countIf(value = 0 AND 1 / value > 0) > 0, toFloat64(0), max(value))`;
    case Aggregator.COUNT:
      return sql`toFloat64(count())`;
    case Aggregator.PERCENTILE: {
      // Nearest rank, ceil(p / 100 * n) clamped to 1..n (percentileIndex), over the values sorted stably in
      // Query order (ties of equal values, -0 and 0 among them, stay in that order as JS's stable sort keeps them).
      const rank = sql`toUInt64(least(greatest(ceil((${float64(percentile)} / 100) * count()), 1), toFloat64(count())))`;
      return sql`tupleElement(arraySort(groupArray((value, ts, tag_key)))[${rank}], 1)`;
    }
    case Aggregator.FIRST:
      return sql`argMin(value, (ts, tag_key))`;
    case Aggregator.LAST:
      return sql`argMax(value, (ts, tag_key))`;
    default:
      throw new RangeError(`aggregator ${aggregator} is unknown`);
  }
}

type PointRow = { tag_names: string[]; tag_values: string[]; ts_text: string; value: number };
type TimedRow = { ts_text: string; value: number };

/** The timeseries part of the adapter: bindings, start-up and the retention loop. */
export function timeSeries(
  client: ChClient,
  opts: {
    readonly retentionCheckIntervalMs: number;
    readonly partitionNs: bigint;
    readonly mutationTimeoutMs: number;
  },
): { bindings: Binding[]; start(): Promise<void>; close(): void; enforceRetention(): Promise<number> } {
  const points = client.pointsTable;
  const meta = client.metaTable;
  let width = opts.partitionNs;
  let ready: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** Creates the tables once (again after a failure, e.g. while the server was down). */
  const ensureSchema = (): Promise<void> => {
    ready ??= (async () => {
      for (const statement of schemaStatements(client, opts.partitionNs)) await client.command(statement);
      // An existing table keeps the width it was created with.
      const [row] = await client.rows<{ create_table_query: string }>(
        sql`SELECT create_table_query FROM system.tables WHERE database = ${str(client.tables.database)} AND name = ${str(client.tables.points)}`,
      );
      const m = row ? PARTITION_WIDTH.exec(row.create_table_query) : null;
      if (m?.[1]) width = BigInt(m[1]);
    })().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };

  const retentionMs = async (ctx?: CallContext): Promise<bigint> => {
    const [row] = await client.rows<{ retention_ms: string }>(
      sql`SELECT toString(argMax(retention_ms, version)) AS retention_ms FROM ${meta}`,
      ctx,
    );
    return BigInt(row?.retention_ms ?? '0');
  };

  const cutoff = async (ctx?: CallContext) => {
    await ensureSchema();
    return retentionCutoffNs(await retentionMs(ctx));
  };

  /** Drops every partition wholly older than `cut`; returns how many it dropped. */
  const dropPartitions = async (cut: bigint, ctx?: CallContext): Promise<number> => {
    const parts = await client.rows<{ partition: string }>(
      sql`SELECT DISTINCT partition FROM system.parts
        WHERE database = ${str(client.tables.database)} AND table = ${str(client.tables.points)} AND active`,
      ctx,
    );
    let dropped = 0;
    for (const { partition } of parts) {
      if (!/^-?\d+$/.test(partition)) continue;
      const p = BigInt(partition);
      // Partition p holds [p * width, (p + 1) * width): gone once its end is at or before the cutoff.
      if ((p + 1n) * width > cut) continue;
      await client.command(sql`ALTER TABLE ${points} DROP PARTITION ${int64(p)}`, ctx);
      dropped++;
    }
    return dropped;
  };

  /**
   * Deletes the rows older than `cut` in the partitions that straddle it (ALTER TABLE ... DELETE, a mutation,
   * which 18.16 runs asynchronously) and waits until the mutation is done, so they cannot come back when the
   * period grows later.
   */
  const deleteOlder = async (cut: bigint, ctx?: CallContext): Promise<void> => {
    const [row] = await client.rows<{ n: string }>(
      sql`SELECT toString(count()) AS n FROM ${points} WHERE ts < ${int64(cut)}`,
      ctx,
    );
    if (!row || row.n === '0') return;
    await client.command(sql`ALTER TABLE ${points} DELETE WHERE ts < ${int64(cut)}`, ctx);
    const deadline = Date.now() + opts.mutationTimeoutMs;
    for (;;) {
      const [pending] = await client.rows<{ n: string }>(
        sql`SELECT toString(count()) AS n FROM system.mutations
          WHERE database = ${str(client.tables.database)} AND table = ${str(client.tables.points)} AND is_done = 0`,
        ctx,
      );
      if (!pending || pending.n === '0') return;
      if (Date.now() > deadline) {
        // Reads keep hiding the rows (they filter by the cutoff); the mutation finishes in the background.
        client.logger.warn({ table: client.tables.points }, 'clickhouse retention delete still running');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** The background check: drops the partitions that aged out of the current period. */
  const enforceRetention = async (ctx?: CallContext): Promise<number> => {
    const cut = await cutoff(ctx);
    return cut === undefined ? 0 : dropPartitions(cut, ctx);
  };

  const basic: TimeSeriesBasicImpl = {
    async write(req, ctx) {
      await ensureSchema();
      const ms = await retentionMs(ctx);
      checkWriteRetention(req.points, retentionCutoffNs(ms), ms);
      const rows = req.points.map((p) => {
        const names = sortedTagNames(p.tags);
        return {
          series: p.series,
          tag_key: tagKey(p.tags),
          ts: p.timestampNs.toString(),
          tag_names: names,
          tag_values: names.map((n) => p.tags[n]!),
          value_hex: float64Hex(p.value),
          version: nextVersion().toString(),
        };
      });
      await client.insert(points, rows, ctx);
      return { written: BigInt(req.points.length) };
    },
    async *query(req, ctx) {
      const selector = req.selector!;
      const cut = await cutoff(ctx);
      const batchSize = effectiveBatchSize(req.batchSize);
      const limit = req.limit > 0 ? sql` LIMIT ${count(req.limit)}` : sql``;
      const rows = client.stream<PointRow>(
        sql`SELECT tag_names, tag_values, toString(ts) AS ts_text, value FROM ${points} FINAL
          WHERE ${selectorWhere(selector)} AND ${rangeWhere(req.startNs, req.endNs, cut)}
          ORDER BY ts, tag_key${limit}`,
        ctx,
      );
      let batch: PointLike[] = [];
      for await (const row of rows) {
        batch.push({
          series: selector.series,
          tags: tagsOf(row.tag_names, row.tag_values),
          timestampNs: BigInt(row.ts_text),
          value: row.value,
        });
        if (batch.length >= batchSize) {
          yield { points: batch };
          batch = [];
        }
      }
      if (batch.length > 0) yield { points: batch };
    },
  };

  const aggregation: TimeSeriesAggregationImpl = {
    async aggregate(req, ctx) {
      const selector = req.selector!;
      const cut = await cutoff(ctx);
      const bucket = int64(req.bucketNs);
      const groupCols = req.groupBy.map((name, i) => {
        const n = str(name);
        return sql`if(indexOf(tag_names, ${n}) > 0, tag_values[indexOf(tag_names, ${n})], '') AS ${groupAlias(i)}`;
      });
      const groupNames = req.groupBy.map((_, i) => groupAlias(i));
      const rows = await client.rows<Record<string, string | number>>(
        sql`SELECT ${join([...groupCols, sql`toString(${floorDivSql(TS, bucket)}) AS bucket`])},
            toString(count()) AS n, toString(${reducerSql(req.aggregator, req.percentile)}) AS value_text
          FROM ${points} FINAL
          WHERE ${selectorWhere(selector)} AND ${rangeWhere(req.startNs, req.endNs, cut)}
          GROUP BY ${join([...groupNames, sql`bucket`])}`,
        ctx,
      );
      return assembleGroups(
        rows.map((row) => {
          const group: Record<string, string> = {};
          req.groupBy.forEach((name, i) => {
            group[name] = String(row[`g${i}`] ?? '');
          });
          return {
            group,
            startNs: BigInt(String(row.bucket)) * req.bucketNs,
            count: BigInt(String(row.n)),
            value: parseFloat64Text(String(row.value_text)),
          };
        }),
      );
    },
  };

  const interpolation: TimeSeriesInterpolationImpl = {
    /**
     * The instance's neighbours before and after the range, then its points in range streamed in ts order
     * (as Query streams): the reference walks them once, so memory holds one batch of samples whatever the
     * range holds, and the response is closed once every sample is out.
     */
    async *interpolate(req, ctx) {
      const cut = await cutoff(ctx);
      const instance = sql`series = ${str(req.series)} AND tag_key = ${str(tagKey(req.tags as Tags))}`;
      const visible = cut === undefined ? sql`1` : sql`ts >= ${int64(cut)}`;
      const timed = (r: TimedRow): TimedValue => ({ timestampNs: BigInt(r.ts_text), value: r.value });
      const [before, after] = await Promise.all([
        client.rows<TimedRow>(
          sql`SELECT toString(ts) AS ts_text, value FROM ${points} FINAL
            WHERE ${instance} AND ts < ${int64(req.startNs)} AND ${visible} ORDER BY ts DESC LIMIT 1`,
          ctx,
        ),
        client.rows<TimedRow>(
          sql`SELECT toString(ts) AS ts_text, value FROM ${points} FINAL
            WHERE ${instance} AND ts >= ${int64(req.endNs)} AND ${visible} ORDER BY ts LIMIT 1`,
          ctx,
        ),
      ]);
      async function* inRange(): AsyncGenerator<TimedValue> {
        for await (const r of client.stream<TimedRow>(
          sql`SELECT toString(ts) AS ts_text, value FROM ${points} FINAL
            WHERE ${instance} AND ${rangeWhere(req.startNs, req.endNs, cut)} ORDER BY ts`,
          ctx,
        ))
          yield timed(r);
      }
      const input = {
        points: inRange(),
        ...(before[0] ? { before: timed(before[0]) } : {}),
        ...(after[0] ? { after: timed(after[0]) } : {}),
      };
      for await (const samples of interpolateBatches(input, req)) yield { samples };
    },
  };

  const widthName = () =>
    (Object.entries(PARTITION_NS).find(([, ns]) => ns === width)?.[0] ?? `${width} ns`) as string;

  const retention: TimeSeriesRetentionImpl = {
    async setRetention(req, ctx) {
      await ensureSchema();
      // What the old period already hid is removed too, so growing the period never brings points back.
      const before = retentionCutoffNs(await retentionMs(ctx));
      const after = retentionCutoffNs(req.retentionMs);
      const cut = before === undefined ? after : after === undefined || before > after ? before : after;
      await client.insert(
        meta,
        [{ id: 0, retention_ms: req.retentionMs.toString(), version: nextVersion().toString() }],
        ctx,
      );
      if (cut === undefined) return { droppedPartitions: 0n };
      const dropped = await dropPartitions(cut, ctx);
      await deleteOlder(cut, ctx);
      return { droppedPartitions: BigInt(dropped) };
    },
    async getRetention(_req, ctx) {
      await ensureSchema();
      return {
        retentionMs: await retentionMs(ctx),
        enforcement:
          `${widthName()} partitions of ${client.tables.database}.${client.tables.points} ` +
          `(PARTITION BY floor(timestamp_ns / ${width})), each dropped once wholly older than the retention, ` +
          `at SetRetention and every ${opts.retentionCheckIntervalMs} ms; SetRetention also deletes the older ` +
          'rows of the partition the cutoff falls in (ALTER TABLE DELETE); reads and writes apply the cutoff exactly',
      };
    },
  };

  return {
    bindings: [
      implement(TimeSeriesBasic, basic),
      implement(TimeSeriesAggregation, aggregation),
      implement(TimeSeriesRetention, retention),
      implement(TimeSeriesInterpolation, interpolation),
    ],
    async start() {
      await ensureSchema();
      timer = setInterval(() => {
        enforceRetention().catch((err: unknown) => {
          // A check cut off by close() is no failure.
          if (timer)
            client.logger.warn(
              { err: String(err) },
              'clickhouse retention check failed; retrying at the next interval',
            );
        });
      }, opts.retentionCheckIntervalMs);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    enforceRetention: () => enforceRetention(),
  };
}

/** The alias of the i-th group_by column (`g0`, `g1`, ...). */
const groupAlias = (i: number): Sql => ident(`g${i}`);
