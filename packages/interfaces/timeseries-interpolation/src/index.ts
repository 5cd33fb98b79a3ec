import {
  Fill,
  type InterpolateRequest,
  TimeSeriesInterpolationInterface,
} from '@prism/proto/prism/timeseries/v1/timeseries_interpolation_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';
import { checkSeries, checkTags, checkTimeRange, compareBigints } from '@prism/timeseries-basic';

export * from '@prism/proto/prism/timeseries/v1/timeseries_interpolation_pb';

/** Most samples one Interpolate may produce. */
export const MAX_SAMPLES = 100_000;
/** Samples per streamed Interpolate batch (every backend batches alike). */
export const SAMPLE_BATCH_SIZE = 1000;

/** How many samples start, start + step, ... < end gives (start < end, step > 0). */
export const sampleCount = (startNs: bigint, endNs: bigint, stepNs: bigint): bigint =>
  (endNs - startNs + stepNs - 1n) / stepNs;

/** A point of one series instance as interpolation reads it. */
export interface TimedValue {
  readonly timestampNs: bigint;
  readonly value: number;
}

/** One sample: `value` undefined = null (the fill could give none). */
export interface SampleValue {
  timestampNs: bigint;
  value?: number;
}

/** What a backend fetches for one Interpolate: the instance's points around and in [start_ns, end_ns). */
export interface InterpolationInput {
  /** The latest point before start_ns (within retention), if any. */
  readonly before?: TimedValue;
  /** The points with start_ns <= timestamp_ns < end_ns (any order; one per timestamp). */
  readonly points: readonly TimedValue[];
  /** The earliest point at or after end_ns, if any. */
  readonly after?: TimedValue;
}

function checkInterpolate(req: InterpolateRequest): void {
  checkSeries(req.series);
  checkTags(req.tags);
  checkTimeRange(req.startNs, req.endNs);
  if (req.stepNs <= 0n) throw invalidArgument(`step_ns must be greater than 0 (got ${req.stepNs})`);
  const n = sampleCount(req.startNs, req.endNs, req.stepNs);
  if (n > BigInt(MAX_SAMPLES))
    throw invalidArgument(
      `the range gives ${n} samples of step_ns ${req.stepNs}; at most ${MAX_SAMPLES} (widen step_ns or narrow the range)`,
    );
  if (req.fill === Fill.UNSPECIFIED) throw invalidArgument('fill is required (PREVIOUS, LINEAR or NULL)');
  if (req.fill !== Fill.PREVIOUS && req.fill !== Fill.LINEAR && req.fill !== Fill.NULL)
    throw invalidArgument(`fill ${req.fill} is unknown`);
}

type SampleRequest = Pick<InterpolateRequest, 'startNs' | 'endNs' | 'stepNs' | 'fill'>;

/**
 * The reference Interpolate as a one-pass state machine over points in ascending timestamp order (one per
 * timestamp), holding O(1) state: the next sample time and the latest point before it. Samples are at
 * start_ns, start_ns + step_ns, ... < end_ns. A sample time with a point takes its value; otherwise
 * FILL_PREVIOUS takes the latest point before it (also `before`), FILL_LINEAR interpolates between the latest
 * point before and the earliest after it (also `after`), FILL_NULL gives null; null too when the needed
 * neighbour is missing. Feed points with {@link Resampler.point}, then call {@link Resampler.finish}.
 */
export class Resampler {
  private t: bigint;
  private prev: TimedValue | undefined;

  constructor(
    private readonly request: SampleRequest,
    before?: TimedValue,
  ) {
    this.t = request.startNs;
    this.prev = before;
  }

  /** Whether every sample is out: later points cannot change anything (a reader may stop). */
  get done(): boolean {
    return this.t >= this.request.endNs;
  }

