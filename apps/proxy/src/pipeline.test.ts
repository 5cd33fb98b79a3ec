import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import memstore from '@prism/adapter-memstore';
import { parseConfig } from '@prism/config';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import type { Call, Middleware, PluginDefinition } from '@prism/sdk';
import { type OtlpReceiver, type RedisTestServer, startOtlpReceiver, startRedis } from '@prism/testing';
import { pino } from 'pino';
import { PluginCatalog } from './catalog.js';
import { type RunningProxy, startProxy } from './server.js';
import { waitFor } from './test-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const stallPackage = join(here, '../test-fixtures/stall-plugin');
const work = mkdtempSync(join(tmpdir(), 'prism-pipeline-'));
const stallLog = join(work, 'stall.log');

/** What the plugin fixture logged (one JSON object per line). */
function stallEvents(): {
  event: string;
  key: string;
  code?: number;
  deadline?: number | null;
  at: number;
}[] {
  try {
    return readFileSync(stallLog, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** Log lines written by the proxy, parsed. */
const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  }),
);

/** Every call the test middleware saw: namespace, procedure, kind, and the request content type. */
const seen: string[] = [];
const spy: Middleware = (next) => (call: Call) => {
  seen.push(`${call.namespace} ${call.procedure} ${call.kind} ${call.headers.get('content-type')}`);
  return next(call);
};

let otlp: OtlpReceiver;
let redis: RedisTestServer;
let proxy: RunningProxy;

beforeAll(async () => {
  [otlp, redis] = await Promise.all([startOtlpReceiver(), startRedis()]);
  const stall = (await import(pathToFileURL(join(stallPackage, 'plugin.mjs')).href)) as {
    default: PluginDefinition;
  };
  const catalog = new PluginCatalog([]);
  catalog.register(memstore).register(stall.default);
  await catalog.load(['redis'], new Map([['redis', '@prism/adapter-redis']]));
  const yaml = `
proxy:
  listen: 127.0.0.1:0
  tracing: { otlp_endpoint: "${otlp.url}", sample_ratio: 1 }
namespaces:
  - name: mem
    pattern: keyvalue
    backend: { type: memstore }
  - name: side
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
  - name: stall
    pattern: keyvalue
    backend: { type: stall, plugin: { mode: sidecar, package: "${stallPackage}" }, config: { log: "${stallLog}" } }
  - name: red
    pattern: keyvalue
    backend: { type: redis, config: { url: "${redis.url}" } }
  - name: red-side
    pattern: keyvalue
    backend: { type: redis, plugin: { mode: sidecar }, config: { url: "${redis.url}" } }
`;
  const config = parseConfig(yaml, { file: join(work, 'prism.yaml'), catalog });
  proxy = await startProxy({ config, catalog, port: 0, host: '127.0.0.1', logger, middleware: [spy] });
}, 60_000);

afterAll(async () => {
  await proxy?.shutdown();
  await Promise.allSettled([otlp?.close(), redis?.dispose()]);
  rmSync(work, { recursive: true, force: true });
});

const grpc = () => createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
const connectJson = () =>
  createClient(
    KeyValueBasicInterface,
    createConnectTransport({ baseUrl: proxy.url, httpVersion: '1.1', useBinaryFormat: false }),
  );
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: unknown) => Code[ConnectError.from(e).code],
  );

