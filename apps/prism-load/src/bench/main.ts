// `pnpm bench`: starts real backends and the proxy, runs every scenario direct and through Prism, and
// writes docs/benchmarks/RESULTS.md + results.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  startClickHouse,
  startGremlinServer,
  startIdentityProvider,
  startKafka,
  startNats,
  startPostgres,
  startRedis,
  type TestIdentityProvider,
  type TestServer,
} from '@prism/testing';
import { ms } from '../report.js';
import type { LoadOptions } from '../run.js';
import { proxyYaml } from './config.js';
import { largeSets } from './large-requests.js';
import { graphs, timeSeries } from './models.js';
import { type BenchProcess, PROXY_BUNDLE, repoRoot, rssOf, spawnEcho, spawnProxy } from './proxy-process.js';
import {
  type BenchResults,
  compare,
  loadAvg,
  machine,
  readChanges,
  renderMarkdown,
  type Scenario,
  type ThroughputRow,
} from './results.js';
import * as s from './scenarios.js';
import { kafkaKeyed, sortedSetRedis } from './structures.js';
import { targets } from './targets.js';
import {
  h2loadGetSide,
  nodeRedisSide,
  reason,
  redisBenchmarkSide,
  rotate,
  type Side,
  startOtlpSink,
} from './throughput.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    only: { type: 'string' },
    out: { type: 'string' },
    'render-only': { type: 'boolean' },
  },
});
const bench: s.Bench = {
  durationS: Number(values.duration),
  warmupS: Number(values.warmup),
  valueSize: 1024,
  keys: 1000,
  rounds: Number(values.rounds),
  log: (line) => process.stderr.write(`${line}\n`),
};
const only = values.only?.split(',');
const root = repoRoot();
const outDir = values.out ?? join(root, 'docs/benchmarks');
if (values['render-only']) {
  // Re-renders RESULTS.md from results.json (e.g. after editing optimizations.md) without measuring.
  const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as BenchResults;
  writeFileSync(
    join(outDir, 'RESULTS.md'),
    renderMarkdown(results, readChanges(join(outDir, 'optimizations.md'))),
  );
  process.exit(0);
}
const tmp = mkdtempSync(join(os.tmpdir(), 'prism-bench-'));
const started = new Date();
const loadAtStart = loadAvg();
const t0 = performance.now();
const log = bench.log;

const cleanup: { what: string; fn: () => Promise<void> }[] = [];
const scenarios: Scenario[] = [];
const throughput: ThroughputRow[] = [];
const figures: Record<string, number> = {};

/** Runs one scenario (unless filtered out); a failure is recorded as "not run" with its reason. */
async function run(
  id: string,
  title: string,
  how: string,
  fn: () => Promise<Scenario | Scenario[]>,
): Promise<void> {
  if (only && !only.some((o) => id.startsWith(o))) return;
  log(`▶ ${title}`);
  try {
    const result = await fn();
    for (const sc of Array.isArray(result) ? result : [result]) {
      scenarios.push(sc);
      const c = compare(sc);
      if (c)
        log(
          `  direct ${Math.round(sc.direct?.throughput ?? 0)} ops/s p50 ${ms(sc.direct?.latencyMs.p50 ?? 0)} p99 ${ms(sc.direct?.latencyMs.p99 ?? 0)} | prism ${Math.round(sc.proxy?.throughput ?? 0)} ops/s p50 ${ms(sc.proxy?.latencyMs.p50 ?? 0)} p99 ${ms(sc.proxy?.latencyMs.p99 ?? 0)} | ratio ${(c.ratio * 100).toFixed(0)}%`,
        );
    }
  } catch (err) {
    log(`  not run: ${(err as Error).message}`);
    scenarios.push({ id, title, how, skipped: (err as Error).message.split('\n')[0] as string });
  }
}

/**
 * Measures the rows of one throughput table whose ids match --only (all without it, and the baselines of
 * those picked), interleaved in rounds. A row that cannot start is recorded as "not run" with its reason.
 */
