import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import protobuf from 'protobufjs';

const gunzipAsync = promisify(gunzip);

/** The vendored opentelemetry-proto files (`<package>/proto`), found from both `src/` and `dist/`. */
const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

/** An attribute value as the receiver reports it (see {@link ReceivedSpan.attributes}). */
export type OtlpAttributeValue = string | number | boolean;

/** One span decoded from an OTLP/HTTP export, with its resource and instrumentation scope flattened in. */
export interface ReceivedSpan {
  /** 16-byte trace id, lower-case hex (32 characters). */
  readonly traceId: string;
  /** 8-byte span id, lower-case hex (16 characters). */
  readonly spanId: string;
  /** Parent span id, lower-case hex; `''` for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** `Span.SpanKind` number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  /**
   * Span attributes. int64 values become numbers (exact up to 2^53), bytes lower-case hex, arrays and
   * key/value lists a JSON string of their converted values (e.g. `'["a",1]'`).
   */
  readonly attributes: Record<string, OtlpAttributeValue>;
  /** `Status.StatusCode` (0 unset, 1 ok, 2 error) and message; `{ code: 0, message: '' }` when absent. */
  readonly status: { readonly code: number; readonly message: string };
  /** Attributes of the span's resource (e.g. `service.name`), converted like `attributes`. */
  readonly resource: Record<string, OtlpAttributeValue>;
  /** Name of the instrumentation scope (the tracer name); `''` when absent. */
  readonly scope: string;
}

/** A local OTLP/HTTP trace receiver (protobuf, optionally gzip), the tests' stand-in for a Collector. */
export interface OtlpReceiver {
  /** Traces endpoint for the exporter's `url` option, e.g. `http://127.0.0.1:PORT/v1/traces`. */
  readonly url: string;
  /** Spans received so far, in arrival order (a copy). */
  spans(): ReceivedSpan[];
  /**
   * Resolves with the received spans as soon as `predicate(spans)` is true (checked now and after every
   * export); rejects after `timeoutMs` (default 10000) or when the receiver is closed.
   */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Forgets the spans received so far. */
  clear(): void;
  /** Stops listening, drops open connections and rejects pending `waitForSpans` calls. Idempotent. */
  close(): Promise<void>;
}

// Shapes produced by `toObject(..., CONVERSION)` below (camelCase field names, longs as bigint).
interface PbAnyValue {
  value?: string;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: bigint;
  doubleValue?: number;
  bytesValue?: Uint8Array;
  arrayValue?: { values?: PbAnyValue[] };
  kvlistValue?: { values?: PbKeyValue[] };
}
interface PbKeyValue {
  key: string;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: PbKeyValue[];
  status?: { code: number; message: string } | null;
}
interface PbExportTraceServiceRequest {
  resourceSpans: {
    resource?: { attributes: PbKeyValue[] } | null;
    scopeSpans: { scope?: { name: string } | null; spans: PbSpan[] }[];
  }[];
}

/** Enums as numbers, 64-bit integers as bigint, bytes as Uint8Array, defaults for absent scalars. */
const CONVERSION: protobuf.IConversionOptions = { longs: BigInt, defaults: true, arrays: true, oneofs: true };

interface TraceTypes {
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
}

let traceTypes: Promise<TraceTypes> | undefined;

/** Loads the vendored .proto files once per process (imports resolve against the proto root). */
function loadTraceTypes(): Promise<TraceTypes> {
  traceTypes ??= (async () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
    await root.load(TRACE_SERVICE_PROTO, { keepCase: false });
    return {
      request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    };
  })();
  traceTypes.catch(() => {
    traceTypes = undefined;
  });
  return traceTypes;
}

const hex = (bytes: Uint8Array | undefined): string => (bytes ? Buffer.from(bytes).toString('hex') : '');

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function anyValueToJson(v: PbAnyValue | null | undefined): JsonValue {
  switch (v?.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue':
      return Number(v.intValue ?? 0n);
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'bytesValue':
      return hex(v.bytesValue);
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(anyValueToJson);
    case 'kvlistValue':
      return Object.fromEntries(
        (v.kvlistValue?.values ?? []).map((kv) => [kv.key, anyValueToJson(kv.value)]),
      );
    default:
      return null;
  }
}

