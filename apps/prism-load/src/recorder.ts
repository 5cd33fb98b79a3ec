import { LatencyHistogram } from './histogram.js';

/** One second (or so) of progress, for the live line. */
export interface ProgressSample {
  readonly elapsedS: number;
  /** Completed operations per second since the previous sample. */
  readonly rate: number;
  readonly errors: number;
  /** p99 in ms over everything recorded so far (after warmup). */
  readonly p99: number;
}

/**
 * Collects outcomes: latencies of successful operations in an HDR histogram, failures counted by
 * status code. `reset()` ends the warmup.
 */
export class Recorder {
  readonly histogram = new LatencyHistogram();
  /** Open loop: how late each call was actually sent after its intended time (timer granularity). */
  readonly sendLag = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  ok = 0;
  private errorCount = 0;
  private lastTotal = 0;
  private lastAt = performance.now();
  private startedAt = performance.now();

  /** A successful operation that took `ms` milliseconds. */
  success(ms: number): void {
    this.ok++;
    this.histogram.recordMs(ms);
  }

  /** A failed operation, by status code (e.g. `UNAVAILABLE`, `TRANSPORT`). */
  failure(code: string): void {
    this.errorCount++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  get total(): number {
    return this.ok + this.errorCount;
  }

  get errorTotal(): number {
    return this.errorCount;
  }

  /** Forgets everything recorded so far (end of warmup) and restarts the clock. */
  reset(): void {
    this.histogram.reset();
    this.sendLag.reset();
    this.errors.clear();
    this.ok = 0;
    this.errorCount = 0;
    this.lastTotal = 0;
    this.startedAt = this.lastAt = performance.now();
  }

  /** Seconds since the start (or the end of warmup). */
  elapsedS(now = performance.now()): number {
    return (now - this.startedAt) / 1000;
  }

  /** A progress sample covering the time since the previous call. */
  sample(now = performance.now()): ProgressSample {
    const total = this.total;
    const dt = (now - this.lastAt) / 1000;
    const rate = dt > 0 ? (total - this.lastTotal) / dt : 0;
    this.lastTotal = total;
    this.lastAt = now;
    return {
      elapsedS: this.elapsedS(now),
      rate,
      errors: this.errorCount,
      p99: this.histogram.percentileMs(99),
    };
  }
}
