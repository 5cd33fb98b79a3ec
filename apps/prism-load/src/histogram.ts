import hdr from 'hdr-histogram-js';

/** Latency percentiles in milliseconds (recorded in microseconds, 3 significant digits). */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Highest latency tracked: 10 minutes, in microseconds. Larger values are clamped. */
const HIGHEST_US = 600_000_000;

/**
 * An HDR histogram of latencies. Values go in as milliseconds (what `performance.now()` gives) and are
 * stored as whole microseconds, so sub-millisecond gateways are still resolved.
 */
export class LatencyHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });

  /** Records one latency in milliseconds (negative values, from clock skew, count as 0). */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.h.recordValue(Math.max(1, Math.min(HIGHEST_US, us)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds every value of another histogram. */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  /** The histogram in the standard compressed base64 HDR form (microseconds), for storing or merging. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** A histogram from {@link encode}'s output. */
  static decode(encoded: string): LatencyHistogram {
    const out = new LatencyHistogram();
    out.h.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
    return out;
  }

  reset(): void {
    this.h.reset();
  }

  /** The value at a percentile (0–100), in milliseconds. */
  percentileMs(p: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const empty = this.h.totalCount === 0;
    return {
      count: this.h.totalCount,
      mean: empty ? 0 : this.h.mean / 1000,
      p50: this.percentileMs(50),
      p90: this.percentileMs(90),
      p99: this.percentileMs(99),
      p999: this.percentileMs(99.9),
      max: empty ? 0 : this.h.maxValue / 1000,
    };
  }
}