function attributesOf(kvs: readonly PbKeyValue[] | undefined): Record<string, OtlpAttributeValue> {
  const out: Record<string, OtlpAttributeValue> = {};
  for (const { key, value } of kvs ?? []) {
    const v = anyValueToJson(value);
    if (v === null) continue; // an empty AnyValue carries nothing to report
    out[key] = typeof v === 'object' ? JSON.stringify(v) : v;
  }
  return out;
}

/** Decodes an ExportTraceServiceRequest (protobuf bytes) into flat spans. Throws on malformed input. */
function decodeSpans(types: TraceTypes, body: Uint8Array): ReceivedSpan[] {
  const req = types.request.toObject(types.request.decode(body), CONVERSION) as PbExportTraceServiceRequest;
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      const scope = ss.scope?.name ?? '';
      for (const s of ss.spans) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: attributesOf(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource: { ...resource },
          scope,
        });
      }
    }
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function reply(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

interface Waiter {
  readonly predicate: (spans: ReceivedSpan[]) => boolean;
  readonly resolve: (spans: ReceivedSpan[]) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Starts an OTLP/HTTP trace receiver on a free 127.0.0.1 port: `POST /v1/traces` with a protobuf
 * `ExportTraceServiceRequest` body (`content-encoding: gzip` honoured) is decoded with the vendored
 * opentelemetry-proto files and answered 200 with an empty `ExportTraceServiceResponse`; an undecodable
 * body gets 400, a JSON or otherwise-encoded body 415, other paths 404.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const types = await loadTraceTypes();
  const okBody = types.response.encode(types.response.create({})).finish();
  let received: ReceivedSpan[] = [];
  const waiters = new Set<Waiter>();
  let closed: Promise<void> | undefined;

  const settle = (w: Waiter, result: { spans: ReceivedSpan[] } | { error: Error }): void => {
    waiters.delete(w);
    clearTimeout(w.timer);
    if ('spans' in result) w.resolve(result.spans);
    else w.reject(result.error);
  };
  const check = (w: Waiter): void => {
    const snapshot = [...received];
    try {
      if (w.predicate(snapshot)) settle(w, { spans: snapshot });
    } catch (err) {
      settle(w, { error: err as Error });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== '/v1/traces') return reply(res, 404, `no route for ${path}: OTLP traces go to /v1/traces`);
    if (req.method !== 'POST') return reply(res, 405, 'POST /v1/traces only', { allow: 'POST' });
    const type = (req.headers['content-type'] ?? PROTOBUF_CONTENT_TYPE).split(';')[0]!.trim().toLowerCase();
    if (type !== PROTOBUF_CONTENT_TYPE && type !== 'application/protobuf')
      return reply(
        res,
        415,
        `unsupported content-type ${type}: this receiver decodes ${PROTOBUF_CONTENT_TYPE}`,
      );
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity')
      return reply(res, 415, `unsupported content-encoding ${encoding}: use gzip or none`);
    let body: Buffer = await readBody(req);
    let spans: ReceivedSpan[];
    try {
      if (encoding === 'gzip') body = await gunzipAsync(body);
      spans = decodeSpans(types, body);
    } catch (err) {
      return reply(res, 400, `cannot decode ExportTraceServiceRequest: ${(err as Error).message}`);
    }
    received.push(...spans);
    res
      .writeHead(200, { 'content-type': PROTOBUF_CONTENT_TYPE, 'content-length': okBody.length })
      .end(okBody);
    for (const w of [...waiters]) check(w);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => [...received],
    waitForSpans(predicate, timeoutMs = 10_000) {
      if (closed) return Promise.reject(new Error('the OTLP receiver is closed'));
      return new Promise<ReceivedSpan[]>((resolve, reject) => {
        const w: Waiter = {
          predicate,
          resolve,
          reject,
          timer: setTimeout(() => {
            const names = received.map((s) => s.name).join(', ') || 'none';
            settle(w, {
              error: new Error(
                `no matching spans within ${timeoutMs} ms (received ${received.length}: ${names})`,
              ),
            });
          }, timeoutMs),
        };
        waiters.add(w);
        check(w);
      });
    },
    clear: () => {
      received = [];
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const w of [...waiters]) settle(w, { error: new Error('the OTLP receiver was closed') });
        server.close(() => resolve());
        server.closeAllConnections(); // exporters keep connections alive
      });
      return closed;
    },
  };
}
