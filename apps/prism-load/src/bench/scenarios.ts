import memstorePlugin from '@prism/adapter-memstore';
import natsPlugin from '@prism/adapter-nats';
import postgresPlugin from '@prism/adapter-postgres';
import redisPlugin from '@prism/adapter-redis';
import { buildWorkload } from '../ops.js';
import { type LoadReport, mergeReports } from '../report.js';
import { DEFAULTS, driveOp, type LoadOptions, runLoad } from '../run.js';
import { createRpcClient } from '../wire/client.js';
import { inProcessKv, inProcessQueue, natsDirect, redisDirect, startPlugin } from './direct.js';
import { produceConsume } from './drive.js';
import type { BenchProcess } from './proxy-process.js';
import type { Scenario } from './results.js';

/** Shared settings of one suite run. */
export interface Bench {
  readonly durationS: number;
  readonly warmupS: number;
  readonly valueSize: number;
  readonly keys: number;
  /** Comparisons alternate their two sides this many times (see {@link alternate}). */
  readonly rounds: number;
  readonly log: (line: string) => void;
}

/** Drives the proxy (or the echo server) with prism-load's client. */
export function viaWire(b: Bench, target: string, over: Partial<LoadOptions>): Promise<LoadReport> {
  return runLoad({
    ...DEFAULTS,
    target,
    durationS: b.durationS,
    warmupS: b.warmupS,
    valueSize: b.valueSize,
    keys: b.keys,
    ...over,
  });
}

const loop = (b: Bench, concurrency: number, rps?: number) => ({
  concurrency,
  rps,
  durationS: b.durationS,
  warmupS: b.warmupS,
});

/**
 * Runs the two sides of a comparison alternately, `b.rounds` times each (A B A B …), each round a share of
 * the duration, and merges each side's rounds (histograms merge exactly). On a shared machine a burst of
 * someone else's work then hits both sides instead of skewing one.
 */
export async function alternate(
  b: Bench,
  a: (round: Bench) => Promise<LoadReport>,
  c: (round: Bench) => Promise<LoadReport>,
): Promise<[LoadReport, LoadReport]> {
  const rounds = Math.max(1, b.rounds);
  const round: Bench = {
    ...b,
    durationS: b.durationS / rounds,
    warmupS: rounds > 1 ? b.warmupS / 2 : b.warmupS,
  };
  const as: LoadReport[] = [];
  const cs: LoadReport[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a(round));
    cs.push(await c(round));
  }
  return [mergeReports(as), mergeReports(cs)];
}

/** Bare HTTP/2 echo (the ceiling) vs MemStore Get through the proxy, both over gRPC at the same concurrency. */
export async function echoVsProxy(
  b: Bench,
  echo: BenchProcess,
  proxy: BenchProcess,
  concurrency: number,
): Promise<Scenario> {
  const [direct, through] = await alternate(
    b,
    (r) => viaWire(r, echo.url, { op: 'get', concurrency }),
    (r) => viaWire(r, proxy.url, { op: 'get', namespace: 'bench-mem', concurrency }),
  );
  return {
    id: `ceiling-c${concurrency}`,
    title: `Ceiling: bare node:http2 echo vs MemStore Get through Prism, concurrency ${concurrency}`,
    how: `prism-load --protocol grpc --op get --concurrency ${concurrency}, ${b.valueSize} B values, one HTTP/2 connection. The echo server (core http2 stream API, its own process) reads each request and answers a pre-encoded GetResponse of the same size.`,
    directName: 'bare node:http2 echo',
    direct,
    proxyName: 'Prism → MemStore',
    proxy: through,
  };
}

/** MemStore: the adapter called in-process vs through the proxy. */
export async function memstore(
  b: Bench,
  proxy: BenchProcess,
  op: 'get' | 'set',
  concurrency: number,
): Promise<Scenario & { tightLoopGetsPerS?: number }> {
  const handle = await startPlugin(memstorePlugin, {}, 'bench-direct');
  try {
    const kv = await inProcessKv(handle, b.keys, b.valueSize);
    const tight = op === 'get' && concurrency > 1 ? await kv.tightLoop(2_000_000) : undefined;
    const [direct, through] = await alternate(
      b,
      (r) => driveOp('memstore in-process', kv[op], loop(r, concurrency)),
      (r) => viaWire(r, proxy.url, { op, namespace: 'bench-mem', concurrency }),
    );
    return {
      id: `memstore-${op}-c${concurrency}`,
      title: `MemStore ${op === 'get' ? 'Get' : 'Set'}, concurrency ${concurrency}`,
      how: `Direct: the memstore adapter instantiated in the benchmark process (validation and error mapping included), driven by the same closed-loop scheduler. Prism: prism-load --protocol grpc --op ${op} -c ${concurrency} against the proxy process. ${b.valueSize} B values, ${b.keys} keys.`,
      directName: 'adapter in-process',
      direct,
      proxyName: 'through Prism (gRPC)',
      proxy: through,
      tightLoopGetsPerS: tight,
      notes: tight
        ? [
            `Adapter alone, tight loop without the scheduler: **${Math.round(tight).toLocaleString('en-US')} gets/s**.`,
          ]
        : [],
    };
  } finally {
    await handle.close();
  }
}

