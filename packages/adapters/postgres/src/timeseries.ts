import { createHash } from 'node:crypto';
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
  type Point,
  retentionCutoffNs,
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
import type { PgClient } from './client.js';
import { DDL_LOCK, ensureSchemaObjects } from './ddl.js';
import { sqlState } from './errors.js';

/** The time-series interfaces this adapter implements. */
export const TIMESERIES_INTERFACES = [
  TimeSeriesBasic,
  TimeSeriesAggregation,
  TimeSeriesRetention,
  TimeSeriesInterpolation,
];

/** Nanoseconds per partition (one UTC day). */
export const DAY_NS = 86_400_000_000_000n;
const INT64_MIN = -(2n ** 63n);
/** Points per keyset page Interpolate reads. */
const INTERPOLATION_PAGE = 1000;
const INT64_MAX = 2n ** 63n - 1n;

/** The parent of every points partition. */
const POINTS = 'ts_points';

/**
 * The namespace's partition of `ts_points`: its name is a digest of the namespace (a namespace name may be
 * longer than an identifier or hold any character), so names stay within 63 bytes.
 */
export const namespacePartition = (namespace: string): string =>
  `${POINTS}_${createHash('sha256').update(namespace).digest('hex').slice(0, 16)}`;

/** The day (days since the epoch, floor) holding `ns`. */
const dayOf = (ns: bigint): bigint => {
  const q = ns / DAY_NS;
  return ns % DAY_NS !== 0n && ns < 0n ? q - 1n : q;
};

/** YYYYMMDD of a day number (int64 ns spans years 1677..2262, always four digits). */
const dateOf = (day: bigint): string =>
  new Date(Number(day) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');

/** The day number of a YYYYMMDD suffix. */
const dayOfDate = (date: string): bigint =>
  BigInt(
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))) / 86_400_000,
  );

/** The daily partition of a namespace partition: `<namespace partition>_YYYYMMDD`. */
export const dayPartition = (nsPartition: string, day: bigint): string => `${nsPartition}_${dateOf(day)}`;

/** A SQL string literal (DDL takes no bind parameters); standard_conforming_strings is on since 9.1. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

// Tag values may hold U+0000, which neither text nor jsonb can store: the jsonb copy of the tags escapes
// U+0000 and U+0001 the way tagKey does (U+0001 U+0003 / U+0001 U+0004); names have no control characters.
const ESC = '\u0001';
const escapeValue = (v: string) =>
  v.includes('\u0000') || v.includes(ESC)
    ? v.replaceAll(ESC, `${ESC}\u0004`).replaceAll('\u0000', `${ESC}\u0003`)
    : v;
const unescapeValue = (v: string) =>
  v.includes(ESC)
    ? v
        .split(ESC)
        .map((part, i) => (i === 0 ? part : (part[0] === '\u0003' ? '\u0000' : ESC) + part.slice(1)))
        .join('')
    : v;
const escapeTags = (tags: Tags): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) out[k] = escapeValue(v);
  return out;
};
const unescapeTags = (tags: Record<string, string>): { [k: string]: string } => {
  const out: { [k: string]: string } = {};
  for (const [k, v] of Object.entries(tags)) out[k] = unescapeValue(v);
  return out;
};

/**
 * Tables in `<schema>`: `ts_points` PARTITIONED BY LIST (namespace), each namespace's partition in turn
 * PARTITIONED BY RANGE (ts) into UTC days created on demand by Write. Partitioning per namespace first makes
 * retention a matter of one namespace's own tables: a day partition only ever holds one namespace's points,
 * so SetRetention can DROP it without asking whether another namespace (with a longer retention) still
 * needs it. Primary key (namespace, series, tag_key, ts) with tag_key = tagKey(tags) (COLLATE "C": its
 * byte order is the proto's order of tag sets) makes writes idempotent upserts; (namespace, series, ts,
 * tag_key) serves Query's order and keyset pages; a BRIN index on ts serves wide time scans of the
 * append-mostly days. `ts_retention` holds each namespace's period, so every proxy replica reads the same.
 */
