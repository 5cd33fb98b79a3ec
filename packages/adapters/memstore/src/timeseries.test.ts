import { afterEach, describe, expect, it } from '@jest/globals';
import { TimeSeriesStore } from './timeseries.js';

const nsAgo = (ms: number) => BigInt(Date.now() - ms) * 1_000_000n;
const point = (ts: bigint, value: number, tags: Record<string, string> = {}) => ({
  series: 's',
  tags,
  timestampNs: ts,
  value,
});

describe('TimeSeriesStore retention', () => {
  let store: TimeSeriesStore | undefined;
  afterEach(() => store?.close());

  it('removes points as they age out, by the background sweep, without reads', async () => {
    store = new TimeSeriesStore('ns', 20);
    store.setRetention(60_000n);
    store.write([
      point(nsAgo(59_850), 1, { a: '1' }),
      point(nsAgo(59_850), 2, { a: '2' }),
      point(nsAgo(0), 3),
    ]);
    expect(store.size).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(store.size).toBe(1);
  });

  it('removes what falls outside at once when the period shrinks, and counts it', () => {
    store = new TimeSeriesStore('ns', 60_000);
    store.write([point(nsAgo(7_200_000), 1), point(nsAgo(5_400_000), 2, { k: 'v' }), point(nsAgo(1_000), 3)]);
    expect(store.setRetention(3_600_000n)).toBe(2);
    expect(store.size).toBe(1);
    expect(store.setRetention(0n)).toBe(0);
  });

  it('keeps out-of-order writes sorted', () => {
    store = new TimeSeriesStore('ns', 60_000);
    store.write([point(5n, 5), point(1n, 1), point(3n, 3), point(1n, 10)]);
    expect(store.select('s', {}, 0n, 10n).map((p) => [p.timestampNs, p.value])).toEqual([
      [1n, 10],
      [3n, 3],
      [5n, 5],
    ]);
    const around = store.around('s', {}, 2n, 4n);
    expect({ ...around, points: [...around.points] }).toEqual({
      before: { timestampNs: 1n, value: 10 },
      points: [{ timestampNs: 3n, value: 3 }],
      after: { timestampNs: 5n, value: 5 },
    });
  });

  it('answers UNAVAILABLE once closed', () => {
    store = new TimeSeriesStore('ns', 60_000);
    store.close();
    expect(() => store!.write([point(1n, 1)])).toThrow(/closed/);
  });
});
