import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { type LoadReport, ms } from '../report.js';

/** One benchmark scenario: the direct path and the path through Prism, measured in the same run. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** How each side was driven (load shape, client). */
  readonly how: string;
  readonly direct?: LoadReport;
  readonly proxy?: LoadReport;
  /** Label of the direct row (e.g. "node-redis", "adapter in-process", "bare node:http2 echo"). */
  readonly directName?: string;
  readonly proxyName?: string;
  readonly notes?: readonly string[];
  /** Why the scenario was not run. */
  readonly skipped?: string;
  /** How the comparison line starts; default "Added by Prism" (both rows through Prism: say so). */
  readonly deltaLabel?: string;
}

/** What one throughput row measured (rounds merged). */
export interface Measurement {
  /** Successful requests per second. */
  readonly okPerS: number;
  readonly ok: number;
  readonly failed: number;
  /** Measured time, summed over rounds (warm-ups excluded), seconds. */
  readonly durationS: number;
  /** Latencies in ms, as far as the generator reports them (h2load: mean, sd, max). */
  readonly latencyMs?: {
    readonly mean?: number;
    readonly sd?: number;
    readonly p50?: number;
    readonly p99?: number;
    readonly max?: number;
  };
  /** HTTP status classes (h2load), e.g. `{ "2xx": 81234 }`. */
  readonly statusCodes?: Readonly<Record<string, number>>;
}

/**
 * One row of the throughput table: one path driven by one generator (h2load, redis-benchmark or
 * prism-load). Rows of one table ran interleaved in rounds, in the same run.
 */
export interface ThroughputRow {
  readonly id: string;
  readonly name: string;
  /** The generator and its load shape, e.g. `h2load -c1 -m64`. */
  readonly generator: string;
  readonly how?: string;
  /** Id of the row this one is compared with (the ratio column). */
  readonly baseline?: string;
  readonly measured?: Measurement;
  /** The correctness check with a real client before and after the run (gRPC errors are HTTP 200). */
  readonly check?: { readonly ok: boolean; readonly detail: string };
  /** Why the row was not run. */
  readonly skipped?: string;
  readonly notes?: readonly string[];
}

/** A single figure checked against a target from the issue. */
export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  readonly detail?: string;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAvgAtStart: readonly number[];
  readonly loadAvgAtEnd: readonly number[];
}

export interface BenchResults {
  readonly startedAt: string;
  readonly durationS: number;
  readonly command: string;
  readonly machine: Machine;
  readonly scenarios: readonly Scenario[];
  /** The throughput table (absent in results from before it existed). */
  readonly throughput?: readonly ThroughputRow[];
  readonly figures: Readonly<Record<string, number>>;
  readonly targets: readonly Target[];
}

/** 1/5/15-minute load averages, rounded. */
export function loadAvg(): number[] {
  return os.loadavg().map((n) => Math.round(n * 100) / 100);
}

/** The machine the suite ran on. */
export function machine(loadAvgAtStart: readonly number[]): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvgAtStart,
    loadAvgAtEnd: loadAvg(),
  };
}

/** Added latency and throughput ratio of the proxied row over the direct one. */
export function compare(s: Scenario): { addedP50: number; addedP99: number; ratio: number } | undefined {
  if (!s.direct || !s.proxy) return undefined;
  return {
    addedP50: s.proxy.latencyMs.p50 - s.direct.latencyMs.p50,
    addedP99: s.proxy.latencyMs.p99 - s.direct.latencyMs.p99,
    ratio: s.direct.throughput > 0 ? s.proxy.throughput / s.direct.throughput : 0,
  };
}

const signedMs = (n: number) => `${n >= 0 ? '+' : '−'}${ms(Math.abs(n))}`;

function row(name: string, r: LoadReport): string {
  const l = r.latencyMs;
  const errors = r.errorCount
    ? Object.entries(r.errors)
        .map(([c, n]) => `${c}×${n}`)
        .join(' ')
    : '0';
  return `| ${name} | ${Math.round(r.throughput).toLocaleString('en-US')} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} | ${errors}${r.notSent ? ` (${r.notSent} not sent)` : ''} |`;
}

/** A measured throughput row by id (undefined when absent or not run). */
export function findRow(rows: readonly ThroughputRow[], id: string): ThroughputRow | undefined {
  return rows.find((r) => r.id === id && r.measured && !r.skipped);
}