function schemaStatements(schema: string, namespace: string): string[] {
  const nsPart = namespacePartition(namespace);
  return [
    `CREATE TABLE IF NOT EXISTS ${schema}."${POINTS}" (
       namespace text COLLATE "C" NOT NULL,
       series    text COLLATE "C" NOT NULL,
       tag_key   text COLLATE "C" NOT NULL,
       tags      jsonb NOT NULL,
       ts        bigint NOT NULL,
       value     double precision NOT NULL,
       PRIMARY KEY (namespace, series, tag_key, ts)
     ) PARTITION BY LIST (namespace)`,
    `CREATE INDEX IF NOT EXISTS "${POINTS}_order" ON ${schema}."${POINTS}" (namespace, series, ts, tag_key)`,
    `CREATE INDEX IF NOT EXISTS "${POINTS}_ts_brin" ON ${schema}."${POINTS}" USING brin (ts)`,
    `CREATE TABLE IF NOT EXISTS ${schema}."${nsPart}" PARTITION OF ${schema}."${POINTS}"
       FOR VALUES IN (${literal(namespace)}) PARTITION BY RANGE (ts)`,
    `CREATE TABLE IF NOT EXISTS ${schema}."ts_retention" (
       namespace    text COLLATE "C" PRIMARY KEY,
       retention_ms bigint NOT NULL
     )`,
  ];
}

/** DDL of one day partition: [day start, next day start), MINVALUE/MAXVALUE at the ends of int64. */
function dayStatement(schema: string, nsPart: string, day: bigint): string {
  const from = day * DAY_NS;
  const to = (day + 1n) * DAY_NS;
  const lo = from < INT64_MIN ? 'MINVALUE' : String(from);
  const hi = to > INT64_MAX ? 'MAXVALUE' : String(to);
  return `CREATE TABLE IF NOT EXISTS ${schema}."${dayPartition(nsPart, day)}" PARTITION OF ${schema}."${nsPart}"
    FOR VALUES FROM (${lo}) TO (${hi})`;
}

/** `backend.config` settings the time-series part reads. */
export interface TimeSeriesSettings {
  /** How often retention is re-enforced in the background (expired partitions dropped, rows deleted). */
  readonly retentionIntervalMs: number;
}

type PointRow = { series: string; tags: Record<string, string>; t: string; value: number; tag_key: string };