describe('one pipeline for every door', () => {
  it('runs an added middleware for fast-path, connect-node (JSON), streaming and sidecar calls', async () => {
    seen.length = 0;
    await grpc().set({ namespace: 'mem', key: 'k', value: new Uint8Array([1]) });
    await connectJson().get({ namespace: 'mem', key: 'k' });
    const ac = new AbortController();
    const pubsub = createClient(PubSubBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    for await (const event of pubsub.subscribe({ namespace: 'mem', topic: 't' }, { signal: ac.signal })) {
      expect(event.event.case).toBe('subscribed');
      break;
    }
    ac.abort(); // leaving the loop alone does not reset the HTTP/2 stream
    await grpc().get({ namespace: 'side', key: 'k' });
    expect(seen).toEqual([
      'mem KeyValueBasicInterface/Set unary application/grpc+proto',
      'mem KeyValueBasicInterface/Get unary application/json',
      'mem PubSubBasicInterface/Subscribe server_streaming application/grpc+proto',
      'side KeyValueBasicInterface/Get unary application/grpc+proto',
    ]);
    await waitFor(() => proxy.pipeline.streams === 0, 'the stream to end');
  });
});

describe('deadlines reach the plugin', () => {
  it('ends a stalled sidecar call at its deadline (±50 ms) with DEADLINE_EXCEEDED, and the plugin sees the abort', async () => {
    const t0 = Date.now();
    const code = await codeOf(grpc().get({ namespace: 'stall', key: 'deadline' }, { timeoutMs: 400 }));
    const took = Date.now() - t0;
    expect(code).toBe('DeadlineExceeded');
    expect(Math.abs(took - 400)).toBeLessThanOrEqual(50);
    await waitFor(() => stallEvents().some((e) => e.event === 'abort' && e.key === 'deadline'), 'the abort');
    const start = stallEvents().find((e) => e.event === 'start' && e.key === 'deadline');
    const abort = stallEvents().find((e) => e.event === 'abort' && e.key === 'deadline');
    // The plugin got the caller's deadline (less the hop), and its call was aborted at it.
    expect(start?.deadline).toBeGreaterThan(t0 + 300);
    expect(start?.deadline).toBeLessThanOrEqual(t0 + 450);
    expect(abort?.code).toBe(Code.DeadlineExceeded);
    expect(Math.abs((abort?.at ?? 0) - (t0 + 400))).toBeLessThanOrEqual(100);
  });

  it('a caller that cancels cancels the plugin call', async () => {
    const ac = new AbortController();
    const call = codeOf(grpc().get({ namespace: 'stall', key: 'cancel' }, { signal: ac.signal }));
    await waitFor(
      () => stallEvents().some((e) => e.event === 'start' && e.key === 'cancel'),
      'the call to start',
    );
    ac.abort();
    expect(await call).toBe('Canceled');
    await waitFor(
      () => stallEvents().some((e) => e.event === 'abort' && e.key === 'cancel'),
      'the plugin abort',
    );
    expect(stallEvents().find((e) => e.event === 'abort' && e.key === 'cancel')?.code).toBe(Code.Canceled);
  });
});

describe('/metrics', () => {
  it('has request counters, latency histograms, gauges, and adapter metrics of in-process and sidecar namespaces', async () => {
    for (const ns of ['mem', 'side', 'red', 'red-side']) {
      await grpc().set({ namespace: ns, key: 'm', value: new Uint8Array([2]) });
      await grpc().get({ namespace: ns, key: 'm' }, { timeoutMs: 5000 });
    }
    await codeOf(grpc().get({ namespace: 'nope', key: 'm' }));
    await waitFor(() => proxy.pipeline.streams === 0, 'the subscription of the first test to end');
    // memstore reports its key count when asked for health (the supervisor asks sidecars every 2 s).
    await proxy.health.status('mem');
    await proxy.health.status('side');
    const res = await fetch(`${proxy.url}/metrics`);
    const text = await res.text();
    const expectLine = (re: RegExp) => expect(text).toMatch(re);
    expectLine(
      /^prism_requests_total\{namespace="mem",interface="keyvalue_basic",method="Get",code="OK"\} [1-9]/m,
    );
    expectLine(
      /^prism_requests_total\{namespace="\(unknown\)",interface="keyvalue_basic",method="Get",code="NOT_FOUND"\} 1/m,
    );
    expectLine(
      /^prism_request_duration_seconds_bucket\{namespace="side",interface="keyvalue_basic",method="Get",code="OK",le="0.001"\} \d+/m,
    );
    expectLine(
      /^prism_request_duration_seconds_count\{namespace="red",interface="keyvalue_basic",method="Set",code="OK"\} 1/m,
    );
    expectLine(/^prism_requests_in_flight\{namespace="mem",interface="keyvalue_basic",method="Get"\} 0/m);
    expectLine(/^prism_streams_open\{namespace="mem",interface="pubsub_basic",method="Subscribe"\} 0/m);
    // Adapter metrics the READMEs promise, from this process and from the sidecar processes.
    expectLine(/^prism_memstore_keys\{namespace="mem"\} \d+/m);
    expectLine(/^prism_memstore_keys\{namespace="side"\} \d+/m);
    expectLine(/^prism_redis_command_seconds_count\{[^}]*namespace="red"[^}]*\} [1-9]/m);
    expectLine(/^prism_redis_command_seconds_count\{[^}]*namespace="red-side"[^}]*\} [1-9]/m);
    expectLine(/^prism_redis_connected\{[^}]*namespace="red-side"[^}]*\} 1/m);
  });
});

describe('traces and logs', () => {
  it('continues the client trace: proxy span child of the client, sidecar span child of the proxy span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    otlp.clear();
    await grpc().get(
      { namespace: 'side', key: 'traced' },
      { headers: { traceparent: `00-${traceId}-${clientSpan}-01`, 'x-request-id': 'req-traced-1' } },
    );
    const spans = await otlp.waitForSpans((s) => s.filter((x) => x.traceId === traceId).length >= 2, 15_000);
    const mine = spans.filter((s) => s.traceId === traceId);
    const proxySpan = mine.find((s) => s.resource['service.name'] === 'prism-proxy');
    const sidecarSpan = mine.find((s) => s.resource['service.name'] === 'prism-plugin-memstore');
    expect(proxySpan?.parentSpanId).toBe(clientSpan);
    expect(proxySpan?.name).toBe('KeyValueBasicInterface/Get');
    expect(proxySpan?.attributes).toMatchObject({
      'rpc.service': 'prism.keyvalue.v1.KeyValueBasicInterface',
      'rpc.method': 'Get',
      'prism.namespace': 'side',
      'prism.request_id': 'req-traced-1',
    });
    expect(sidecarSpan?.parentSpanId).toBe(proxySpan?.spanId);
    // Redis commands get child spans, in this process and in a sidecar.
    for (const ns of ['red', 'red-side']) {
      const id = ns === 'red' ? '4bf92f3577b34da6a3ce929d0e0e4001' : '4bf92f3577b34da6a3ce929d0e0e4002';
      await grpc().get(
        { namespace: ns, key: 'traced' },
        { headers: { traceparent: `00-${id}-${clientSpan}-01` } },
      );
      const trace = await otlp.waitForSpans(
        (s) => s.some((x) => x.traceId === id && x.name === 'redis GET'),
        15_000,
      );
      const server = trace.find((x) => x.traceId === id && x.parentSpanId === clientSpan);
      const server2 = trace.find(
        (x) => x.traceId === id && x.name === 'KeyValueBasicInterface/Get' && x !== server,
      );
      const redisSpan = trace.find((x) => x.traceId === id && x.name === 'redis GET');
      expect([ns, redisSpan?.parentSpanId]).toEqual([ns, (server2 ?? server)?.spanId]);
      expect(redisSpan?.attributes['db.system.name']).toBe('redis');
    }
    // The proxy's log line for the call carries the same ids.
    const line = lines.find((l) => l.request_id === 'req-traced-1');
    expect(line).toMatchObject({
      trace_id: traceId,
      span_id: proxySpan?.spanId,
      namespace: 'side',
      code: 'OK',
    });
  });
});