/** The three protocols (and HTTP/1.1) through the proxy on MemStore Get. */
export async function protocols(b: Bench, proxy: BenchProcess, concurrency: number): Promise<Scenario[]> {
  const out: Scenario[] = [];
  // Half the duration per comparison: four comparisons, each alternating gRPC with the other protocol.
  const half: Bench = { ...b, durationS: b.durationS / 2 };
  for (const [protocol, httpVersion] of [
    ['connect', '2'],
    ['grpcweb', '2'],
    ['connect', '1.1'],
    ['grpcweb', '1.1'],
  ] as const) {
    const [grpc, r] = await alternate(
      half,
      (round) => viaWire(round, proxy.url, { op: 'get', namespace: 'bench-mem', concurrency }),
      (round) =>
        viaWire(round, proxy.url, { op: 'get', namespace: 'bench-mem', concurrency, protocol, httpVersion }),
    );
    out.push({
      id: `protocol-${protocol}-h${httpVersion}`,
      title: `Protocols: ${protocol} over HTTP/${httpVersion} vs gRPC, MemStore Get, concurrency ${concurrency}`,
      how: `Both rows through Prism; the first is gRPC over HTTP/2. HTTP/1.1 uses one keep-alive connection per call in flight.`,
      deltaLabel: 'Second row vs first',
      directName: 'gRPC, HTTP/2',
      direct: grpc,
      proxyName: `${protocol}, HTTP/${httpVersion}`,
      proxy: r,
    });
  }
  return out;
}

/** Redis Get of 1 KB values: node-redis directly vs through the proxy, open loop at a fixed rate. */
export async function redisGet(
  b: Bench,
  proxy: BenchProcess,
  redisUrl: string,
  rps?: number,
  concurrency = 64,
): Promise<Scenario> {
  const direct = await redisDirect(redisUrl, b.keys, b.valueSize);
  try {
    const [d, p] = await alternate(
      b,
      (r) => driveOp('node-redis', direct.get, loop(r, concurrency, rps)),
      (r) => viaWire(r, proxy.url, { op: 'get', namespace: 'bench-redis', concurrency, rps }),
    );
    const shape = rps
      ? `open loop at ${rps} req/s (cap ${concurrency} in flight)`
      : `closed loop, concurrency ${concurrency}`;
    return {
      id: rps ? `redis-get-${rps}rps` : `redis-get-c${concurrency}`,
      title: `Redis Get ${b.valueSize} B, ${shape}`,
      how: `Direct: node-redis v5 GET (binary replies) from the benchmark process. Prism: prism-load --protocol grpc --op get --namespace bench-redis ${rps ? `--rps ${rps}` : `-c ${concurrency}`}.`,
      directName: 'node-redis',
      direct: d,
      proxyName: 'through Prism (gRPC)',
      proxy: p,
    };
  } finally {
    await direct.close();
  }
}

/** Where Redis latency goes: node-redis alone vs the redis adapter in-process (no proxy hop). */
export async function redisAdapter(b: Bench, redisUrl: string, rps: number): Promise<Scenario> {
  const direct = await redisDirect(redisUrl, b.keys, b.valueSize);
  const handle = await startPlugin(redisPlugin, { url: redisUrl }, 'bench-redis-direct');
  try {
    const kv = await inProcessKv(handle, b.keys, b.valueSize);
    const [d, a] = await alternate(
      b,
      (r) => driveOp('node-redis', direct.get, loop(r, 64, rps)),
      (r) => driveOp('redis adapter in-process', kv.get, loop(r, 64, rps)),
    );
    return {
      id: `redis-adapter-${rps}rps`,
      title: `Redis Get ${b.valueSize} B at ${rps} req/s: node-redis vs the redis adapter in-process`,
      how: 'Attribution: both rows in the benchmark process, no network hop to a proxy. The difference is what the adapter (validation, key prefix, error mapping, metrics, per-command timeout) adds.',
      deltaLabel: 'Added by the adapter',
      directName: 'node-redis',
      direct: d,
      proxyName: 'redis adapter in-process',
      proxy: a,
    };
  } finally {
    await handle.close();
    await direct.close();
  }
}

/** PostgreSQL Get: the adapter in-process vs through the proxy. */
export async function postgresGet(
  b: Bench,
  proxy: BenchProcess,
  pgUrl: string,
  concurrency: number,
): Promise<Scenario> {
  const handle = await startPlugin(postgresPlugin, { url: pgUrl }, 'bench-pg-direct');
  try {
    const kv = await inProcessKv(handle, b.keys, b.valueSize);
    const [direct, through] = await alternate(
      b,
      (r) => driveOp('postgres adapter in-process', kv.get, loop(r, concurrency)),
      (r) => viaWire(r, proxy.url, { op: 'get', namespace: 'bench-pg', concurrency }),
    );
    return {
      id: `postgres-get-c${concurrency}`,
      title: `PostgreSQL Get ${b.valueSize} B, concurrency ${concurrency}`,
      how: `Direct: the postgres adapter (postgres.js, prepared statements) in the benchmark process. Prism: prism-load --protocol grpc --op get --namespace bench-pg -c ${concurrency}.`,
      directName: 'adapter in-process (postgres.js)',
      direct,
      proxyName: 'through Prism (gRPC)',
      proxy: through,
    };
  } finally {
    await handle.close();
  }
}

