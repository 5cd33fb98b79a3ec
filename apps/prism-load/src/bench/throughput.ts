// The throughput table: each row one path driven by one generator (h2load for gRPC, redis-benchmark for
// Redis itself, prism-load for node-redis), all rows of a table run interleaved in rounds.
import http from 'node:http';
import type net from 'node:net';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  GetRequestSchema,
  GetResponseSchema,
  KeyValueBasicInterface,
  SetRequestSchema,
} from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { createClient as createRedis, RESP_TYPES } from 'redis';
import { makeValue } from '../payload.js';
import { type LoadReport, mergeReports } from '../report.js';
import { driveOp } from '../run.js';
import { redisDirect } from './direct.js';
import { grpcCall, grpcFrame, grpcHeaders, type H2loadSummary, h2loadLabel, runH2load } from './h2load.js';
import { type RedisBenchmarkRow, redisBenchmarkLabel, runRedisBenchmark } from './redis-benchmark.js';
import type { Measurement, ThroughputRow } from './results.js';
import type { Bench } from './scenarios.js';

/** One round of one row. */
export interface Round {
  readonly durationS: number;
  readonly warmupS: number;
}

/** A row of the throughput table while it is being measured. */
export interface Side {
  readonly id: string;
  readonly name: string;
  readonly generator: string;
  readonly how?: string;
  readonly baseline?: string;
  /** Starts what the row needs (a proxy, a client, seed data); a rejection marks the row "not run". */
  prepare?(): Promise<void>;
  /** Checks the answer with a real client; resolves with what it saw, rejects with what was wrong. */
  check?(): Promise<string>;
  round(r: Round): Promise<void>;
  result(): Measurement | undefined;
  notes?(): string[];
  close?(): Promise<void>;
}

/** The first useful line(s) of an error: a proxy that failed to start reports its config problems. */
export function reason(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^proxy exited with/.test(l));
  // "invalid Prism config FILE (2 problems):" then "FILE:3:3: proxy.metrics: unknown key …" lines.
  const problems = lines.filter((l) => /^\S+:\d+:\d+: /.test(l)).map((l) => l.replace(/^\S+:\d+:\d+: /, ''));
  if (problems.length) return `proxy config rejected: ${problems.join('; ')}`;
  return lines.slice(0, 2).join(' — ') || 'failed';
}

/**
 * Runs the rows alternately, `b.rounds` times (A B C … A B C …), each round a share of the duration, and
 * merges each row's rounds. Each row is checked before the first and after the last round.
 */
export async function rotate(b: Bench, sides: readonly Side[]): Promise<ThroughputRow[]> {
  const rounds = Math.max(1, b.rounds);
  const round: Round = { durationS: b.durationS / rounds, warmupS: rounds > 1 ? b.warmupS / 2 : b.warmupS };
  const st = sides.map((side) => ({
    side,
    skipped: undefined as string | undefined,
    before: undefined as string | undefined,
    after: undefined as { ok: boolean; detail: string } | undefined,
  }));
  try {
    for (const s of st) {
      try {
        await s.side.prepare?.();
      } catch (err) {
        s.skipped = reason(err);
        b.log(`  ${s.side.name}: not run: ${s.skipped}`);
        continue;
      }
      try {
        s.before = await s.side.check?.();
      } catch (err) {
        s.skipped = `check before the run failed: ${reason(err)}`;
        b.log(`  ${s.side.name}: not run: ${s.skipped}`);
      }
    }
    for (let i = 0; i < rounds; i++)
      for (const s of st) {
        if (s.skipped) continue;
        try {
          await s.side.round(round);
        } catch (err) {
          s.skipped = reason(err);
          b.log(`  ${s.side.name}: not run: ${s.skipped}`);
        }
      }
    for (const s of st) {
      if (s.skipped || !s.side.check) continue;
      try {
        const detail = await s.side.check();
        s.after = {
          ok: true,
          detail:
            detail === s.before ? `${detail} (before and after)` : `before: ${s.before}; after: ${detail}`,
        };
      } catch (err) {
        s.after = { ok: false, detail: `after the run: ${reason(err)}` };
      }
    }
  } finally {
    for (const s of st) await s.side.close?.().catch(() => {});
  }
  return st.map(({ side, skipped, after }) => {
    const measured = skipped ? undefined : side.result();
    const row: ThroughputRow = {
      id: side.id,
      name: side.name,
      generator: side.generator,
      ...(side.how && { how: side.how }),
      ...(side.baseline && { baseline: side.baseline }),
      ...(skipped || !measured ? { skipped: skipped ?? 'no result' } : { measured }),
      ...(after && { check: after }),
      ...(side.notes && { notes: side.notes() }),
    };
    if (measured)
      b.log(
        `  ${side.name} [${side.generator}]: ${Math.round(measured.okPerS)} ok/s, ${measured.failed} failed${measured.latencyMs?.mean !== undefined ? `, mean ${measured.latencyMs.mean.toFixed(2)} ms` : ''}${after && !after.ok ? `; CHECK FAILED ${after.detail}` : ''}`,
      );
    return row;
  });
}