/** ok/s of `id` over ok/s of `baselineId` (undefined unless both were measured). */
export function throughputRatio(
  rows: readonly ThroughputRow[],
  id: string,
  baselineId: string,
): number | undefined {
  const a = findRow(rows, id)?.measured;
  const b = findRow(rows, baselineId)?.measured;
  return a && b && b.okPerS > 0 ? a.okPerS / b.okPerS : undefined;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const optMs = (n: number | undefined) => (n === undefined ? '–' : ms(n));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function throughputRow(r: ThroughputRow, rows: readonly ThroughputRow[]): string {
  const m = r.measured;
  if (r.skipped || !m)
    return `| ${r.name} | ${r.generator} | not run: ${cell(r.skipped ?? 'no result')} |${' |'.repeat(7)}`;
  const base = r.baseline ? rows.find((b) => b.id === r.baseline) : undefined;
  const ratio = r.baseline ? throughputRatio(rows, r.id, r.baseline) : undefined;
  const vs = base
    ? ratio === undefined
      ? `– (${base.name} not run)`
      : `${(ratio * 100).toFixed(0)}% of ${base.name}`
    : '';
  const l = m.latencyMs ?? {};
  const other = Object.entries(m.statusCodes ?? {})
    .filter(([c, n]) => c !== '2xx' && n > 0)
    .map(([c, n]) => `${c}×${n}`);
  const counts = `${int(m.ok)} / ${int(m.failed)}${other.length ? ` (${other.join(' ')})` : ''}`;
  const check = r.check ? (r.check.ok ? r.check.detail : `**failed**: ${r.check.detail}`) : '–';
  return `| ${r.name} | ${r.generator} | ${int(m.okPerS)} | ${vs} | ${optMs(l.mean)} | ${optMs(l.sd)} | ${optMs(l.p99)} | ${optMs(l.max)} | ${counts} | ${cell(check)} |`;
}

/** The throughput table (markdown lines), empty when the run had none. */
export function renderThroughput(rows: readonly ThroughputRow[]): string[] {
  if (!rows.length) return [];
  const out = [
    '## Throughput',
    '',
    'Each row names its generator. h2load (nghttp2, C) sends one prepared gRPC request — a length-prefixed',
    '`GetRequest` frame, `content-type: application/grpc`, `te: trailers` — over one HTTP/2 connection with 64',
    'concurrent streams (`-c1 -m64`), so the Node side being measured, not the generator, is the ceiling.',
    'h2load only sees HTTP statuses and a gRPC error is HTTP 200 with grpc-status in the trailers, so every',
    'h2load row is checked before and after its runs by replaying the same request with a gRPC client that reads',
    'the trailers and decodes the `GetResponse` (the check column). Rows ran interleaved in rounds (A B C … A B C …),',
    'so a burst of other work on the machine hits all of them. Latency is per request at 64 in flight (h2load',
    'reports mean, sd and max; p99 where the generator has it). Latency percentiles under open-loop load are in',
    'the prism-load scenarios below.',
    '',
    '| path | generator | ok/s | vs | mean | sd | p99 | max | ok / failed | check |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => throughputRow(r, rows)),
    '',
  ];
  for (const r of rows) {
    if (r.how) out.push(`- **${r.name}** (${r.generator}): ${r.how}`);
    for (const n of r.notes ?? []) out.push(`  ${n}`);
  }
  out.push('');
  return out;
}

/** Renders RESULTS.md. `changes` is the hand-written account of the optimisations (markdown). */
export function renderMarkdown(res: BenchResults, changes: string): string {
  const m = res.machine;
  const out: string[] = [
    '# Prism benchmark results',
    '',
    `Generated by \`${res.command}\` on ${res.startedAt} in ${Math.round(res.durationS)} s. Do not edit by hand: rerun the suite.`,
    '',
    `**Machine:** ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB RAM, Node ${m.node}, ${m.platform}; load average ${m.loadAvgAtStart.join(' / ')} at the start and ${(m.loadAvgAtEnd ?? []).join(' / ')} at the end (other work on the machine competes for the same cores).`,
    'Load generator, proxy and backends share these cores, so absolute figures are modest; the direct and proxied rows',
    'of a scenario run back to back in the same run and are comparable with each other.',
    '',
    'The throughput table names each row’s generator (h2load, redis-benchmark or prism-load). Every scenario',
    'below it is driven by `prism-load` (the same raw HTTP/2 client for the echo ceiling and the proxy; the same',
    'scheduler and HDR histogram for direct client calls). Open-loop rows measure latency from each call’s intended',
    'send time (corrected for coordinated omission). Latencies in ms; throughput in operations (or delivered messages) per second.',
    '',
    '## Targets',
    '',
    '| target | goal | measured | met |',
    '| --- | --- | --- | --- |',
    ...res.targets.map(
      (t) =>
        `| ${t.name} | ${t.target} | ${cell(t.measured)}${t.detail ? ` — ${cell(t.detail)}` : ''} | ${t.met === undefined ? 'n/a' : t.met ? 'met' : '**missed**'} |`,
    ),
    '',
    ...renderThroughput(res.throughput ?? []),
    '## Scenarios',
    '',
  ];
  for (const s of res.scenarios) {
    out.push(`### ${s.title}`, '', s.how, '');
    if (s.skipped) {
      out.push(`_Not run: ${s.skipped}_`, '');
      continue;
    }
    out.push(
      '| path | ops/s | p50 | p90 | p99 | p99.9 | max | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    if (s.direct) out.push(row(s.directName ?? 'direct', s.direct));
    if (s.proxy) out.push(row(s.proxyName ?? 'through Prism', s.proxy));
    const c = compare(s);
    if (c)
      out.push(
        '',
        `${s.deltaLabel ?? 'Added by Prism'}: p50 ${signedMs(c.addedP50)}, p99 ${signedMs(c.addedP99)}; throughput ratio ${(c.ratio * 100).toFixed(c.ratio < 0.1 ? 2 : 0)}% of the first row.`,
      );
    const lag = [s.direct, s.proxy]
      .filter((r) => r?.sendLagMs)
      .map((r) => r?.sendLagMs as { p50: number; p99: number });
    if (lag.length)
      out.push(
        '',
        `Open loop: the generator sent calls ${lag.map((l) => `p50 ${ms(l.p50)} / p99 ${ms(l.p99)}`).join(' and ')} after their intended time (scheduler wake-up); that lag is inside both rows' latencies.`,
      );
    for (const n of s.notes ?? []) out.push('', n);
    out.push('');
  }
  out.push('## Figures', '', '| figure | value |', '| --- | ---: |');
  for (const [k, v] of Object.entries(res.figures))
    out.push(`| ${k} | ${Number.isInteger(v) ? v : v.toFixed(3)} |`);
  out.push('', changes.trim(), '');
  return out.join('\n');
}

/** Reads the hand-written optimisation notes included in RESULTS.md. */
export function readChanges(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