/** NATS publish → deliver: nats.js directly vs Publish + Subscribe through the proxy. */
export async function natsPubSub(
  b: Bench,
  proxy: BenchProcess,
  natsUrl: string,
  mode: { rps: number } | { concurrency: number },
): Promise<Scenario> {
  const rps = 'rps' in mode ? mode.rps : undefined;
  const concurrency = 'concurrency' in mode ? mode.concurrency : 64;
  const topic = `bench.${rps ? 'rate' : 'flood'}`;
  // The proxy's NATS adapter publishes core subject prism.<namespace>.<topic>; direct uses its own subject.
  const direct = await natsDirect(natsUrl, `direct.${topic}`, b.valueSize);
  let d: LoadReport;
  try {
    d = await produceConsume(
      'nats.js',
      direct.consume,
      rps ? direct.publish : direct.publishFlushed,
      loop(b, concurrency, rps),
    );
  } finally {
    await direct.close();
  }
  const subClient = createRpcClient(proxy.url, 'grpc');
  const pubClient = createRpcClient(proxy.url, 'grpc');
  const opts = { namespace: 'bench-nats', ratio: 0, valueSize: b.valueSize, keys: 1, topic };
  try {
    const sub = buildWorkload(subClient, { ...opts, op: 'subscribe' });
    const pub = buildWorkload(pubClient, { ...opts, op: 'publish' });
    const p = await produceConsume(
      'through Prism',
      (rec, signal) => (sub.consume as NonNullable<typeof sub.consume>)(rec, 1, signal),
      pub.op as NonNullable<typeof pub.op>,
      loop(b, concurrency, rps),
    );
    return {
      id: rps ? `nats-pubsub-${rps}rps` : `nats-pubsub-c${concurrency}`,
      title: rps
        ? `NATS publish → deliver at ${rps} msg/s`
        : `NATS publish → deliver, as fast as acknowledged publishes go (concurrency ${concurrency})`,
      how: rps
        ? `One subscriber, one publisher, open loop at ${rps} msg/s; latency is publish-intended-time → delivery to the subscriber (payload carries the send timestamp). Direct: nats.js publish/subscribe on two connections. Prism: gRPC Publish and a Subscribe server stream.`
        : `Closed loop, ${concurrency} publishes in flight; throughput is messages delivered to one subscriber per second. Direct: nats.js publish + flush (one server round trip per message). Prism: gRPC Publish (acknowledged) and a Subscribe stream.`,
      directName: 'nats.js',
      direct: d,
      proxyName: 'through Prism (gRPC)',
      proxy: p,
    };
  } finally {
    await subClient.close();
    await pubClient.close();
  }
}

/** Queue enqueue → receive on NATS JetStream: adapter in-process vs through the proxy. */
export async function queue(b: Bench, proxy: BenchProcess, natsUrl: string, rps: number): Promise<Scenario> {
  const handle = await startPlugin(
    natsPlugin,
    { servers: [natsUrl], storage: 'memory' },
    'bench-queue-direct',
  );
  let d: LoadReport;
  try {
    const q = inProcessQueue(handle, 'jobs', b.valueSize);
    d = await produceConsume(
      'nats adapter in-process',
      (rec, signal) => q.consume(rec, 2, signal),
      q.enqueue,
      loop(b, 64, rps),
    );
  } finally {
    await handle.close();
  }
  const rxClient = createRpcClient(proxy.url, 'grpc');
  const txClient = createRpcClient(proxy.url, 'grpc');
  const opts = { namespace: 'bench-queue', ratio: 0, valueSize: b.valueSize, keys: 1, topic: 'jobs' };
  try {
    const rx = buildWorkload(rxClient, { ...opts, op: 'receive' });
    const tx = buildWorkload(txClient, { ...opts, op: 'enqueue' });
    const p = await produceConsume(
      'through Prism',
      (rec, signal) => (rx.consume as NonNullable<typeof rx.consume>)(rec, 2, signal),
      tx.op as NonNullable<typeof tx.op>,
      loop(b, 64, rps),
    );
    return {
      id: `queue-nats-${rps}rps`,
      title: `Queue enqueue → receive (NATS JetStream, memory storage) at ${rps} msg/s`,
      how: `Open loop enqueue at ${rps} msg/s; two consumers long-poll Receive (up to 32 messages, wait 200 ms) and Ack. Latency is enqueue-intended-time → received. Direct: the nats adapter in-process. Prism: gRPC Enqueue/Receive/Ack.`,
      directName: 'adapter in-process',
      direct: d,
      proxyName: 'through Prism (gRPC)',
      proxy: p,
    };
  } finally {
    await rxClient.close();
    await txClient.close();
  }
}
