import { describe, expect, it } from '@jest/globals';
import { LatencyHistogram } from './histogram.js';
import { Recorder } from './recorder.js';
import { buildReport, formatProgress, formatReport, ms } from './report.js';

describe('LatencyHistogram', () => {
  it('reports percentiles of recorded milliseconds with microsecond resolution', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordMs(i / 100); // 0.01 … 10 ms
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(5, 1);
    expect(s.p90).toBeCloseTo(9, 1);
    expect(s.p99).toBeCloseTo(9.9, 1);
    expect(s.max).toBeCloseTo(10, 1);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
  });

  it('clamps negative and huge values instead of throwing, and is empty after reset', () => {
    const h = new LatencyHistogram();
    h.recordMs(-5);
    h.recordMs(1e12);
    expect(h.count).toBe(2);
    h.reset();
    expect(h.summary()).toMatchObject({ count: 0, p50: 0, max: 0 });
  });

  it('adds another histogram', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.recordMs(1);
    b.recordMs(3);
    a.add(b);
    expect(a.count).toBe(2);
    expect(a.summary().max).toBeCloseTo(3, 2);
  });
});

describe('Recorder and report', () => {
  it('counts successes and errors by code, and forgets them on reset (end of warmup)', () => {
    const rec = new Recorder();
    rec.success(1);
    rec.failure('UNAVAILABLE');
    rec.reset();
    rec.success(2);
    rec.success(4);
    rec.failure('NOT_FOUND');
    rec.failure('UNAVAILABLE');
    rec.failure('UNAVAILABLE');
    expect(rec.ok).toBe(2);
    expect(rec.total).toBe(5);
    expect(Object.fromEntries(rec.errors)).toEqual({ NOT_FOUND: 1, UNAVAILABLE: 2 });

    const report = buildReport('target get', rec, { concurrency: 8, durationS: 2 });
    expect(report).toMatchObject({ ok: 2, errorCount: 3, throughput: 2.5, concurrency: 8, notSent: 0 });
    expect(Object.keys(report.errors)).toEqual(['UNAVAILABLE', 'NOT_FOUND']); // most frequent first
    const text = formatReport(report);
    expect(text).toMatch(/p50 .*p90 .*p99 .*p99\.9 .*max/);
    expect(text).toMatch(/UNAVAILABLE ×2, NOT_FOUND ×1/);
    expect(text).toMatch(/closed loop/);
  });

  it('formats progress lines and milliseconds', () => {
    expect(formatProgress({ elapsedS: 3, rate: 1234.4, errors: 2, p99: 0.5 })).toMatch(
      /3s\]\s+1234 ops\/s\s+errors 2\s+p99 0\.500 ms/,
    );
    expect(ms(0.1234)).toBe('0.123 ms');
    expect(ms(12.345)).toBe('12.35 ms');
    expect(ms(1234)).toBe('1234 ms');
  });
});

describe('mergeReports', () => {
  it('adds counts and merges histograms exactly across rounds', async () => {
    const { buildReport, mergeReports } = await import('./report.js');
    const a = new Recorder();
    const b = new Recorder();
    for (let i = 1; i <= 100; i++) a.success(i / 10); // 0.1 … 10 ms
    for (let i = 1; i <= 100; i++) b.success(20 + i / 10); // 20.1 … 30 ms
    b.failure('UNAVAILABLE');
    const merged = mergeReports([
      buildReport('x', a, { concurrency: 4, durationS: 1 }),
      buildReport('x', b, { concurrency: 4, durationS: 1 }),
    ]);
    expect(merged).toMatchObject({
      ok: 200,
      errorCount: 1,
      durationS: 2,
      throughput: 100.5,
      errors: { UNAVAILABLE: 1 },
    });
    expect(merged.latencyMs.count).toBe(200);
    expect(merged.latencyMs.p50).toBeCloseTo(10, 0);
    expect(merged.latencyMs.max).toBeCloseTo(30, 0);
  });
});
