import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { instantiatePlugin } from '@prism/sdk';
import {
  type Point,
  type QueryRequest,
  TimeSeriesBasic,
  tagKey,
  type WriteRequest,
} from '@prism/timeseries-basic';
import Database from 'better-sqlite3';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-sqlite-ts-'));
const file = join(dir, 'ts.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ctx = { signal: new AbortController().signal };

describe('sqlite adapter: time series as rows of prism_ts_points', () => {
  it('upserts one row per (series, tags, timestamp) and reads them back in order, in batches', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'tsraw' });
    const raw = new Database(file, { readonly: true });
    try {
      const ts = h.get(TimeSeriesBasic)!;
      const write = async (points: Partial<Point>[]) =>
        ts.write(
          // Plain objects: the adapter reads fields only (this package does not depend on @bufbuild/protobuf).
          {
            namespace: 'tsraw',
            points: points.map((p) => ({ series: 'cpu', tags: {}, ...p })),
          } as WriteRequest,
          ctx,
        );
      const big = 2n ** 62n + 1n; // beyond 2^53: must stay exact
      await write([
        { tags: { host: 'a' }, timestampNs: big, value: 1 },
        { tags: { host: 'a' }, timestampNs: big, value: 2 },
        { tags: { host: 'b', z: 'a\u0000b' }, timestampNs: -5n, value: 3 },
        { tags: {}, timestampNs: big, value: 4 },
      ]);
      await write([{ tags: { host: 'b', z: 'a\u0000b' }, timestampNs: -5n, value: 30 }]);
      const rows = raw
        .prepare(
          "SELECT tag_key, ts, value FROM prism_ts_points WHERE namespace = 'tsraw' ORDER BY ts, tag_key",
        )
        .safeIntegers(true)
        .all() as { tag_key: string; ts: bigint; value: number }[];
      expect(rows).toEqual([
        { tag_key: tagKey({ host: 'b', z: 'a\u0000b' }), ts: -5n, value: 30 },
        { tag_key: '', ts: big, value: 4 },
        { tag_key: 'host=a', ts: big, value: 2 },
      ]);
      const query = async (tags: Record<string, string>, batchSize: number) => {
        const batches: Point[][] = [];
        for await (const res of ts.query(
          {
            namespace: 'tsraw',
            selector: { series: 'cpu', tags },
            startNs: -(2n ** 63n),
            endNs: 2n ** 63n - 1n,
            limit: 0,
            batchSize,
          } as QueryRequest,
          ctx,
        ))
          batches.push((res.points ?? []) as Point[]);
        return batches;
      };
      const batches = await query({}, 2);
      expect(batches.map((b) => b.map((p) => [p.timestampNs, p.value]))).toEqual([
        [
          [-5n, 30],
          [big, 4],
        ],
        [[big, 2]],
      ]);
      expect((await query({ z: 'a\u0000b' }, 0)).flat().map((p) => p.tags)).toEqual([
        { host: 'b', z: 'a\u0000b' },
      ]);
      expect((await query({ z: 'a' }, 0)).flat()).toEqual([]);
    } finally {
      raw.close();
      await h.close();
    }
  });
});