async function measure(title: string, sides: readonly Side[]): Promise<void> {
  const picked = new Set(only ? sides.filter((side) => only.some((o) => side.id.startsWith(o))) : sides);
  for (const side of [...picked]) {
    const base = sides.find((b) => b.id === side.baseline);
    if (base) picked.add(base);
  }
  if (!picked.size) return;
  log(`▶ ${title}`);
  const rows = sides.filter((side) => picked.has(side));
  try {
    throughput.push(...(await rotate(bench, rows)));
  } catch (err) {
    log(`  not run: ${reason(err)}`);
    for (const side of rows)
      throughput.push({ id: side.id, name: side.name, generator: side.generator, skipped: reason(err) });
  }
}

async function start<T extends TestServer>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    const server = await fn();
    cleanup.push({ what: name, fn: () => server.dispose() });
    return server;
  } catch (err) {
    log(`${name} did not start: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

async function proxyWith(
  name: string,
  yaml: string,
  extra: { workers?: number; env?: Record<string, string>; entry?: string } = {},
): Promise<BenchProcess> {
  const config = join(tmp, `${name}.yaml`);
  writeFileSync(config, yaml);
  const p = await spawnProxy({ config, port: await freePort(), logFile: join(tmp, `${name}.log`), ...extra });
  cleanup.push({ what: `proxy ${name}`, fn: () => p.stop() });
  return p;
}

/** A fresh proxy process runs unoptimised code at first: drive it for a while before measuring it. */
async function warmUp(url: string, opts: Partial<LoadOptions>): Promise<void> {
  await s.viaWire({ ...bench, durationS: 2, warmupS: 0 }, url, opts);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  log(`prism bench: ${bench.durationS} s per row after ${bench.warmupS} s warmup; work dir ${tmp}`);
  const [redis, pg, nats] = [
    await start('redis-server', () => startRedis()),
    await start('PostgreSQL', () => startPostgres()),
    await start('nats-server', () => startNats()),
  ];
  const urls = { redis: redis?.url, postgres: pg?.url, nats: nats?.url };

  // Cold start: a MemStore-only proxy (spawn → grpc.health.v1 SERVING), bundled as `npm start` and the
  // container run it, ten times; the tsc output three times; and Node's own start, the floor under both.
  const colds = { bundle: [] as number[], tsc: [] as number[], node: [] as number[] };
  for (let i = 0; i < 10; i++) {
    const p = await proxyWith(`cold-${i}`, proxyYaml(urls, { memstoreOnly: true }), { entry: PROXY_BUNDLE });
    colds.bundle.push(p.coldStartMs);
    if (i === 0) figures['proxy RSS idle, MemStore only (MB)'] = p.rssMb();
    await p.stop();
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    colds.node.push(performance.now() - t0);
  }
  for (let i = 0; i < 3; i++) {
    const p = await proxyWith(`cold-tsc-${i}`, proxyYaml(urls, { memstoreOnly: true }));
    colds.tsc.push(p.coldStartMs);
    await p.stop();
  }
  figures['proxy cold start to SERVING, MemStore only, bundled, median of 10 (ms)'] = median(colds.bundle);
  figures['proxy cold start to SERVING, MemStore only, tsc output, median of 3 (ms)'] = median(colds.tsc);
  figures['node -e 0, spawn to exit, median of 10 (ms)'] = median(colds.node);

  const proxy = await proxyWith('main', proxyYaml(urls));
  figures['proxy cold start to SERVING, all bench namespaces (ms)'] = proxy.coldStartMs;
  await new Promise((r) => setTimeout(r, 1000));
  figures['proxy RSS idle, all bench namespaces (MB)'] = proxy.rssMb();
  const echo = await spawnEcho(bench.valueSize);
  cleanup.push({ what: 'echo server', fn: () => echo.stop() });
  await warmUp(echo.url, { op: 'get', concurrency: 64 });
  await warmUp(proxy.url, { op: 'get', namespace: 'bench-mem', concurrency: 64 });

  let peakRss = 0;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, proxy.rssMb());
  }, 250);

  await run('ceiling', 'Ceiling', '', async () => [
    await s.echoVsProxy(bench, echo, proxy, 64),
    await s.echoVsProxy(bench, echo, proxy, 1),
  ]);
  await run('memstore', 'MemStore', '', async () => {
    const get64 = await s.memstore(bench, proxy, 'get', 64);
    if (get64.tightLoopGetsPerS)
      figures['memstore adapter alone, tight loop (gets/s)'] = Math.round(get64.tightLoopGetsPerS);
    return [get64, await s.memstore(bench, proxy, 'get', 1), await s.memstore(bench, proxy, 'set', 64)];
  });
  if (peakRss) figures['proxy RSS peak under load (MB)'] = peakRss; // 0: --only left those scenarios out
  clearInterval(rssTimer);
  await run('protocol', 'Protocols', '', () => s.protocols(bench, proxy, 64));
  await run('fastpath', 'Unary fast path off vs on', '', async () => {
    const slow = await proxyWith('no-fast-path', proxyYaml(urls, { memstoreOnly: true }), {
      env: { PRISM_FAST_PATH: '0' },
    });
    await warmUp(slow.url, { op: 'get', namespace: 'bench-mem', concurrency: 64 });
    const out: Scenario[] = [];
    for (const concurrency of [64, 1]) {
      const [off, on] = await s.alternate(
        bench,
        (r) => s.viaWire(r, slow.url, { op: 'get', namespace: 'bench-mem', concurrency }),
        (r) => s.viaWire(r, proxy.url, { op: 'get', namespace: 'bench-mem', concurrency }),
      );
      out.push({
        id: `fastpath-c${concurrency}`,
        title: `What the unary fast path gains: MemStore Get through Prism, concurrency ${concurrency}`,
        how: 'Same proxy build and config; the first row runs with PRISM_FAST_PATH=0 (every call through connect-node’s generic handler), the second with the fast path (default).',
        deltaLabel: 'Second row vs first',
        directName: 'connect-node handler only',
        direct: off,
        proxyName: 'with the unary fast path',
        proxy: on,
      });
    }
    await slow.stop();
    return out;
  });

  const notStarted = (what: string) => `${what} did not start on this machine`;
  await run('redis', 'Redis Get', '', async () => {
    if (!urls.redis) throw new Error(notStarted('redis-server'));
    return [
      await s.redisGet(bench, proxy, urls.redis, 1000),
      await s.redisAdapter(bench, urls.redis, 1000),
      await s.redisGet(bench, proxy, urls.redis, undefined, 64),
    ];
  });
  await run('zset', 'SortedSet Add and RangeByScore on Redis', '', async () => {
    if (!urls.redis) throw new Error(notStarted('redis-server'));
    return sortedSetRedis(bench, proxy, urls.redis);
  });
  await run('kafka', 'Kafka keyed append across 8 partitions', '', async () => {
    // Its own broker and proxy, stopped after the row: a JVM idling beside the other rows would skew them.
    const kafka = await startKafka();
    try {
      const p = await proxyWith('kafka', proxyYaml({ kafka: kafka.bootstrap }));
      try {
        return await kafkaKeyed(bench, p, kafka.bootstrap);
      } finally {
        await p.stop();
      }
    } finally {
      await kafka.dispose();
    }
  });
  await run(
    'models',
    'TimeSeries on ClickHouse and PostgreSQL, Graph on Gremlin Server and PostgreSQL',
    '',
    async () => {
      // ClickHouse and Gremlin Server (a JVM) run for these rows only, with their own proxy.
      if (!urls.postgres) throw new Error(notStarted('PostgreSQL'));
      const clickhouse = await startClickHouse();
      const gremlinServer = await startGremlinServer();
      try {
        const yaml = proxyYaml({
          postgres: urls.postgres,
          clickhouse: clickhouse.url,
          gremlin: gremlinServer.url,
        });
        const p = await proxyWith('models', yaml);
        try {
          return [
            ...(await timeSeries(bench, p, { clickhouseUrl: clickhouse.url, postgresUrl: urls.postgres })),
            ...(await graphs(bench, p, { gremlinUrl: gremlinServer.url, postgresUrl: urls.postgres })),
          ];
        } finally {
          await p.stop();
        }
      } finally {
        await gremlinServer.dispose();
        await clickhouse.dispose();
      }
    },
  );
  await run('postgres', 'PostgreSQL Get', '', async () => {
    if (!urls.postgres) throw new Error(notStarted('PostgreSQL'));
    return s.postgresGet(bench, proxy, urls.postgres, 16);
  });
  await run('nats', 'NATS publish → deliver', '', async () => {
    if (!urls.nats) throw new Error(notStarted('nats-server'));
    return [
      await s.natsPubSub(bench, proxy, urls.nats, { rps: 1000 }),
      await s.natsPubSub(bench, proxy, urls.nats, { concurrency: 64 }),
    ];
  });
  await run('queue', 'Queue enqueue → receive (NATS JetStream)', '', async () => {
    if (!urls.nats) throw new Error(notStarted('nats-server'));
    return s.queue(bench, proxy, urls.nats, 500);
  });
  await run(
    'sidecar',
    'MemStore Get: in-process vs sidecar plugin, concurrency 64',
    'Both rows through Prism.',
    async () => {
      const sidecar = await proxyWith('sidecar', proxyYaml(urls, { sidecar: true, memstoreOnly: true }));
      await warmUp(sidecar.url, { op: 'get', namespace: 'bench-sidecar', concurrency: 64 });
      const [inProc, side] = await s.alternate(
        bench,
        (r) => s.viaWire(r, proxy.url, { op: 'get', namespace: 'bench-mem', concurrency: 64 }),
        (r) => s.viaWire(r, sidecar.url, { op: 'get', namespace: 'bench-sidecar', concurrency: 64 }),
      );
      await sidecar.stop();
      return {
        id: 'sidecar-c64',
        title: 'MemStore Get: in-process plugin vs sidecar plugin, concurrency 64',
        how: 'Both rows through Prism (gRPC, 1 KB values). Sidecar: the proxy spawns the memstore plugin as a child process and calls it over a Unix socket.',
        deltaLabel: 'Second row vs first',
        directName: 'in_process',
        direct: inProc,
        proxyName: 'sidecar',
        proxy: side,
      };
    },
  );
  await run('workers', 'Proxy workers: 1 vs 2 (node:cluster)', '', async () => {
    const two = await proxyWith('workers-2', proxyYaml(urls, { memstoreOnly: true }), { workers: 2 });
    const opts = { op: 'set' as const, namespace: 'bench-mem', concurrency: 64, connections: 4 };
    await warmUp(two.url, opts);
    const [one, pair] = await s.alternate(
      bench,
      (r) => s.viaWire(r, proxy.url, opts),
      (r) => s.viaWire(r, two.url, opts),
    );
    figures['proxy RSS, 2 workers + primary, after load (MB)'] = two.rssMb();
    await two.stop();
    return {
      id: 'workers-1-vs-2',
      title: 'Proxy workers: 1 vs 2 (node:cluster), MemStore Set, concurrency 64 over 4 connections',
      how: 'prism-load --op set -c 64 --connections 4 (connections are spread over the workers). MemStore state is per process, so Set (not Get) keeps the work identical whichever worker answers.',
      deltaLabel: 'Second row vs first',
      directName: '1 worker',
      direct: one,
      proxyName: '2 workers (--workers 2)',
      proxy: pair,
    };
  });

  // Throughput with h2load (C, one connection × 64 streams) so the generator is not the ceiling; the
  // prism-load scenarios above keep the latency percentiles. Last, so the proxy's RSS is read after all load.
  const fresh: { name: string; p: BenchProcess }[] = [];
  const freshProxy = async (name: string, yaml: string) => {
    const p = await proxyWith(name, yaml);
    fresh.push({ name, p });
    return p.url;
  };
  let otlp: Awaited<ReturnType<typeof startOtlpSink>> | undefined;
  // The JWT rows share one identity provider and one token (h2load sends a fixed header).
  let bearer = '';
  let idp: TestIdentityProvider | undefined;
  const identityProvider = async () => {
    if (idp) return idp;
    const started = await startIdentityProvider('prism-bench');
    cleanup.push({ what: 'identity provider', fn: () => started.stop() });
    bearer = `Bearer ${await started.token({ sub: 'bench', expiresIn: 3600 })}`;
    idp = started;
    return started;
  };
  const get = (
    over: Omit<Parameters<typeof h2loadGetSide>[0], 'namespace' | 'key' | 'valueSize' | 'seed'> & {
      namespace?: string;
      seed?: boolean;
    },
  ) =>
    h2loadGetSide({
      namespace: 'bench-mem',
      key: 'h2load-key',
      valueSize: bench.valueSize,
      seed: true,
      ...over,
    });
  const mainProxy = async () => proxy.url;
  await measure(`Throughput: gRPC Get ${bench.valueSize} B, h2load -c1 -m64`, [
    get({
      id: 'tput-echo',
      name: 'bare node:http2 echo',
      how: 'The echo server (core node:http2 stream API, its own process) answers every request with a pre-encoded GetResponse of the same size: the Node ceiling.',
      target: async () => echo.url,
      seed: false,
    }),
    get({
      id: 'tput-mem',
      name: 'Prism → MemStore',
      how: 'The suite’s main proxy process, namespace bench-mem (memstore plugin in-process), one key.',
      baseline: 'tput-echo',
      target: mainProxy,
    }),
    get({
      id: 'tput-mem-deadline',
      name: 'Prism → MemStore, grpc-timeout: 5S',
      how: 'The same proxy and request with `grpc-timeout: 5S`: every call carries a deadline.',
      baseline: 'tput-mem',
      target: mainProxy,
      timeout: '5S',
    }),
    get({
      id: 'tput-obs-off',
      name: 'Prism → MemStore, metrics off',
      how: 'A fresh MemStore-only proxy with `proxy.metrics: { enabled: false }` and no `proxy.tracing`.',
      target: () => freshProxy('h2-obs-off', proxyYaml(urls, { memstoreOnly: true, metrics: false })),
      warmS: 2,
    }),
    get({
      id: 'tput-obs-on',
      name: 'Prism → MemStore, metrics on + tracing 1%',
      how: 'A fresh MemStore-only proxy with `proxy.metrics: { enabled: true }` and `proxy.tracing: { otlp_endpoint, sample_ratio: 0.01 }` pointing at a local sink that answers 200 to POST /v1/traces.',
      baseline: 'tput-obs-off',
      target: async () => {
        const sink = await startOtlpSink();
        otlp = sink;
        cleanup.push({ what: 'OTLP sink', fn: () => sink.close() });
        return freshProxy(
          'h2-obs-on',
          proxyYaml(urls, {
            memstoreOnly: true,
            metrics: true,
            tracing: { otlpEndpoint: sink.url, sampleRatio: 0.01 },
          }),
        );
      },
      warmS: 2,
    }),
    get({
      id: 'tput-auth-off',
      name: 'Prism → MemStore, no auth',
      how: 'A fresh MemStore-only proxy without `proxy.auth` (the baseline of the JWT row, started the same way).',
      target: () => freshProxy('h2-auth-off', proxyYaml(urls, { memstoreOnly: true })),
      warmS: 2,
    }),
    get({
      id: 'tput-auth-header',
      name: 'Prism → MemStore, no auth, same authorization header',
      how: 'The no-auth proxy of the row above, sent the same `authorization: Bearer <jwt>` header the JWT row sends (ignored): what HTTP/2 header handling of a ~800-byte header costs in Node, apart from Prism’s checks.',
      baseline: 'tput-auth-off',
      target: async () => {
        await identityProvider();
        return freshProxy('h2-auth-header', proxyYaml(urls, { memstoreOnly: true }));
      },
      headers: () => ({ authorization: bearer }),
      warmS: 2,
    }),
    get({
      id: 'tput-auth-jwt',
      name: 'Prism → MemStore, JWT auth (cached validation)',
      how: 'A fresh MemStore-only proxy with `proxy.auth` (one jwt provider, RS256 keys from a local identity provider) and `proxy.access` granting `*` read/write; every h2load request carries the same `authorization: Bearer <jwt>`, so after the first call validation is a cache lookup.',
      baseline: 'tput-auth-off',
      target: async () => {
        const idp = await identityProvider();
        return freshProxy(
          'h2-auth-jwt',
          proxyYaml(urls, {
            memstoreOnly: true,
            jwt: { issuer: idp.issuer, jwksUrl: idp.jwksUrl, audience: 'prism-bench' },
          }),
        );
      },
      headers: () => ({ authorization: bearer }),
      warmS: 2,
    }),
    get({
      id: 'tput-sidecar',
      name: 'Prism → MemStore, sidecar plugin',
      how: 'A fresh proxy whose namespace bench-sidecar runs the memstore plugin as a sidecar (`plugin: { mode: sidecar }`): a child process the proxy calls over a Unix socket. Compared with the in-process row.',
      baseline: 'tput-mem',
      namespace: 'bench-sidecar',
      target: () => freshProxy('h2-sidecar', proxyYaml(urls, { memstoreOnly: true, sidecar: true })),
      warmS: 2,
    }),
  ]);
  if (otlp) figures['OTLP trace export requests received during the traced h2load runs'] = otlp.exports();
  for (const { name, p } of fresh) {
    figures[`proxy RSS after the h2load runs, ${name} (MB, with children)`] = p.rssMb();
    await p.stop();
  }
  await measure(`Throughput: Redis Get ${bench.valueSize} B`, [
    get({
      id: 'tput-redis-prism',
      name: 'Prism → Redis',
      how: 'The main proxy, namespace bench-redis (redis adapter) against the suite’s redis-server; the key is written through the proxy first.',
      baseline: 'tput-redis-benchmark',
      namespace: 'bench-redis',
      target: async () => {
        if (!urls.redis) throw new Error(notStarted('redis-server'));
        return proxy.url;
      },
    }),
    redisBenchmarkSide({
      id: 'tput-redis-benchmark',
      name: 'Redis direct (redis-benchmark)',
      how: `\`redis-benchmark -t get -d ${bench.valueSize} -P 1 -c 64 -n N\` (N sized to the round from a calibration run): Redis’s own C client, the backend’s ceiling.`,
      redisUrl: urls.redis,
      valueSize: bench.valueSize,
      clients: 64,
    }),
    nodeRedisSide({
      id: 'tput-redis-node',
      name: 'Redis direct (node-redis)',
      how: 'node-redis v5 GET (binary replies) from the benchmark process, 64 in flight on one connection, prism-load’s closed-loop scheduler. node-redis writes the commands queued in one tick together (implicit pipelining), which is why it can beat redis-benchmark -P1 (64 connections, one command in flight each).',
      baseline: 'tput-redis-benchmark',
      redisUrl: urls.redis,
      valueSize: bench.valueSize,
      keys: bench.keys,
      concurrency: 64,
    }),
  ]);
  if (
    throughput.some((r) => r.measured && ['tput-mem', 'tput-mem-deadline', 'tput-redis-prism'].includes(r.id))
  )
    figures['proxy RSS after the h2load runs (MB)'] = rssOf(proxy.pid);

  if (!only || only.some((o) => 'memory-large'.startsWith(o))) {
    // 32 concurrent 15 MiB Sets on a fresh proxy: RSS before, at peak and 10 s after; the in-flight
    // request bytes cap (256 MiB by default) refuses what does not fit instead of holding it all.
    log('▶ Memory under 32 concurrent 15 MiB requests');
    const big = await proxyWith(
      'large-requests',
      'namespaces:\n  - name: big\n    pattern: keyvalue\n    limits: { max_value_bytes: 16000000 }\n    backend: { type: memstore }\n',
    );
    await new Promise((r) => setTimeout(r, 1000));
    figures['large requests: proxy RSS idle (MB)'] = big.rssMb();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, big.rssMb());
    }, 100);
    const outcome = await largeSets(big.url, 'big', 32, 15 * 1024 * 1024);
    clearInterval(sampler);
    figures['large requests: proxy RSS peak (MB)'] = peak;
    figures['large requests: answered OK (of 32)'] = outcome['0'] ?? 0;
    figures['large requests: answered RESOURCE_EXHAUSTED (of 32)'] = outcome['8'] ?? 0;
    await new Promise((r) => setTimeout(r, 10_000));
    figures['large requests: proxy RSS 10 s after (MB)'] = big.rssMb();
    log(`  ${JSON.stringify(outcome)} (grpc-status → calls); RSS peak ${peak.toFixed(0)} MB`);
    await big.stop();
  }

  const results: BenchResults = {
    startedAt: started.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    command: `pnpm bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machine(loadAtStart),
    scenarios,
    throughput,
    figures,
    targets: targets(scenarios, figures, throughput),
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    join(outDir, 'RESULTS.md'),
    renderMarkdown(results, readChanges(join(outDir, 'optimizations.md'))),
  );
  log(`wrote ${join(outDir, 'RESULTS.md')} and results.json in ${Math.round(results.durationS)} s`);
} finally {
  // Bounded: a server that will not stop must not keep the suite (or its exit code) hanging.
  for (const { what, fn } of cleanup.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      fn().then(
        () => 'stopped',
        (err: Error) => `failed to stop: ${err.message}`,
      ),
      new Promise<string>((r) => {
        timer = setTimeout(() => r('did not stop within 15 s'), 15_000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome !== 'stopped') log(`${what} ${outcome}`);
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