/** One h2load run as a measurement: ok/s over the measured duration (failed requests excluded). */
export function fromH2load(s: H2loadSummary, durationS: number): Measurement {
  const r = s.requests;
  return {
    okPerS: r.done > 0 ? (s.reqPerS * r.succeeded) / r.done : 0,
    ok: r.succeeded,
    failed: r.failed,
    durationS,
    latencyMs: s.latencyMs && { mean: s.latencyMs.mean, sd: s.latencyMs.sd, max: s.latencyMs.max },
    statusCodes: { ...s.statusCodes },
  };
}

/**
 * Merges rounds: counts and status codes add up, ok/s is weighted by duration, mean and sd are pooled,
 * max is the max. p50 is the count-weighted mean of the rounds' p50 and p99 the highest round's p99
 * (an upper bound; generators that keep histograms should merge those instead).
 */
export function mergeMeasurements(ms: readonly Measurement[]): Measurement | undefined {
  if (!ms.length) return undefined;
  if (ms.length === 1) return ms[0];
  const sum = (f: (m: Measurement) => number) => ms.reduce((a, m) => a + f(m), 0);
  const durationS = sum((m) => m.durationS);
  const ok = sum((m) => m.ok);
  const withLat = ms.filter((m) => m.latencyMs?.mean !== undefined && m.ok > 0);
  const n = withLat.reduce((a, m) => a + m.ok, 0);
  const mean = n ? withLat.reduce((a, m) => a + (m.latencyMs?.mean as number) * m.ok, 0) / n : undefined;
  const sdOk = withLat.every((m) => m.latencyMs?.sd !== undefined);
  const sd =
    n && mean !== undefined && sdOk
      ? Math.sqrt(
          withLat.reduce((a, m) => {
            const l = m.latencyMs as { mean: number; sd: number };
            return a + m.ok * (l.sd ** 2 + (l.mean - mean) ** 2);
          }, 0) / n,
        )
      : undefined;
  const pick = (f: (m: Measurement) => number | undefined) =>
    ms.map(f).filter((x): x is number => x !== undefined);
  const p50s = ms.filter((m) => m.latencyMs?.p50 !== undefined);
  const maxes = pick((m) => m.latencyMs?.max);
  const p99s = pick((m) => m.latencyMs?.p99);
  const codes: Record<string, number> = {};
  for (const m of ms)
    for (const [c, k] of Object.entries(m.statusCodes ?? {})) codes[c] = (codes[c] ?? 0) + k;
  return {
    okPerS: durationS > 0 ? sum((m) => m.okPerS * m.durationS) / durationS : 0,
    ok,
    failed: sum((m) => m.failed),
    durationS,
    latencyMs: {
      ...(mean !== undefined && { mean }),
      ...(sd !== undefined && { sd }),
      ...(p50s.length && {
        p50:
          p50s.reduce((a, m) => a + (m.latencyMs?.p50 as number) * Math.max(1, m.ok), 0) /
          p50s.reduce((a, m) => a + Math.max(1, m.ok), 0),
      }),
      ...(p99s.length && { p99: Math.max(...p99s) }),
      ...(maxes.length && { max: Math.max(...maxes) }),
    },
    ...(Object.keys(codes).length && { statusCodes: codes }),
  };
}

