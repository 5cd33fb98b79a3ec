import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  Fill,
  InterpolateRequestSchema,
  type InterpolationInput,
  interpolateBatches,
  interpolateSamples,
  resample,
  type SampleValue,
  sampleCount,
  type TimedValue,
  TimeSeriesInterpolation,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

type Init = Partial<{
  series: string;
  tags: Record<string, string>;
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
  fill: Fill;
}>;
const validate = (init: Init) =>
  errorOf(() =>
    TimeSeriesInterpolation.validate.interpolate?.(
      create(InterpolateRequestSchema, {
        series: 's',
        startNs: 0n,
        endNs: 10n,
        stepNs: 1n,
        fill: Fill.NULL,
        ...init,
      }),
      DEFAULT_LIMITS,
    ),
  );

const tv = (ts: number, value: number) => ({ timestampNs: BigInt(ts), value });
const run = (input: InterpolationInput, startNs: number, endNs: number, stepNs: number, fill: Fill) =>
  interpolateSamples(input, {
    startNs: BigInt(startNs),
    endNs: BigInt(endNs),
    stepNs: BigInt(stepNs),
    fill,
  }).map((s) => [Number(s.timestampNs), s.value ?? null]);

describe('TimeSeriesInterpolation validators', () => {
  it('accepts valid requests up to 100000 samples', () => {
    expect(validate({})).toBeUndefined();
    expect(validate({ endNs: 100_000n })).toBeUndefined();
    expect(validate({ endNs: 1_000_000n, stepNs: 10n })).toBeUndefined();
  });
  it('rejects each bad field naming it', () => {
    const cases: [Init, RegExp][] = [
      [{ startNs: 10n }, /start_ns/],
      [{ stepNs: 0n }, /step_ns must be greater than 0/],
      [{ stepNs: -1n }, /step_ns/],
      [{ endNs: 100_001n }, /100001 samples.*at most 100000/],
      [{ endNs: 1_000_001n, stepNs: 10n }, /100001 samples/],
      [{ fill: Fill.UNSPECIFIED }, /fill is required/],
      [{ fill: 7 as Fill }, /fill 7 is unknown/],
      [{ series: '' }, /^series/],
      [{ tags: { '': '' } }, /^tags/],
    ];
    for (const [init, message] of cases) {
      const err = validate(init);
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(message);
    }
  });
  it('counts samples start, start + step, ... < end', () => {
    expect(sampleCount(0n, 10n, 5n)).toBe(2n);
    expect(sampleCount(0n, 11n, 5n)).toBe(3n);
    expect(sampleCount(-3n, 0n, 1n)).toBe(3n);
    expect(sampleCount(0n, 1n, 100n)).toBe(1n);
  });
});

describe('interpolateSamples', () => {
  const input: InterpolationInput = { before: tv(-10, 0), points: [tv(10, 20), tv(0, 10)], after: tv(30, 0) };
  it('fills with the previous value, looking back before start', () => {
    expect(run(input, -5, 25, 5, Fill.PREVIOUS)).toEqual([
      [-5, 0],
      [0, 10],
      [5, 10],
      [10, 20],
      [15, 20],
      [20, 20],
    ]);
    expect(run({ points: [] }, 0, 3, 1, Fill.PREVIOUS)).toEqual([
      [0, null],
      [1, null],
      [2, null],
    ]);
  });
  it('fills linearly, looking ahead past end, null without both neighbours', () => {
    expect(run(input, -5, 25, 5, Fill.LINEAR)).toEqual([
      [-5, 5],
      [0, 10],
      [5, 15],
      [10, 20],
      [15, 15],
      [20, 10],
    ]);
    expect(run({ points: [tv(0, 1)] }, -1, 2, 1, Fill.LINEAR)).toEqual([
      [-1, null],
      [0, 1],
      [1, null],
    ]);
  });
  it('fills with null', () => {
    expect(run(input, -5, 25, 5, Fill.NULL)).toEqual([
      [-5, null],
      [0, 10],
      [5, null],
      [10, 20],
      [15, null],
      [20, null],
    ]);
  });
  it('keeps nanosecond timestamps as bigints', () => {
    const t = 1_733_300_000_123_456_789n;
    const samples = interpolateSamples(
      { before: { timestampNs: t - 1n, value: 1 }, points: [], after: { timestampNs: t + 1n, value: 3 } },
      { startNs: t, endNs: t + 1n, stepNs: 1n, fill: Fill.LINEAR },
    );
    expect(samples).toEqual([{ timestampNs: t, value: 2 }]);
  });
});