  /** The samples the next point `p` decides (those before it, and its own); `p` is later than the last. */
  *point(p: TimedValue): Generator<SampleValue> {
    const { endNs, stepNs } = this.request;
    while (this.t < endNs && this.t < p.timestampNs) {
      yield this.fill(this.t, p);
      this.t += stepNs;
    }
    if (this.t < endNs && this.t === p.timestampNs) {
      yield { timestampNs: this.t, value: p.value };
      this.t += stepNs;
    }
    this.prev = p;
  }

  /** The remaining samples after the last point; `after` is the earliest point at or after end_ns. */
  *finish(after?: TimedValue): Generator<SampleValue> {
    const { endNs, stepNs } = this.request;
    while (this.t < endNs) {
      yield this.fill(this.t, after);
      this.t += stepNs;
    }
  }

  /** The sample at `t`, which has no point of its own; `next` is the earliest point after `t`. */
  private fill(t: bigint, next: TimedValue | undefined): SampleValue {
    const prev = this.prev;
    switch (this.request.fill) {
      case Fill.PREVIOUS:
        return prev ? { timestampNs: t, value: prev.value } : { timestampNs: t };
      case Fill.LINEAR: {
        if (!prev || !next) return { timestampNs: t };
        const fraction = Number(t - prev.timestampNs) / Number(next.timestampNs - prev.timestampNs);
        return { timestampNs: t, value: prev.value + (next.value - prev.value) * fraction };
      }
      default:
        return { timestampNs: t };
    }
  }
}

/** An instance's points for {@link resample}: `points` ascending by timestamp, one per timestamp. */
export interface SortedInterpolationInput<P extends Iterable<TimedValue> | AsyncIterable<TimedValue>> {
  /** The latest point before start_ns (within retention), if any. */
  readonly before?: TimedValue;
  /** The points with start_ns <= timestamp_ns < end_ns, ascending. */
  readonly points: P;
  /** The earliest point at or after end_ns, if any. */
  readonly after?: TimedValue;
}

/** The samples of {@link Resampler} over sorted points, read once and only as far as needed. */
export function* resample(
  input: SortedInterpolationInput<Iterable<TimedValue>>,
  request: SampleRequest,
): Generator<SampleValue> {
  const r = new Resampler(request, input.before);
  for (const p of input.points) {
    yield* r.point(p);
    if (r.done) return;
  }
  yield* r.finish(input.after);
}

/**
 * Interpolate over points a backend streams in ascending order (e.g. keyset pages): batches of at most
 * `batchSize` samples, holding one batch and O(1) state; stops reading points once every sample is out
 * (leaving the loop closes the source).
 */
export async function* interpolateBatches(
  input: SortedInterpolationInput<Iterable<TimedValue> | AsyncIterable<TimedValue>>,
  request: SampleRequest,
  batchSize = SAMPLE_BATCH_SIZE,
): AsyncGenerator<SampleValue[]> {
  const r = new Resampler(request, input.before);
  let batch: SampleValue[] = [];
  for await (const p of input.points) {
    for (const s of r.point(p)) {
      batch.push(s);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (r.done) break;
  }
  for (const s of r.finish(input.after)) {
    batch.push(s);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The reference Interpolate over points in any order (see {@link Resampler}): every sample at once. For
 * tests and small inputs; backends stream with {@link interpolateBatches} or {@link resample}.
 */
export function interpolateSamples(input: InterpolationInput, request: SampleRequest): SampleValue[] {
  const points = [...input.points].sort((a, b) => compareBigints(a.timestampNs, b.timestampNs));
  const out: SampleValue[] = [];
  for (const s of resample({ ...input, points }, request)) out.push(s);
  return out;
}

/** The timeseries_interpolation flavour: one series instance resampled at a fixed step, gaps filled. */
export const TimeSeriesInterpolation = defineInterface(
  'timeseries_interpolation',
  TimeSeriesInterpolationInterface,
  { interpolate: 'read' },
  { interpolate: checkInterpolate },
);

/** What an adapter implements for timeseries_interpolation. */
export type TimeSeriesInterpolationImpl = InterfaceImpl<typeof TimeSeriesInterpolationInterface>;