const GET_PATH = `/${KeyValueBasicInterface.typeName}/${KeyValueBasicInterface.method.get.name}`;
const SET_PATH = `/${KeyValueBasicInterface.typeName}/${KeyValueBasicInterface.method.set.name}`;

/** Writes one key through a proxy (prism-load's gRPC client). */
export async function seedKey(
  baseUrl: string,
  namespace: string,
  key: string,
  valueSize: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  const body = toBinary(
    SetRequestSchema,
    create(SetRequestSchema, { namespace, key, value: makeValue(valueSize) }),
  );
  const res = await grpcCall(`${baseUrl}${SET_PATH}`, grpcFrame(body), { ...grpcHeaders(), ...headers });
  if (res.httpStatus !== 200 || res.code)
    throw new Error(
      `Set ${namespace}/${key} answered HTTP ${res.httpStatus}, grpc-status ${res.code} ${res.grpcMessage ?? ''}`,
    );
}

/** A gRPC Get driven by h2load: one prepared GetRequest frame, the same key every time. */
export function h2loadGetSide(spec: {
  readonly id: string;
  readonly name: string;
  readonly how?: string;
  readonly baseline?: string;
  /** Resolves the base URL (`http://host:port`), starting the server first if it is not running. */
  readonly target: () => Promise<string>;
  readonly namespace: string;
  readonly key: string;
  readonly valueSize: number;
  /** `grpc-timeout` to send (the deadline variant), e.g. `5S`. */
  readonly timeout?: string;
  /** More request headers (e.g. `authorization`), resolved after `target` (a token may need its server). */
  readonly headers?: () => Readonly<Record<string, string>>;
  /** Write the key through the target first (a proxy; the echo server answers any Get). */
  readonly seed: boolean;
  /** Load the server for this long before the first round (a freshly started process runs cold code). */
  readonly warmS?: number;
}): Side {
  const body = grpcFrame(
    toBinary(GetRequestSchema, create(GetRequestSchema, { namespace: spec.namespace, key: spec.key })),
  );
  let headers = grpcHeaders(spec.timeout ? { timeout: spec.timeout } : {});
  const generator = h2loadLabel();
  let url = '';
  const runs: Measurement[] = [];
  return {
    id: spec.id,
    name: spec.name,
    generator,
    how: spec.how,
    baseline: spec.baseline,
    async prepare() {
      const base = await spec.target();
      url = `${base}${GET_PATH}`;
      const extra = spec.headers?.() ?? {};
      headers = { ...headers, ...extra };
      if (spec.seed) await seedKey(base, spec.namespace, spec.key, spec.valueSize, extra);
      if (spec.warmS) await runH2load({ url, body, headers, durationS: spec.warmS });
    },
    async check() {
      const r = await grpcCall(url, body, headers);
      if (r.httpStatus !== 200) throw new Error(`HTTP ${r.httpStatus}`);
      if (r.code) throw new Error(`grpc-status ${r.code}${r.grpcMessage ? `: ${r.grpcMessage}` : ''}`);
      const res = fromBinary(GetResponseSchema, r.message ?? new Uint8Array());
      if (res.found !== true)
        throw new Error(`Get ${spec.namespace}/${spec.key} answered found=${res.found}`);
      if (res.value.length !== spec.valueSize)
        throw new Error(`Get answered ${res.value.length} B instead of ${spec.valueSize} B`);
      return `grpc-status 0, found, ${res.value.length} B`;
    },
    async round(r) {
      const s = await runH2load({ url, body, headers, durationS: r.durationS, warmupS: r.warmupS });
      runs.push(fromH2load(s, r.durationS));
    },
    result: () => mergeMeasurements(runs),
  };
}

