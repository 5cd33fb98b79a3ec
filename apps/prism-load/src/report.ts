import { LatencyHistogram, type LatencySummary } from './histogram.js';
import type { ProgressSample, Recorder } from './recorder.js';

/** The result of one load run (also the `--json` output). */
export interface LoadReport {
  /** What was driven, e.g. `http://127.0.0.1:8980 grpc get` or `redis GET (node-redis)`. */
  readonly label: string;
  readonly concurrency: number;
  /** Open-loop target rate, when one was set. */
  readonly rps: number | undefined;
  readonly durationS: number;
  /** Successful operations (or delivered messages for consumers). */
  readonly ok: number;
  /** Failures by status code. */
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  /** Completed operations (ok + failed) per second. */
  readonly throughput: number;
  /** Open loop: calls that were due but not sent before the end because the target fell behind. */
  readonly notSent: number;
  /** Latency of successful operations in milliseconds (from the intended send time in open loop). */
  readonly latencyMs: LatencySummary;
  /** The latency histogram itself (compressed base64 HDR, microseconds): lets runs be merged exactly. */
  readonly histogram?: string;
  /**
   * Open loop: how late calls left after their intended send time (Node timers fire with ~1 ms
   * granularity). It is part of every open-loop latency, on the direct and the proxied side alike.
   */
  readonly sendLagMs?: { readonly p50: number; readonly p99: number };
}

/** Builds a report from a recorder at the end of a run. */
export function buildReport(
  label: string,
  rec: Recorder,
  run: { concurrency: number; rps?: number; durationS: number; notSent?: number },
): LoadReport {
  const errors = Object.fromEntries([...rec.errors.entries()].sort((a, b) => b[1] - a[1]));
  const durationS = run.durationS > 0 ? run.durationS : 1;
  return {
    label,
    concurrency: run.concurrency,
    rps: run.rps,
    durationS: round(durationS, 3),
    ok: rec.ok,
    errors,
    errorCount: rec.errorTotal,
    throughput: round(rec.total / durationS, 1),
    notSent: run.notSent ?? 0,
    latencyMs: rec.histogram.summary(),
    histogram: rec.histogram.count > 0 ? rec.histogram.encode() : undefined,
    sendLagMs:
      rec.sendLag.count > 0
        ? { p50: rec.sendLag.percentileMs(50), p99: rec.sendLag.percentileMs(99) }
        : undefined,
  };
}

/** Merges reports of the same load run in several rounds: counts add up, histograms merge exactly. */
export function mergeReports(reports: readonly LoadReport[]): LoadReport {
  const first = reports[0];
  if (!first) throw new Error('nothing to merge');
  if (reports.length === 1) return first;
  const h = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let errorCount = 0;
  let durationS = 0;
  let notSent = 0;
  for (const r of reports) {
    if (r.histogram) h.add(LatencyHistogram.decode(r.histogram));
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    ok += r.ok;
    errorCount += r.errorCount;
    durationS += r.durationS;
    notSent += r.notSent;
  }
  return {
    ...first,
    durationS: round(durationS, 3),
    ok,
    errors,
    errorCount,
    throughput: round((ok + errorCount) / durationS, 1),
    notSent,
    latencyMs: h.summary(),
    histogram: h.count > 0 ? h.encode() : undefined,
    // Lag histograms are not kept: report the worst round.
    sendLagMs: reports.some((r) => r.sendLagMs)
      ? {
          p50: Math.max(...reports.map((r) => r.sendLagMs?.p50 ?? 0)),
          p99: Math.max(...reports.map((r) => r.sendLagMs?.p99 ?? 0)),
        }
      : undefined,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Milliseconds with a precision that suits their size. */
export function ms(n: number): string {
  return n < 1 ? `${n.toFixed(3)} ms` : n < 100 ? `${n.toFixed(2)} ms` : `${n.toFixed(0)} ms`;
}

/** The live line printed every second on stderr. */
export function formatProgress(s: ProgressSample): string {
  return `[${s.elapsedS.toFixed(0).padStart(3)}s] ${Math.round(s.rate).toString().padStart(7)} ops/s  errors ${s.errors}  p99 ${ms(s.p99)}`;
}

/** The human-readable final report. */
export function formatReport(r: LoadReport): string {
  const l = r.latencyMs;
  const lines = [
    `${r.label}`,
    `  concurrency ${r.concurrency}${r.rps ? `, open loop at ${r.rps} ops/s` : ', closed loop'}, ${r.durationS.toFixed(1)} s`,
    `  throughput  ${r.throughput.toFixed(0)} ops/s  (${r.ok} ok, ${r.errorCount} errors${r.notSent ? `, ${r.notSent} not sent` : ''})`,
    `  latency     p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}`,
  ];
  if (r.sendLagMs)
    lines.push(
      `  send lag    p50 ${ms(r.sendLagMs.p50)}  p99 ${ms(r.sendLagMs.p99)}  (intended → actual send; included above)`,
    );
  const errs = Object.entries(r.errors);
  if (errs.length) lines.push(`  errors      ${errs.map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  return lines.join('\n');
}
