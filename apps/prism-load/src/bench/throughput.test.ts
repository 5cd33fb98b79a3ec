import { describe, expect, it } from '@jest/globals';
import { proxyYaml } from './config.js';
import { parseRedisBenchmarkCsv } from './redis-benchmark.js';
import type { BenchResults, Measurement, ThroughputRow } from './results.js';
import { renderMarkdown, renderThroughput } from './results.js';
import { targets } from './targets.js';
import { fromH2load, mergeMeasurements, reason, rotate, type Side } from './throughput.js';

const m = (okPerS: number, over: Partial<Measurement> = {}): Measurement => ({
  okPerS,
  ok: Math.round(okPerS * 2),
  failed: 0,
  durationS: 2,
  latencyMs: { mean: 1, sd: 0.5, max: 5 },
  statusCodes: { '2xx': Math.round(okPerS * 2) },
  ...over,
});
const row = (
  id: string,
  name: string,
  measured?: Measurement,
  over: Partial<ThroughputRow> = {},
): ThroughputRow => ({
  id,
  name,
  generator: 'h2load -c1 -m64',
  ...(measured ? { measured } : { skipped: 'did not start' }),
  ...over,
});

describe('mergeMeasurements', () => {
  it('adds counts, weights ok/s by duration and pools mean and sd', () => {
    const a = m(1000, {
      durationS: 1,
      ok: 1000,
      latencyMs: { mean: 1, sd: 0, max: 3 },
      statusCodes: { '2xx': 1000 },
    });
    const b = m(3000, {
      durationS: 1,
      ok: 3000,
      latencyMs: { mean: 3, sd: 0, max: 9 },
      statusCodes: { '2xx': 3000 },
    });
    const merged = mergeMeasurements([a, b]) as Measurement;
    expect(merged.okPerS).toBe(2000);
    expect(merged.ok).toBe(4000);
    expect(merged.latencyMs?.mean).toBeCloseTo(2.5, 9);
    // Two point masses at 1 ms (¼) and 3 ms (¾): sd = sqrt(¼·1.5² + ¾·0.5²).
    expect(merged.latencyMs?.sd).toBeCloseTo(Math.sqrt(0.25 * 2.25 + 0.75 * 0.25), 9);
    expect(merged.latencyMs?.max).toBe(9);
    expect(merged.statusCodes?.['2xx']).toBe(a.ok + b.ok);
  });

  it('takes ok/s from h2load net of failures', () => {
    const s = fromH2load(
      {
        finishedS: 3,
        reqPerS: 1000,
        requests: {
          total: 2000,
          started: 2000,
          done: 2000,
          succeeded: 1500,
          failed: 500,
          errored: 0,
          timeout: 0,
        },
        statusCodes: { '2xx': 1500, '3xx': 0, '4xx': 500, '5xx': 0 },
        latencyMs: { min: 0.1, max: 4, mean: 1, sd: 0.2 },
      },
      2,
    );
    expect(s).toMatchObject({ okPerS: 750, ok: 1500, failed: 500, durationS: 2 });
  });
});

describe('rotate', () => {
  const bench = { durationS: 2, warmupS: 1, valueSize: 1024, keys: 1, rounds: 2, log: () => {} };
  const side = (id: string, over: Partial<Side> = {}): Side & { rounds: number[] } => {
    const rounds: number[] = [];
    return {
      id,
      name: id,
      generator: 'h2load -c1 -m64',
      rounds,
      round: async (r) => {
        rounds.push(r.durationS);
      },
      result: () => m(100),
      ...over,
    };
  };

  it('interleaves rounds and records rows that cannot start or fail a check instead of throwing', async () => {
    const order: string[] = [];
    const track = (id: string, over: Partial<Side> = {}) =>
      side(id, { round: async () => void order.push(id), ...over });
    let checks = 0;
    const rows = await rotate(bench, [
      track('a', { check: async () => 'grpc-status 0' }),
      track('rejected', {
        prepare: () =>
          Promise.reject(
            new Error(
              'proxy exited with 1:\ninvalid Prism config f.yaml (1 problem):\n  f.yaml:3:3: proxy.tracing: unknown key "tracing"',
            ),
          ),
      }),
      track('bad-before', { check: () => Promise.reject(new Error('grpc-status INVALID_ARGUMENT')) }),
      track('bad-after', {
        check: async () => {
          if (checks++) throw new Error('grpc-status UNAVAILABLE');
          return 'grpc-status 0';
        },
      }),
    ]);
    expect(order).toEqual(['a', 'bad-after', 'a', 'bad-after']);
    expect(rows.map((r) => [r.id, r.skipped, r.check])).toEqual([
      ['a', undefined, { ok: true, detail: 'grpc-status 0 (before and after)' }],
      ['rejected', 'proxy config rejected: proxy.tracing: unknown key "tracing"', undefined],
      ['bad-before', 'check before the run failed: grpc-status INVALID_ARGUMENT', undefined],
      ['bad-after', undefined, { ok: false, detail: 'after the run: grpc-status UNAVAILABLE' }],
    ]);
    expect(rows[0]?.measured?.okPerS).toBe(100);
  });

  it('splits the duration over the rounds and closes every row', async () => {
    let closed = 0;
    const s = side('x', { close: async () => void closed++ });
    await rotate(bench, [
      s,
      side('y', { prepare: () => Promise.reject(new Error('no')), close: async () => void closed++ }),
    ]);
    expect(s.rounds).toEqual([1, 1]);
    expect(closed).toBe(2);
  });
});