/** Redis itself: `redis-benchmark -t get -d SIZE -P 1 -c 64 -n …`, -n sized to the round's duration. */
export function redisBenchmarkSide(spec: {
  readonly id: string;
  readonly name: string;
  readonly how?: string;
  readonly baseline?: string;
  readonly redisUrl: string | undefined;
  readonly valueSize: number;
  readonly clients: number;
}): Side {
  // Without -r redis-benchmark's GET reads the literal key "key:__rand_int__": write a value there first.
  const key = 'key:__rand_int__';
  const runs: Measurement[] = [];
  let rps = 0;
  const redisClient = (url: string) =>
    createRedis({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  let client: ReturnType<typeof redisClient> | undefined;
  const target = () => {
    if (!spec.redisUrl) throw new Error('redis-server did not start on this machine');
    const u = new URL(spec.redisUrl);
    return { host: u.hostname, port: Number(u.port || 6379) };
  };
  const bench = (requests: number): Promise<RedisBenchmarkRow | undefined> =>
    runRedisBenchmark({
      ...target(),
      tests: 'get',
      dataSize: spec.valueSize,
      pipeline: 1,
      clients: spec.clients,
      requests,
    }).then((rows) => rows.find((r) => r.test === 'GET'));
  return {
    id: spec.id,
    name: spec.name,
    generator: redisBenchmarkLabel({ clients: spec.clients, pipeline: 1 }),
    how: spec.how,
    baseline: spec.baseline,
    async prepare() {
      target();
      client = redisClient(spec.redisUrl as string);
      await client.connect();
      await client.set(key, Buffer.from(makeValue(spec.valueSize)));
      // Calibration (and warm-up): how many requests make a round of the asked duration.
      rps = (await bench(20_000))?.rps ?? 0;
      if (!rps) throw new Error('redis-benchmark printed no GET row');
    },
    async check() {
      const v = await client?.get(key);
      if (!v || v.length !== spec.valueSize) throw new Error(`GET ${key} answered ${v?.length ?? 'nil'} B`);
      return `GET ${key} → ${v.length} B`;
    },
    async round(r) {
      const requests = Math.max(10_000, Math.round(rps * r.durationS));
      const row = await bench(requests);
      if (!row) throw new Error('redis-benchmark printed no GET row');
      rps = row.rps;
      runs.push({
        okPerS: row.rps,
        ok: requests,
        failed: 0,
        durationS: requests / row.rps,
        latencyMs: { mean: row.avgMs, p50: row.p50Ms, p99: row.p99Ms, max: row.maxMs },
      });
    },
    result: () => mergeMeasurements(runs),
    async close() {
      await client?.close();
    },
  };
}

/** node-redis GET from this process, closed loop, driven by prism-load's scheduler (histograms merge exactly). */
export function nodeRedisSide(spec: {
  readonly id: string;
  readonly name: string;
  readonly how?: string;
  readonly baseline?: string;
  readonly redisUrl: string | undefined;
  readonly valueSize: number;
  readonly keys: number;
  readonly concurrency: number;
}): Side {
  let direct: Awaited<ReturnType<typeof redisDirect>> | undefined;
  const reports: LoadReport[] = [];
  return {
    id: spec.id,
    name: spec.name,
    generator: `prism-load -c${spec.concurrency} (closed loop)`,
    how: spec.how,
    baseline: spec.baseline,
    async prepare() {
      if (!spec.redisUrl) throw new Error('redis-server did not start on this machine');
      direct = await redisDirect(spec.redisUrl, spec.keys, spec.valueSize);
    },
    async round(r) {
      const d = direct as NonNullable<typeof direct>;
      reports.push(
        await driveOp('node-redis', d.get, {
          concurrency: spec.concurrency,
          durationS: r.durationS,
          warmupS: r.warmupS,
        }),
      );
    },
    result() {
      if (!reports.length) return undefined;
      const m = mergeReports(reports);
      const l = m.latencyMs;
      return {
        okPerS: m.durationS > 0 ? m.ok / m.durationS : 0,
        ok: m.ok,
        failed: m.errorCount,
        durationS: m.durationS,
        latencyMs: { mean: l.mean, p50: l.p50, p99: l.p99, max: l.max },
      };
    },
    async close() {
      await direct?.close();
    },
  };
}

/** A stand-in OTLP/HTTP collector: answers 200 to POST /v1/traces (the spans are counted, not checked). */
export function startOtlpSink(): Promise<{
  readonly url: string;
  readonly exports: () => number;
  close(): Promise<void>;
}> {
  let exports = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/v1/traces')) {
        exports++;
        // An empty ExportTraceServiceResponse in the request's encoding.
        const json = String(req.headers['content-type'] ?? '').includes('json');
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : undefined);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1/traces`,
        exports: () => exports,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
