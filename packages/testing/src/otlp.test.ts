import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp.js';

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

/** Exports a parent span and a child span (with attributes) through the real OTLP/proto exporter. */
async function exportParentAndChild(url: string, compression: 'gzip' | 'none'): Promise<void> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-receiver-test', 'deployment.tier': 3 }),
    spanProcessors: [
      new SimpleSpanProcessor({
        exporter: new OTLPTraceExporter({ url, compression: compression as ExporterConfig['compression'] }),
      }),
    ],
  });
  const tracer = provider.getTracer('prism-otlp-test', '1.2.3');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER, attributes: { compression } });
  const child = tracer.startSpan(
    'child',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'redis',
        'db.rows': 42,
        ratio: 0.5,
        cached: true,
        keys: ['a', 'b'],
      },
    },
    trace.setSpan(context.active(), parent),
  );
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
}

const byName = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span named ${name} in [${spans.map((s) => s.name).join(', ')}]`);
  return span;
};

describe('startOtlpReceiver', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  beforeEach(() => receiver.clear());

  it('listens on 127.0.0.1 at /v1/traces', () => {
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
  });

  it.each(['none', 'gzip'] as const)(
    'decodes parent and child spans from the real exporter (compression %s)',
    async (compression) => {
      await exportParentAndChild(receiver.url, compression);
      const spans = await receiver.waitForSpans((s) => s.length >= 2);
      expect(spans).toHaveLength(2);
      const parent = byName(spans, 'parent');
      const child = byName(spans, 'child');

      expect(parent.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(parent.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(child.traceId).toBe(parent.traceId);
      expect(child.parentSpanId).toBe(parent.spanId);
      expect(child.spanId).not.toBe(parent.spanId);
      expect(parent.parentSpanId).toBe('');

      expect(parent.kind).toBe(2); // OTLP SPAN_KIND_SERVER
      expect(child.kind).toBe(3); // OTLP SPAN_KIND_CLIENT
      expect(parent.attributes).toEqual({ compression });
      expect(child.attributes).toEqual({
        'db.system': 'redis',
        'db.rows': 42,
        ratio: 0.5,
        cached: true,
        keys: '["a","b"]',
      });
      expect(child.status).toEqual({ code: 2, message: 'boom' });
      expect(parent.status).toEqual({ code: 0, message: '' });
      expect(child.resource['service.name']).toBe('otlp-receiver-test');
      expect(child.resource['deployment.tier']).toBe(3);
      expect(child.scope).toBe('prism-otlp-test');

      expect(typeof child.startTimeUnixNano).toBe('bigint');
      expect(child.startTimeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);
      expect(child.endTimeUnixNano).toBeGreaterThanOrEqual(child.startTimeUnixNano);
      expect(parent.endTimeUnixNano).toBeGreaterThanOrEqual(parent.startTimeUnixNano);
    },
  );

  it('decodes a hand-encoded gzip request: ids, 64-bit times, bytes/array/kvlist values', async () => {
    const root = new protobuf.Root();
    const protoDir = fileURLToPath(new URL('../proto/', import.meta.url));
    root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(protoDir, target));
    await root.load('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    const body = Request.encode(
      Request.fromObject({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand' } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
                    spanId: Buffer.from('b7ad6b7169203331', 'hex'),
                    name: 'raw',
                    startTimeUnixNano: '1700000000123456789',
                    endTimeUnixNano: '18446744073709551615',
                    attributes: [
                      { key: 'blob', value: { bytesValue: Buffer.from([0xde, 0xad]) } },
                      { key: 'n', value: { intValue: '-7' } },
                      {
                        key: 'list',
                        value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 1 }] } },
                      },
                      {
                        key: 'map',
                        value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } },
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const res = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await res.arrayBuffer()).byteLength).toBe(0); // an empty ExportTraceServiceResponse

    const [span] = receiver.spans();
    expect(span).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '',
      name: 'raw',
      kind: 0,
      startTimeUnixNano: 1_700_000_000_123_456_789n,
      endTimeUnixNano: 18_446_744_073_709_551_615n,
      attributes: { blob: 'dead', n: -7, list: '["x",1]', map: '{"k":false}' },
      status: { code: 0, message: '' },
      resource: { 'service.name': 'hand' },
      scope: '',
    });
  });

  it('answers 400 for an undecodable body, 404 for other paths, 415 for JSON', async () => {
    const post = (path: string, body: Uint8Array, headers: Record<string, string> = {}) =>
      fetch(new URL(path, receiver.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...headers },
        body,
      });
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
    expect((await post('/v1/traces', garbage)).status).toBe(400);
    expect((await post('/v1/traces', garbage, { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post('/v1/metrics', garbage)).status).toBe(404);
    expect((await post('/v1/traces', garbage, { 'content-type': 'application/json' })).status).toBe(415);
    expect(receiver.spans()).toEqual([]);
  });

  it('waitForSpans rejects with what it saw after the timeout; clear() forgets spans', async () => {
    await exportParentAndChild(receiver.url, 'none');
    await receiver.waitForSpans((s) => s.length === 2);
    await expect(receiver.waitForSpans((s) => s.some((x) => x.name === 'missing'), 50)).rejects.toThrow(
      /no matching spans within 50 ms \(received 2: .*child.*\)/,
    );
    receiver.clear();
    expect(receiver.spans()).toEqual([]);
  });

  it('close() stops listening and rejects pending waits', async () => {
    const own = await startOtlpReceiver();
    const pending = own.waitForSpans(() => false, 60_000);
    await own.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(fetch(own.url, { method: 'POST', body: new Uint8Array() })).rejects.toThrow();
  });
});
