import { describe, expect, it } from '@jest/globals';
import type { MetricLabels, PluginMetrics } from './metrics.js';
import { DroppingBuffer, MESSAGES_DROPPED_METRIC, PullBuffer } from './stream-buffer.js';

function recordingMetrics() {
  const counts: { name: string; labels: MetricLabels | undefined; value: number }[] = [];
  const metrics: PluginMetrics = {
    increment: (name, labels, value = 1) => counts.push({ name, labels, value }),
    observe() {},
    gauge() {},
  };
  return { metrics, counts };
}

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('DroppingBuffer', () => {
  it('delivers pushed items in order', async () => {
    const buf = new DroppingBuffer<number>({ capacity: 10 });
    for (let i = 0; i < 5; i++) expect(buf.push(i)).toBe(true);
    buf.end();
    const got: number[] = [];
    for await (const n of buf) got.push(n);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands an item directly to a waiting consumer', async () => {
    const buf = new DroppingBuffer<string>({ capacity: 1 });
    const it = buf[Symbol.asyncIterator]();
    const pending = it.next();
    expect(buf.push('a')).toBe(true);
    expect(await pending).toEqual({ value: 'a', done: false });
  });

  it('drops new items when full, counts them and reports the metric', async () => {
    const { metrics, counts } = recordingMetrics();
    const labels = { interface: 'pubsub_basic' };
    const buf = new DroppingBuffer<number>({ capacity: 3, metrics, labels });
    const accepted = Array.from({ length: 10 }, (_, i) => buf.push(i));
    expect(accepted).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(buf.dropped).toBe(7);
    expect(buf.size).toBe(3);
    expect(counts).toHaveLength(7);
    expect(
      counts.every((c) => c.name === MESSAGES_DROPPED_METRIC && c.labels === labels && c.value === 1),
    ).toBe(true);
    const it = buf[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual([0, 1, 2]);
    // Room again after the consumer caught up.
    expect(buf.push(99)).toBe(true);
    expect(await take(it, 1)).toEqual([99]);
  });

  it('releases the subscription once when the consumer breaks out', async () => {
    let releases = 0;
    const buf = new DroppingBuffer<number>({ capacity: 5, release: () => void releases++ });
    buf.push(1);
    buf.push(2);
    for await (const n of buf) {
      expect(n).toBe(1);
      break;
    }
    expect(releases).toBe(1);
    expect(buf.released).toBe(true);
    expect(buf.push(3)).toBe(false);
    await buf.release();
    expect(releases).toBe(1);
  });

  it('ends a waiting consumer and releases when the signal aborts', async () => {
    const ac = new AbortController();
    let released = false;
    const buf = new DroppingBuffer<number>({ capacity: 5, signal: ac.signal });
    buf.onRelease(() => {
      released = true;
    });
    const it = buf[Symbol.asyncIterator]();
    const pending = it.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(released).toBe(true);
  });

  it('runs a release registered after release at once', async () => {
    const ac = new AbortController();
    ac.abort();
    const buf = new DroppingBuffer<number>({ capacity: 1, signal: ac.signal });
    const it = buf[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    let released = false;
    buf.onRelease(() => {
      released = true;
    });
    await buf.release();
    expect(released).toBe(true);
  });

  it('delivers buffered items, then rejects with the source error, then releases', async () => {
    let released = false;
    const buf = new DroppingBuffer<number>({
      capacity: 5,
      release: () => {
        released = true;
      },
    });
    buf.push(1);
    buf.fail(new Error('connection lost'));
    const it = buf[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    await expect(it.next()).rejects.toThrow('connection lost');
    expect(released).toBe(true);
  });

  it('wakes a waiting consumer when the source ends', async () => {
    const buf = new DroppingBuffer<number>({ capacity: 5 });
    const it = buf[Symbol.asyncIterator]();
    const pending = it.next();
    buf.end();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(buf.released).toBe(true);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new DroppingBuffer({ capacity: 0 })).toThrow(RangeError);
  });
});

/** A fake at-least-once backend holding numbered messages; records every fetch. */
function backend(total: number) {
  let next = 0;
  const fetches: number[] = [];
  return {
    fetches,
    fetch: async (max: number) => {
      fetches.push(max);
      const out: number[] = [];
      while (out.length < max && next < total) out.push(next++);
      return out;
    },
    get remaining() {
      return total - next;
    },
  };
}

describe('PullBuffer', () => {
  it('fetches only when the consumer pulls, batchSize at a time', async () => {
    const b = backend(100);
    const buf = new PullBuffer<number>({ fetch: b.fetch, batchSize: 10 });
    expect(b.fetches).toEqual([]);
    const it = buf[Symbol.asyncIterator]();
    expect(await take(it, 1)).toEqual([0]);
    expect(b.fetches).toEqual([10]);
    expect(buf.buffered).toBe(9);
    expect(await take(it, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.fetches).toEqual([10]);
    expect(await take(it, 1)).toEqual([10]);
    expect(b.fetches).toEqual([10, 10]);
    // A slow consumer leaves the rest in the backend.
    expect(b.remaining).toBe(80);
  });

  it('stops fetching while the in-flight window is full and resumes on settle', async () => {
    const b = backend(100);
    const buf = new PullBuffer<number>({ fetch: b.fetch, batchSize: 10, maxInFlight: 3 });
    const it = buf[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual([0, 1, 2]);
    expect(b.fetches).toEqual([3]);
    expect(buf.inFlight).toBe(3);
    let resolved = false;
    const pending = it.next().then((r) => {
      resolved = true;
      return r;
    });
    // Let every queued callback run: the window is full, so nothing may be fetched or delivered.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(b.fetches).toEqual([3]);
    buf.settle(2);
    expect(await pending).toEqual({ value: 3, done: false });
    expect(b.fetches).toEqual([3, 2]);
    expect(buf.inFlight).toBe(2);
  });

  it('asks again after an empty answer', async () => {
    let calls = 0;
    const buf = new PullBuffer<string>({
      fetch: async () => (++calls < 3 ? [] : ['late']),
    });
    const it = buf[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'late', done: false });
    expect(buf.fetchCount).toBe(3);
  });

  it('ends and releases when the signal aborts during a lingering fetch', async () => {
    const ac = new AbortController();
    let fetchSignal: AbortSignal | undefined;
    let released = 0;
    const buf = new PullBuffer<number>({
      // Never answers: models a long-poll that ignores its signal.
      fetch: (_max, signal) => {
        fetchSignal = signal;
        return new Promise(() => {});
      },
      signal: ac.signal,
      release: () => void released++,
    });
    const it = buf[Symbol.asyncIterator]();
    const pending = it.next();
    await new Promise<void>((resolve) => setImmediate(resolve));
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(fetchSignal?.aborted).toBe(true);
    expect(released).toBe(1);
  });

  it('releases once when the consumer breaks out', async () => {
    const b = backend(10);
    let released = 0;
    const buf = new PullBuffer<number>({ fetch: b.fetch, batchSize: 2, release: () => void released++ });
    for await (const n of buf) if (n === 2) break;
    expect(released).toBe(1);
    expect(b.fetches).toEqual([2, 2]);
  });

  it('propagates a fetch error to the consumer and releases', async () => {
    let released = false;
    const buf = new PullBuffer<number>({
      fetch: async () => {
        throw new Error('broker down');
      },
      release: () => {
        released = true;
      },
    });
    await expect(buf[Symbol.asyncIterator]().next()).rejects.toThrow('broker down');
    expect(released).toBe(true);
  });

  it('rejects a fetch that returns more than requested', async () => {
    const buf = new PullBuffer<number>({ fetch: async () => [1, 2, 3], batchSize: 2 });
    await expect(buf[Symbol.asyncIterator]().next()).rejects.toThrow(/only 2 were requested/);
  });
});
