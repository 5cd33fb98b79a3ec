import { type Binding, type CallContext, implement } from '@prism/sdk';
import {
  effectiveBatchSize,
  type Point,
  TimeSeriesBasic,
  type TimeSeriesBasicImpl,
  tagKey,
} from '@prism/timeseries-basic';
import type { SqliteStore } from './store.js';

/** The time-series interfaces this adapter implements (basic only: see the plugin's `omitted`). */
export const TIMESERIES_INTERFACES = [TimeSeriesBasic];

/**
 * One row per point identity, shared by all namespaces: primary key (namespace, series, tag_key, ts) with
 * tag_key = tagKey(tags), whose BINARY (memcmp of UTF-8) order is the proto's order of tag sets, so a
 * retried Write upserts the same row. The table is WITHOUT ROWID (the key is the row); a second index on
 * (namespace, series, ts, tag_key) serves Query's order and keyset pages. Tags are kept as JSON text.
 */
const TS_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS prism_ts_points (
    namespace TEXT NOT NULL,
    series    TEXT NOT NULL,
    tag_key   TEXT NOT NULL,
    tags      TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (namespace, series, tag_key, ts)
  ) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS prism_ts_points_order ON prism_ts_points (namespace, series, ts, tag_key)',
];

/** Creates the points table if missing (run on start, after the store opened the database). */
export function ensureTimeSeriesSchema(store: SqliteStore): void {
  store.guard(() => {
    for (const ddl of TS_SCHEMA) store.stmt(ddl).run();
  });
}

type PointRow = { series: string; tags: string; ts: bigint; value: number; tag_key: string };

/** The time series of one namespace on SQLite: a Write is one transaction of upserts. */
export function timeSeries(store: SqliteStore): { bindings: Binding[] } {
  const ns = store.namespace;

  /** The selector's tags as EXISTS conditions on json_each (no JSON path quoting for odd tag names). */
  const tagFilter = (n: number) =>
    ' AND EXISTS (SELECT 1 FROM json_each(tags) WHERE key = ? AND value = ?)'.repeat(n);

  const basic: TimeSeriesBasicImpl = {
    write: (req) =>
      store.transaction(() => {
        const upsert = store.stmt(
          `INSERT INTO prism_ts_points (namespace, series, tag_key, tags, ts, value) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (namespace, series, tag_key, ts) DO UPDATE SET value = excluded.value, tags = excluded.tags`,
        );
        // In request order, so of two points with one identity the later one is kept.
        for (const p of req.points as Point[])
          upsert.run(ns, p.series, tagKey(p.tags), JSON.stringify(p.tags), p.timestampNs, p.value);
        return { written: BigInt(req.points.length) };
      }),
    /** Keyset pages on (ts, tag_key), Query's order: one indexed query per batch, run as the client reads. */
    async *query(req, ctx: CallContext) {
      const { series, tags } = req.selector!;
      const wanted = Object.entries(tags);
      const batchSize = effectiveBatchSize(req.batchSize);
      const base = `SELECT series, tags, ts, value, tag_key FROM prism_ts_points
        WHERE namespace = ? AND series = ? AND ts >= ? AND ts < ?${tagFilter(wanted.length)}`;
      const first = store.stmt(`${base} ORDER BY ts, tag_key LIMIT ?`).safeIntegers(true);
      const next = store
        .stmt(`${base} AND (ts, tag_key) > (?, ?) ORDER BY ts, tag_key LIMIT ?`)
        .safeIntegers(true);
      const params = [ns, series, req.startNs, req.endNs, ...wanted.flat()];
      let left = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
      let after: PointRow | undefined;
      while (left > 0) {
        const n = Math.min(batchSize, left);
        const rows = store.guard(
          () =>
            (after === undefined
              ? first.all(...params, n)
              : next.all(...params, after.ts, after.tag_key, n)) as PointRow[],
        );
        if (rows.length > 0)
          yield {
            points: rows.map((r) => ({
              series: r.series,
              tags: JSON.parse(r.tags) as { [name: string]: string },
              timestampNs: BigInt(r.ts),
              value: Number(r.value),
            })),
          };
        left -= rows.length;
        if (rows.length < n || ctx.signal.aborted) return;
        after = rows.at(-1);
      }
    },
  };

  return { bindings: [implement(TimeSeriesBasic, basic)] };
}
