import { describe, expect, it } from '@jest/globals';
import { between, callsByMethod, parseMetrics, quantile, snapshot } from './prom.js';

// The shape of the proxy's GET /metrics (apps/proxy/src/metrics.ts), trimmed to three buckets.
const scrape = (ok: number, fast: number, slow: number) => `# HELP prism_requests_total Calls answered
# TYPE prism_requests_total counter
prism_requests_total{namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${ok}
prism_requests_total{namespace="cache",interface="keyvalue_basic",method="Set",code="INVALID_ARGUMENT"} 2
prism_requests_total{namespace="other",interface="keyvalue_basic",method="Get",code="OK"} 7
# TYPE prism_request_duration_seconds histogram
prism_request_duration_seconds_bucket{le="0.001",namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${fast}
prism_request_duration_seconds_bucket{le="0.01",namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${fast}
prism_request_duration_seconds_bucket{le="0.1",namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${fast + slow}
prism_request_duration_seconds_bucket{le="+Inf",namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${fast + slow}
prism_request_duration_seconds_sum{namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} 0.5
prism_request_duration_seconds_count{namespace="cache",interface="keyvalue_basic",method="Get",code="OK"} ${fast + slow}
process_cpu_seconds_total 1.5
`;

describe('parseMetrics', () => {
  it('reads names, labels (with escapes) and values; skips comments', () => {
    const samples = parseMetrics(
      '# HELP x y\nx{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 3\nplain 4 1700000000000\ninf{le="+Inf"} +Inf\nbad line\n',
    );
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: 'back\\slash', c: 'new\nline' }, value: 3 },
      { name: 'plain', labels: {}, value: 4 },
      { name: 'inf', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
    ]);
  });
});

describe('rate and p99 between two scrapes', () => {
  it('computes the rate from counter deltas and p99 from bucket deltas, per namespace', () => {
    const a = snapshot(parseMetrics(scrape(100, 100, 0)), 0);
    // 10 s later: 100 more calls, 90 under 1 ms and 10 between 10 and 100 ms.
    const b = snapshot(parseMetrics(scrape(200, 190, 10)), 10_000);
    const points = between(a, b);
    expect(points.get('cache')?.rate).toBeCloseTo(10);
    expect(points.get('cache')?.calls).toBe(100);
    // rank 99 of 100 falls in (0.01, 0.1]: 9 of its 10 observations → 0.01 + 0.09 · 0.9 s.
    expect(points.get('cache')?.p99Ms).toBeCloseTo(91);
    expect(points.get('other')).toEqual({ rate: 0, p99Ms: undefined, calls: 0 });
  });

  it('treats a counter going down as a restart of the proxy', () => {
    const a = snapshot(parseMetrics(scrape(500, 500, 0)), 0);
    const b = snapshot(parseMetrics(scrape(20, 20, 0)), 1000);
    expect(between(a, b).get('cache')?.rate).toBe(22); // 20 Get + the 2 Set of the new process
  });

  it('quantile: nothing observed is undefined; the +Inf bucket gives the highest finite bound', () => {
    const now = new Map([
      [0.1, 0],
      [1, 0],
      [Number.POSITIVE_INFINITY, 5],
    ]);
    expect(quantile(0.99, now, now)).toBeUndefined();
    expect(quantile(0.99, now, undefined)).toBe(1);
  });

  it('callsByMethod counts one namespace by method and code', () => {
    expect(callsByMethod(parseMetrics(scrape(3, 3, 0)), 'cache')).toEqual(
      new Map([
        ['Get', new Map([['OK', 3]])],
        ['Set', new Map([['INVALID_ARGUMENT', 2]])],
      ]),
    );
  });
});