describe('reason', () => {
  it('summarises a proxy that rejected its config', () => {
    const err = new Error(
      'proxy exited with 1:\ninvalid Prism config /tmp/x/h2-obs-off.yaml (1 problem):\n  /tmp/x/h2-obs-off.yaml:3:3: proxy.metrics: unknown key "metrics"; allowed keys: listen, cors\n',
    );
    expect(reason(err)).toBe(
      'proxy config rejected: proxy.metrics: unknown key "metrics"; allowed keys: listen, cors',
    );
    expect(reason(new Error('connect ECONNREFUSED 127.0.0.1:1\nstack'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:1 — stack',
    );
  });
});

describe('throughput targets and table', () => {
  const rows: ThroughputRow[] = [
    row('tput-echo', 'bare node:http2 echo', m(40_000)),
    row('tput-mem', 'Prism → MemStore', m(38_000), {
      baseline: 'tput-echo',
      check: { ok: true, detail: 'grpc-status 0' },
    }),
    row('tput-mem-deadline', 'Prism → MemStore, grpc-timeout: 5S', m(30_000), { baseline: 'tput-mem' }),
    row('tput-obs-off', 'metrics off', undefined),
    row('tput-obs-on', 'metrics on + tracing 1%', m(20_000), { baseline: 'tput-obs-off' }),
    row('tput-sidecar', 'sidecar', m(30_000), {
      baseline: 'tput-mem',
      check: { ok: false, detail: 'after the run: grpc-status UNAVAILABLE' },
    }),
  ];
  const t = targets([], { 'proxy RSS after the h2load runs (MB)': 120 }, rows);
  const byName = (s: string) => t.find((x) => x.name.startsWith(s));

  it('checks each ratio, marking missing rows as not run and failed checks as missed', () => {
    expect(byName('MemStore Get through Prism vs bare')).toMatchObject({
      met: true,
      measured: expect.stringMatching(/^95% /),
    });
    expect(byName('Deadline on the fast path')).toMatchObject({ met: false, detail: 'short by 11%' });
    expect(byName('Metrics on')).toMatchObject({
      met: undefined,
      measured: 'not run: metrics off: did not start',
    });
    expect(byName('Sidecar plugin')).toMatchObject({
      met: false,
      detail: expect.stringMatching(/correctness check failed on sidecar/),
    });
    expect(byName('Proxy RSS after the h2load runs')).toMatchObject({ met: true, measured: '120 MB' });
  });

  it('reports a metrics + tracing cost against its upper bound', () => {
    const cost = targets([], {}, [row('tput-obs-off', 'off', m(10_000)), row('tput-obs-on', 'on', m(9_600))]);
    expect(cost.find((x) => x.name.startsWith('Metrics on'))).toMatchObject({
      met: true,
      measured: expect.stringMatching(/^cost 4% /),
    });
  });

  it('renders one table with each row’s generator, ratio, check and not-run reason', () => {
    const md = renderThroughput(rows).join('\n');
    expect(md).toContain('| Prism → MemStore | h2load -c1 -m64 | 38,000 | 95% of bare node:http2 echo |');
    expect(md).toContain('| metrics off | h2load -c1 -m64 | not run: did not start |');
    expect(md).toContain('**failed**: after the run: grpc-status UNAVAILABLE');
    const cols = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    const lines = md.split('\n').filter((l) => l.startsWith('| '));
    for (const l of lines) expect(cols(l)).toBe(cols(lines[0] as string));
  });

  it('renders met / missed in RESULTS.md and still renders results without a throughput table', () => {
    const base: BenchResults = {
      startedAt: '2025-01-01T00:00:00.000Z',
      durationS: 1,
      command: 'pnpm bench',
      machine: {
        cpus: 2,
        cpuModel: 'x',
        memoryGb: 1,
        node: 'v22',
        platform: 'Linux',
        loadAvgAtStart: [0],
        loadAvgAtEnd: [0],
      },
      scenarios: [],
      figures: {},
      targets: t,
    };
    const md = renderMarkdown({ ...base, throughput: rows }, '');
    expect(md).toContain('## Throughput');
    expect(md).toMatch(/\| met \|$/m);
    expect(md).toMatch(/\| \*\*missed\*\* \|$/m);
    expect(renderMarkdown(base, '')).not.toContain('## Throughput');
  });
});

describe('proxyYaml', () => {
  it('writes proxy.metrics and proxy.tracing only when asked', () => {
    expect(proxyYaml({}, { memstoreOnly: true })).not.toMatch(/metrics|tracing/);
    const yaml = proxyYaml(
      {},
      {
        memstoreOnly: true,
        metrics: true,
        tracing: { otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 0.01 },
      },
    );
    expect(yaml).toContain('  metrics: { enabled: true }\n');
    expect(yaml).toContain(
      '  tracing: { otlp_endpoint: "http://127.0.0.1:4318/v1/traces", sample_ratio: 0.01 }\nnamespaces:\n',
    );
    expect(proxyYaml({}, { metrics: false })).toContain('  metrics: { enabled: false }\n');
  });
});

describe('parseRedisBenchmarkCsv', () => {
  it('reads a recorded redis-benchmark --csv run (Redis 7)', () => {
    const csv = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"GET","61387.36","0.539","0.208","0.527","0.663","0.823","5.271"
`;
    expect(parseRedisBenchmarkCsv(csv)).toEqual([
      {
        test: 'GET',
        rps: 61387.36,
        avgMs: 0.539,
        minMs: 0.208,
        p50Ms: 0.527,
        p95Ms: 0.663,
        p99Ms: 0.823,
        maxMs: 5.271,
      },
    ]);
    expect(() => parseRedisBenchmarkCsv('ERR\n')).toThrow(/cannot parse redis-benchmark output/);
  });
});