describe('streaming interpolation', () => {
  // An oracle written from the definition: per sample, search all points for the one at it and the
  // nearest ones before and after.
  const oracle = (input: InterpolationInput, startNs: bigint, endNs: bigint, stepNs: bigint, fill: Fill) => {
    const all = [
      ...(input.before ? [input.before] : []),
      ...input.points,
      ...(input.after ? [input.after] : []),
    ];
    const out: SampleValue[] = [];
    for (let t = startNs; t < endNs; t += stepNs) {
      const at = all.find((p) => p.timestampNs === t);
      const prev = all
        .filter((p) => p.timestampNs < t)
        .sort((a, b) => Number(b.timestampNs - a.timestampNs))[0];
      const next = all
        .filter((p) => p.timestampNs > t)
        .sort((a, b) => Number(a.timestampNs - b.timestampNs))[0];
      if (at) out.push({ timestampNs: t, value: at.value });
      else if (fill === Fill.PREVIOUS && prev) out.push({ timestampNs: t, value: prev.value });
      else if (fill === Fill.LINEAR && prev && next) {
        const fraction = Number(t - prev.timestampNs) / Number(next.timestampNs - prev.timestampNs);
        out.push({ timestampNs: t, value: prev.value + (next.value - prev.value) * fraction });
      } else out.push({ timestampNs: t });
    }
    return out;
  };
  // A deterministic pseudo-random sequence, so failures reproduce.
  let seed = 17;
  const rand = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  async function* source(points: readonly TimedValue[], read: { n: number; closed: boolean }) {
    try {
      for (const p of points) {
        read.n++;
        yield p;
      }
    } finally {
      read.closed = true;
    }
  }
  const collect = async (gen: AsyncGenerator<SampleValue[]>, sizes: number[] = []) => {
    const out: SampleValue[] = [];
    for await (const batch of gen) {
      sizes.push(batch.length);
      out.push(...batch);
    }
    return out;
  };

  it('agrees with the definition and with interpolateSamples on random inputs, for every fill', async () => {
    for (let round = 0; round < 300; round++) {
      const startNs = BigInt(rand(40) - 20);
      const endNs = startNs + 1n + BigInt(rand(60));
      const stepNs = 1n + BigInt(rand(7));
      const fill = [Fill.PREVIOUS, Fill.LINEAR, Fill.NULL][rand(3)]!;
      const times = new Set<number>();
      for (let i = rand(25); i > 0; i--) times.add(Number(startNs) + rand(Number(endNs - startNs)));
      const points = [...times].sort((a, b) => a - b).map((t) => tv(t, rand(1000) - 500));
      const input: InterpolationInput = {
        points,
        ...(rand(2) ? { before: tv(Number(startNs) - 1 - rand(5), rand(100)) } : {}),
        ...(rand(2) ? { after: tv(Number(endNs) + rand(5), rand(100)) } : {}),
      };
      const request = { startNs, endNs, stepNs, fill };
      const want = oracle(input, startNs, endNs, stepNs, fill);
      const shuffled = [...points].sort(() => rand(3) - 1);
      expect(interpolateSamples({ ...input, points: shuffled }, request)).toEqual(want);
      expect([...resample(input, request)]).toEqual(want);
      const read = { n: 0, closed: false };
      const batchSize = 1 + rand(5);
      const sizes: number[] = [];
      expect(
        await collect(
          interpolateBatches({ ...input, points: source(points, read) }, request, batchSize),
          sizes,
        ),
      ).toEqual(want);
      expect(sizes.every((n, i) => (i < sizes.length - 1 ? n === batchSize : n >= 1 && n <= batchSize))).toBe(
        true,
      );
      expect(read.closed).toBe(true);
    }
  });

  it('stops reading points once every sample is out, and closes the source', async () => {
    const points = Array.from({ length: 1000 }, (_, i) => tv(i, i));
    const read = { n: 0, closed: false };
    // Points past end_ns (a source that does not bound its scan) count as `after` and are not read on.
    const samples = await collect(
      interpolateBatches(
        { points: source(points, read) },
        { startNs: 0n, endNs: 10n, stepNs: 3n, fill: Fill.LINEAR },
        2,
      ),
    );
    expect(samples.map((s) => [Number(s.timestampNs), s.value])).toEqual([
      [0, 0],
      [3, 3],
      [6, 6],
      [9, 9],
    ]);
    expect(read.n).toBe(10);
    expect(read.closed).toBe(true);
  });

  it('holds one batch, not the range: a million points give batches of the requested size', async () => {
    let made = 0;
    function* many() {
      for (let i = 0; i < 1_000_000; i++) {
        made++;
        yield tv(i * 10, i);
      }
    }
    let batches = 0;
    let samples = 0;
    for await (const batch of interpolateBatches(
      { points: many() },
      { startNs: 0n, endNs: 10_000_000n, stepNs: 100n, fill: Fill.PREVIOUS },
      1000,
    )) {
      batches++;
      samples += batch.length;
      expect(batch.length).toBeLessThanOrEqual(1000);
    }
    expect(samples).toBe(100_000);
    expect(batches).toBe(100);
    // The last sample is at 9_999_900: the points after it are never produced.
    expect(made).toBe(999_991);
  });
});