/** The time-series part of the adapter: bindings and the start-up step. */
export function timeSeries(
  client: PgClient,
  settings: TimeSeriesSettings,
): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const schemaName = client.config.schema;
  const nsPart = namespacePartition(ns);
  const points = sql(`${schemaName}.${POINTS}`);
  const retention = sql(`${schemaName}.ts_retention`);
  /** Day partitions this instance knows exist (another replica's retention may drop them: see write). */
  const knownDays = new Set<bigint>();

  const retentionMs = async (ctx?: CallContext): Promise<bigint> => {
    const [row] = await client.run(
      sql<{ ms: string }[]>`SELECT retention_ms::text AS ms FROM ${retention} WHERE namespace = ${ns}`,
      ctx,
    );
    return BigInt(row?.ms ?? '0');
  };
  /** The oldest visible timestamp now (undefined = keep forever). */
  const cutoff = async (ctx?: CallContext) => retentionCutoffNs(await retentionMs(ctx));

  /** Creates the missing day partitions under the adapter's DDL lock (IF NOT EXISTS alone races). */
  const ensureDays = async (days: Iterable<bigint>) => {
    const missing = [...days].filter((d) => !knownDays.has(d));
    if (missing.length === 0) return;
    await ensureSchemaObjects(client, schemaName, (schema) =>
      missing.map((d) => dayStatement(schema, nsPart, d)),
    );
    for (const d of missing) knownDays.add(d);
  };

  /**
   * Drops the namespace's day partitions that lie wholly before `cutoffNs` and deletes older rows of the
   * rest; returns the number of partitions dropped. The drops hold the DDL lock, so a Write creating a
   * partition and a retention run of another replica take turns.
   */
  const enforce = async (cutoffNs: bigint, ctx?: CallContext): Promise<number> => {
    const dropped = await client.run(
      sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${DDL_LOCK})`;
        const parts = await tx<{ name: string }[]>`
          SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = ${`"${schemaName}"."${nsPart}"`}::regclass`;
        const names: string[] = [];
        for (const { name } of parts) {
          const m = /_(\d{8})$/.exec(name);
          if (!m) continue;
          const day = dayOfDate(m[1]!);
          if ((day + 1n) * DAY_NS <= cutoffNs) names.push(name);
        }
        for (const name of names) await tx.unsafe(`DROP TABLE IF EXISTS "${schemaName}"."${name}"`);
        return names;
      }),
      ctx,
    );
    // Outside the DDL lock: a large delete must not hold up other namespaces' partition creation.
    await client.run(
      sql`DELETE FROM ${sql(`${schemaName}.${nsPart}`)} WHERE ts < ${String(cutoffNs)}::bigint`,
      ctx,
    );
    for (const name of dropped) knownDays.delete(dayOfDate(name.slice(-8)));
    return dropped.length;
  };

  const upsert = (rows: ReturnType<typeof toRow>[]) =>
    sql`INSERT INTO ${points} (namespace, series, tag_key, tags, ts, value)
      SELECT ${ns}, x.s, x.k, x.g, x.t::bigint, x.v::float8
      FROM jsonb_to_recordset(${sql.json(rows)}::jsonb) AS x(s text, k text, g jsonb, t text, v text)
      ON CONFLICT (namespace, series, tag_key, ts) DO UPDATE SET value = EXCLUDED.value, tags = EXCLUDED.tags`;
  const toRow = (p: Point) => ({
    s: p.series,
    k: tagKey(p.tags),
    g: escapeTags(p.tags),
    t: String(p.timestampNs),
    v: String(p.value),
  });

  /** The selector's filter on series and tags (a subset match: jsonb containment). */
  const selects = (series: string, tags: Tags) =>
    Object.keys(tags).length === 0
      ? sql`namespace = ${ns} AND series = ${series}`
      : sql`namespace = ${ns} AND series = ${series} AND tags @> ${sql.json(escapeTags(tags))}::jsonb`;

  /** [start, end) clipped to the retention cutoff; undefined when nothing of it is visible. */
  const visibleRange = (startNs: bigint, endNs: bigint, cutoffNs: bigint | undefined) => {
    const start = cutoffNs !== undefined && cutoffNs > startNs ? cutoffNs : startNs;
    return start < endNs ? { start, end: endNs } : undefined;
  };

  const basic: TimeSeriesBasicImpl = {
    async write(req, ctx) {
      const ms = await retentionMs(ctx);
      checkWriteRetention(req.points, retentionCutoffNs(ms), ms);
      // One row per identity, the last write winning: ON CONFLICT cannot touch a row twice in a statement.
      const byIdentity = new Map<string, ReturnType<typeof toRow>>();
      for (const p of req.points) {
        const row = toRow(p);
        byIdentity.set(`${row.s}\u0000${row.k}\u0000${row.t}`, row);
      }
      const rows = [...byIdentity.values()];
      const days = new Set(req.points.map((p) => dayOf(p.timestampNs)));
      await ensureDays(days);
      try {
        await client.run(upsert(rows), ctx);
      } catch (err) {
        // 23514: no partition for a row: another replica's retention dropped a day we thought existed.
        if (sqlState((err as { cause?: unknown }).cause) !== '23514') throw err;
        for (const d of days) knownDays.delete(d);
        await ensureDays(days);
        await client.run(upsert(rows), ctx);
      }
      return { written: BigInt(req.points.length) };
    },
    /** Keyset pages on (ts, tag_key), Query's order, one indexed query per batch as the client pulls. */
    async *query(req, ctx) {
      const selector = req.selector!;
      const range = visibleRange(req.startNs, req.endNs, await cutoff(ctx));
      if (!range) return;
      const batchSize = effectiveBatchSize(req.batchSize);
      let left = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
      let after: { ts: string; key: string } | undefined;
      while (left > 0) {
        const n = Math.min(batchSize, left);
        const rows = await client.run(
          sql<PointRow[]>`SELECT series, tags, ts::text AS t, value, tag_key FROM ${points}
            WHERE ${selects(selector.series, selector.tags)}
              AND ts >= ${String(range.start)}::bigint AND ts < ${String(range.end)}::bigint
              ${after ? sql`AND (ts, tag_key) > (${after.ts}::bigint, ${after.key})` : sql``}
            ORDER BY ts, tag_key LIMIT ${n}`,
          ctx,
        );
        if (rows.length > 0)
          yield {
            points: rows.map((r) => ({
              series: r.series,
              tags: unescapeTags(r.tags),
              timestampNs: BigInt(r.t),
              value: Number(r.value),
            })),
          };
        left -= rows.length;
        if (rows.length < n || ctx.signal.aborted) return;
        const last = rows.at(-1)!;
        after = { ts: last.t, key: last.tag_key };
      }
    },
  };

  const aggregation: TimeSeriesAggregationImpl = {
    /**
     * One GROUP BY query: group values (COALESCE to "" for a missing tag), the floor-divided bucket start
     * (numeric: exact for negative timestamps and at the ends of int64) and the aggregate, computed as the
     * reference aggregatePoints does (sums in Query order, percentile_disc, first/last by (ts, tag_key)).
     */
    async aggregate(req, ctx) {
      const selector = req.selector!;
      const range = visibleRange(req.startNs, req.endNs, await cutoff(ctx));
      if (!range) return { groups: [] };
      const bw = String(req.bucketNs);
      const groupCols = req.groupBy.map((name, i) => sql`COALESCE(tags->>${name}, '') AS ${sql(`g${i}`)}`);
      const value = (() => {
        switch (req.aggregator) {
          case Aggregator.AVG:
            return sql`sum(value ORDER BY ts, tag_key) / count(*)`;
          case Aggregator.SUM:
            return sql`sum(value ORDER BY ts, tag_key)`;
          case Aggregator.MIN:
            return sql`min(value)`;
          case Aggregator.MAX:
            return sql`max(value)`;
          case Aggregator.COUNT:
            return sql`count(*)::float8`;
          case Aggregator.PERCENTILE:
            return sql`percentile_disc(${req.percentile / 100}::float8) WITHIN GROUP (ORDER BY value)`;
          case Aggregator.FIRST:
            return sql`(array_agg(value ORDER BY ts, tag_key))[1]`;
          default:
            return sql`(array_agg(value ORDER BY ts DESC, tag_key DESC))[1]`;
        }
      })();
      const groupList = req.groupBy.map((_, i) => sql`${sql(`g${i}`)}`);
      const rows = await client.run(
        sql<Record<string, string | number>[]>`
          SELECT ${groupCols.length > 0 ? sql`${groupCols.reduce((a, b) => sql`${a}, ${b}`)},` : sql``}
            (floor(ts::numeric / ${bw}::numeric) * ${bw}::numeric)::text AS bucket,
            count(*)::text AS n, ${value} AS value
          FROM ${points}
          WHERE ${selects(selector.series, selector.tags)}
            AND ts >= ${String(range.start)}::bigint AND ts < ${String(range.end)}::bigint
          GROUP BY ${groupList.length > 0 ? sql`${groupList.reduce((a, b) => sql`${a}, ${b}`)},` : sql``} bucket`,
        ctx,
      );
      return assembleGroups(
        rows.map((r) => {
          const group: Record<string, string> = {};
          req.groupBy.forEach((name, i) => {
            group[name] = unescapeValue(String(r[`g${i}`]));
          });
          return {
            group,
            startNs: BigInt(String(r.bucket)),
            count: BigInt(String(r.n)),
            value: Number(r.value),
          };
        }),
      );
    },
  };

  const retentionImpl: TimeSeriesRetentionImpl = {
    async setRetention(req, ctx) {
      await client.run(
        sql`INSERT INTO ${retention} (namespace, retention_ms) VALUES (${ns}, ${String(req.retentionMs)}::bigint)
          ON CONFLICT (namespace) DO UPDATE SET retention_ms = EXCLUDED.retention_ms`,
        ctx,
      );
      const cutoffNs = retentionCutoffNs(req.retentionMs);
      const dropped = cutoffNs === undefined ? 0 : await enforce(cutoffNs, ctx);
      return { droppedPartitions: BigInt(dropped) };
    },
    async getRetention(_req, ctx) {
      return {
        retentionMs: await retentionMs(ctx),
        enforcement:
          `daily range partitions per namespace ("${schemaName}"."${nsPart}_YYYYMMDD"); those wholly older than ` +
          `the retention are dropped and older rows deleted at SetRetention and every ${settings.retentionIntervalMs} ms; ` +
          'reads and writes apply the cutoff at once',
      };
    },
  };

  const interpolation: TimeSeriesInterpolationImpl = {
    /**
     * The instance's neighbours before and after the range (within retention), then its points in range in
     * keyset pages on ts, as Query pages: the reference walks them once, so memory holds one page and one
     * batch of samples whatever the range holds.
     */
    async *interpolate(req, ctx) {
      const key = tagKey(req.tags);
      const cutoffNs = await cutoff(ctx);
      const lo = cutoffNs ?? INT64_MIN;
      const where = sql`namespace = ${ns} AND series = ${req.series} AND tag_key = ${key}`;
      type TimedRow = { t: string; value: number };
      const tv = (r: TimedRow): TimedValue => ({ timestampNs: BigInt(r.t), value: Number(r.value) });
      const [before, after] = await client.run(
        sql.begin(async (tx) => [
          await tx<TimedRow[]>`SELECT ts::text AS t, value FROM ${points}
            WHERE ${where} AND ts >= ${String(lo)}::bigint AND ts < ${String(req.startNs)}::bigint
            ORDER BY ts DESC LIMIT 1`,
          await tx<TimedRow[]>`SELECT ts::text AS t, value FROM ${points}
            WHERE ${where} AND ts >= ${String(req.endNs > lo ? req.endNs : lo)}::bigint ORDER BY ts LIMIT 1`,
        ]),
        ctx,
      );
      const from = String(req.startNs > lo ? req.startNs : lo);
      async function* inRange(): AsyncGenerator<TimedValue> {
        let last: string | undefined;
        for (;;) {
          const rows = await client.run(
            sql<TimedRow[]>`SELECT ts::text AS t, value FROM ${points}
              WHERE ${where} AND ts >= ${from}::bigint AND ts < ${String(req.endNs)}::bigint
                ${last === undefined ? sql`` : sql`AND ts > ${last}::bigint`}
              ORDER BY ts LIMIT ${INTERPOLATION_PAGE}`,
            ctx,
          );
          for (const r of rows) yield tv(r);
          if (rows.length < INTERPOLATION_PAGE || ctx.signal.aborted) return;
          last = rows.at(-1)!.t;
        }
      }
      const input = {
        points: inRange(),
        ...(before[0] ? { before: tv(before[0]) } : {}),
        ...(after[0] ? { after: tv(after[0]) } : {}),
      };
      for await (const samples of interpolateBatches(input, req)) {
        yield { samples };
        if (ctx.signal.aborted) return;
      }
    },
  };

  return {
    bindings: [
      implement(TimeSeriesBasic, basic),
      implement(TimeSeriesAggregation, aggregation),
      implement(TimeSeriesRetention, retentionImpl),
      implement(TimeSeriesInterpolation, interpolation),
    ],
    async start() {
      await ensureSchemaObjects(client, schemaName, (schema) => schemaStatements(schema, ns));
      client.every(settings.retentionIntervalMs, 'time-series retention', async () => {
        const c = await cutoff();
        if (c !== undefined) await enforce(c);
      });
    },
  };
}
