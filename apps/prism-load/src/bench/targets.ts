import { ms } from '../report.js';
import {
  compare,
  findRow,
  type Scenario,
  type Target,
  type ThroughputRow,
  throughputRatio,
} from './results.js';

const find = (scenarios: readonly Scenario[], id: string) => scenarios.find((s) => s.id === id && !s.skipped);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${ms(Math.abs(n))}`;

/**
 * A throughput ratio target: `id` over `baseId` from the throughput table. `cost` turns the ratio into a
 * cost (1 − ratio) checked against an upper bound instead of a lower one.
 */
function ratioTarget(
  rows: readonly ThroughputRow[],
  name: string,
  id: string,
  baseId: string,
  bound: number,
  cost = false,
): Target {
  const target = cost
    ? `≤ ${pct(bound)} of throughput`
    : `≥ ${pct(bound)} of ${rows.find((r) => r.id === baseId)?.name ?? baseId}`;
  const ratio = throughputRatio(rows, id, baseId);
  const a = findRow(rows, id);
  const b = findRow(rows, baseId);
  if (ratio === undefined || !a?.measured || !b?.measured) {
    const missing = [id, baseId]
      .map((x) => rows.find((r) => r.id === x))
      .map((r, i) => (r?.skipped ? `${r.name}: ${r.skipped}` : r ? undefined : `${[id, baseId][i]} not run`))
      .filter(Boolean);
    return {
      name,
      target,
      measured: `not run${missing.length ? `: ${missing.join('; ')}` : ''}`,
      met: undefined,
    };
  }
  const figures = `${Math.round(a.measured.okPerS).toLocaleString('en-US')} vs ${Math.round(b.measured.okPerS).toLocaleString('en-US')} ok/s`;
  const measured = cost ? `cost ${pct(1 - ratio)} (${figures})` : `${pct(ratio)} (${figures})`;
  const badCheck = [a, b].find((r) => r.check && !r.check.ok);
  if (badCheck)
    return {
      name,
      target,
      measured,
      met: false,
      detail: `correctness check failed on ${badCheck.name}: ${badCheck.check?.detail}`,
    };
  const met = cost ? 1 - ratio <= bound : ratio >= bound;
  return {
    name,
    target,
    measured,
    met,
    ...(!met && { detail: cost ? `over by ${pct(1 - ratio - bound)}` : `short by ${pct(bound - ratio)}` }),
  };
}

/** The throughput-table targets (h2load rows) and the proxy's RSS after them. */
function throughputTargets(
  rows: readonly ThroughputRow[],
  figures: Readonly<Record<string, number>>,
): Target[] {
  if (!rows.length) return [];
  const rss = figures['proxy RSS after the h2load runs (MB)'];
  return [
    ratioTarget(
      rows,
      'MemStore Get through Prism vs bare node:http2 echo (h2load -c1 -m64)',
      'tput-mem',
      'tput-echo',
      0.9,
    ),
    ratioTarget(
      rows,
      'Deadline on the fast path: Get with grpc-timeout: 5S vs without (h2load -c1 -m64)',
      'tput-mem-deadline',
      'tput-mem',
      0.9,
    ),
    ratioTarget(
      rows,
      'Metrics on + 1% tracing vs metrics off, MemStore Get (h2load -c1 -m64)',
      'tput-obs-on',
      'tput-obs-off',
      0.05,
      true,
    ),
    ratioTarget(
      rows,
      'JWT auth on (cached validation) vs off, MemStore Get (h2load -c1 -m64)',
      'tput-auth-jwt',
      'tput-auth-off',
      0.1,
      true,
    ),
    ratioTarget(
      rows,
      'Sidecar plugin vs in-process, MemStore Get (h2load -c1 -m64)',
      'tput-sidecar',
      'tput-mem',
      0.7,
    ),
    {
      name: 'Proxy RSS after the h2load runs (VmRSS)',
      target: '≤ 150 MB',
      measured: rss ? `${rss.toFixed(0)} MB` : 'not run',
      met: rss ? rss <= 150 : undefined,
    },
  ];
}

/** Checks the issue's targets against what this run measured. */
export function targets(
  scenarios: readonly Scenario[],
  figures: Readonly<Record<string, number>>,
  throughput: readonly ThroughputRow[] = [],
): Target[] {
  const out: Target[] = [...throughputTargets(throughput, figures)];
  const ceiling = find(scenarios, 'ceiling-c64');
  const c = ceiling && compare(ceiling);
  out.push(
    c && ceiling.proxy && ceiling.direct
      ? {
          name: 'MemStore Get through one proxy process vs bare http2 echo, c64',
          target: '≥ 70% of echo throughput, p99 < 10 ms',
          measured: `${pct(c.ratio)} (${Math.round(ceiling.proxy.throughput)} vs ${Math.round(ceiling.direct.throughput)} req/s), p99 ${ms(ceiling.proxy.latencyMs.p99)}`,
          met: c.ratio >= 0.7 && ceiling.proxy.latencyMs.p99 < 10,
          detail: c.ratio < 0.7 ? `short by ${pct(0.7 - c.ratio)} of echo` : undefined,
        }
      : { name: 'MemStore Get vs echo, c64', target: '≥ 70%', measured: 'not run', met: undefined },
  );
  const tight = figures['memstore adapter alone, tight loop (gets/s)'];
  out.push({
    name: 'MemStore adapter alone, in-process',
    target: '≥ 1,000,000 gets/s',
    measured: tight ? `${Math.round(tight).toLocaleString('en-US')} gets/s` : 'not run',
    met: tight ? tight >= 1_000_000 : undefined,
  });
  const redis = find(scenarios, 'redis-get-1000rps');
  const r = redis && compare(redis);
  out.push({
    name: 'Redis Get 1 KB at 1,000 RPS, added latency',
    target: 'p50 ≤ 0.25 ms, p99 ≤ 1 ms',
    measured: r ? `p50 ${signed(r.addedP50)}, p99 ${signed(r.addedP99)}` : 'not run',
    met: r ? r.addedP50 <= 0.25 && r.addedP99 <= 1 : undefined,
  });
  const flood = find(scenarios, 'nats-pubsub-c64');
  out.push({
    name: 'NATS publish → deliver through the proxy, throughput',
    target: '≥ 10,000 msg/s',
    measured: flood?.proxy
      ? `${Math.round(flood.proxy.throughput).toLocaleString('en-US')} msg/s`
      : 'not run',
    met: flood?.proxy ? flood.proxy.throughput >= 10_000 : undefined,
  });
  const rate = find(scenarios, 'nats-pubsub-1000rps');
  out.push({
    name: 'NATS publish → deliver through the proxy at 1,000 msg/s',
    target: 'p99 < 10 ms',
    measured: rate?.proxy ? `p99 ${ms(rate.proxy.latencyMs.p99)}` : 'not run',
    met: rate?.proxy ? rate.proxy.latencyMs.p99 < 10 : undefined,
  });
  const idleMem = figures['proxy RSS idle, MemStore only (MB)'];
  const idleAll = figures['proxy RSS idle, all bench namespaces (MB)'];
  out.push({
    name: 'Proxy RSS idle',
    target: '≤ 100 MB',
    measured: idleMem ? `${idleMem.toFixed(0)} MB (MemStore-only config)` : 'not run',
    met: idleMem ? idleMem <= 100 : undefined,
    detail: idleAll
      ? `${idleAll.toFixed(0)} MB with the Redis, PostgreSQL and NATS adapters loaded and connected`
      : undefined,
  });
  const bigIdle = figures['large requests: proxy RSS idle (MB)'];
  const bigPeak = figures['large requests: proxy RSS peak (MB)'];
  const bigAfter = figures['large requests: proxy RSS 10 s after (MB)'];
  out.push({
    name: 'Memory back near idle 10 s after 32 concurrent 15 MiB requests',
    target: '≤ idle + 64 MB',
    measured:
      bigAfter !== undefined && bigIdle !== undefined
        ? `${bigAfter.toFixed(0)} MB (idle ${bigIdle.toFixed(0)} MB)`
        : 'not run',
    met: bigAfter !== undefined && bigIdle !== undefined ? bigAfter <= bigIdle + 64 : undefined,
    detail:
      bigPeak !== undefined
        ? `peak ${bigPeak.toFixed(0)} MB; ${figures['large requests: answered RESOURCE_EXHAUSTED (of 32)'] ?? 0} of 32 refused by max_inflight_request_bytes (256 MiB)`
        : undefined,
  });
  const cold = figures['proxy cold start to SERVING, MemStore only, bundled, median of 10 (ms)'];
  const coldTsc = figures['proxy cold start to SERVING, MemStore only, tsc output, median of 3 (ms)'];
  const nodeFloor = figures['node -e 0, spawn to exit, median of 10 (ms)'];
  const coldAll = figures['proxy cold start to SERVING, all bench namespaces (ms)'];
  out.push({
    name: 'Proxy cold start (spawn → health SERVING), bundled',
    target: '≤ 100 ms',
    measured: cold ? `${cold.toFixed(0)} ms (MemStore-only config, median of 10)` : 'not run',
    met: cold ? cold <= 100 : undefined,
    detail: [
      nodeFloor &&
        `Node alone (node -e 0) takes ${nodeFloor.toFixed(0)} ms here, so the proxy's own share is ${cold ? (cold - nodeFloor).toFixed(0) : '?'} ms`,
      coldTsc && `unbundled tsc output ${coldTsc.toFixed(0)} ms`,
      coldAll && `${coldAll.toFixed(0)} ms with all bench namespaces (connects to Redis, PostgreSQL, NATS)`,
    ]
      .filter(Boolean)
      .join('; '),
  });
  return out;
}
