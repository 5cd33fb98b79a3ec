import http from 'node:http';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestProxy, type TestProxy } from './test-support.js';

// Malformed input must be the caller's error on every path: 2,000 seeded random and mutated requests over
// gRPC, gRPC-web and Connect (binary, JSON, streaming), HTTP/1.1 and HTTP/2, with and without deadlines
// and compression, to a unary and a server-streaming method. None may get INTERNAL, UNKNOWN or HTTP 500,
// and the proxy must serve correctly afterwards.

const GET = '/prism.keyvalue.v1.KeyValueBasicInterface/Get';
const SCAN = '/prism.keyvalue.v1.KeyValueScanInterface/Scan';
const SET = '/prism.keyvalue.v1.KeyValueBasicInterface/Set';
/** GetRequest { namespace: "default", key: "k" } (also a valid ScanRequest prefix "k"). */
const VALID = Buffer.from([0x0a, 7, ...Buffer.from('default'), 0x12, 1, 0x6b]);

let test: TestProxy;
let h2: http2.ClientHttp2Session;
beforeAll(async () => {
  test = await startTestProxy(`namespaces:
  - name: default
    pattern: keyvalue
    needs: { scan: true }
    backend: { type: memstore }
`);
  h2 = http2.connect(test.proxy.url);
});
afterAll(async () => {
  h2?.close();
  await test?.stop();
});

/** A small deterministic generator (the failing seed is in the test output). */
function rng(seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    pick: <T>(xs: readonly T[]) => xs[int(xs.length)] as T,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

type Rng = ReturnType<typeof rng>;
type Protocol = 'grpc' | 'grpc-web' | 'connect' | 'connect-json';

function mutate(r: Rng, b: Buffer): Buffer {
  const c = Buffer.from(b);
  switch (r.int(5)) {
    case 0:
      if (c.length) c[r.int(c.length)] = (c[r.int(c.length)] ?? 0) ^ (1 << r.int(8));
      return c;
    case 1:
      return c.subarray(0, r.int(c.length + 1));
    case 2:
      return Buffer.concat([c, r.bytes(r.int(8) + 1)]);
    case 3:
      return r.bytes(r.int(40));
    default:
      return c;
  }
}

function envelope(flags: number, message: Buffer, lengthError = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(Math.max(0, message.length + lengthError), 1);
  return Buffer.concat([head, message]);
}

interface Request {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly h1: boolean;
  readonly label: string;
}

function request(r: Rng): Request {
  const stream = r.int(2) === 1;
  const path = stream ? SCAN : GET;
  const protocol = r.pick<Protocol>(['grpc', 'grpc-web', 'connect', 'connect-json']);
  const deadline = r.int(2) === 1;
  const compress = r.int(3) === 0;
  const h1 = protocol !== 'grpc' && r.int(2) === 0;
  const headers: Record<string, string> = {};
  let message =
    protocol === 'connect-json'
      ? r.int(2)
        ? Buffer.concat([Buffer.from('{"namespace":"default","key":"'), r.bytes(3), Buffer.from('"}')])
        : mutate(r, Buffer.from('{"namespace":"default","key":"k"}'))
      : mutate(r, VALID);
  let body: Buffer;
  const enveloped = protocol === 'grpc' || protocol === 'grpc-web' || stream;
  if (protocol === 'grpc') {
    headers['content-type'] = 'application/grpc';
    headers.te = 'trailers';
  } else if (protocol === 'grpc-web') headers['content-type'] = 'application/grpc-web+proto';
  else {
    const json = protocol === 'connect-json';
    headers['content-type'] = stream
      ? `application/connect+${json ? 'json' : 'proto'}`
      : `application/${json ? 'json' : 'proto'}`;
    headers['connect-protocol-version'] = '1';
  }
  const grpcish = protocol === 'grpc' || protocol === 'grpc-web';
  if (enveloped) {
    if (compress) {
      message = r.int(2) ? zlib.gzipSync(message) : r.bytes(12);
      headers[grpcish ? 'grpc-encoding' : 'connect-content-encoding'] = 'gzip';
    }
    body = envelope(compress ? 1 : r.int(8) === 0 ? 1 : 0, message, r.int(4) === 0 ? r.int(5) - 2 : 0);
  } else {
    body = compress ? (r.int(2) ? zlib.gzipSync(message) : r.bytes(12)) : message;
    if (compress) headers['content-encoding'] = r.pick(['gzip', 'br']);
  }
  if (deadline)
    if (grpcish) headers['grpc-timeout'] = r.pick(['5S', '100m', 'bad']);
    else headers['connect-timeout-ms'] = r.pick(['5000', '100', 'x']);
  const label = `${protocol}${stream ? ' stream' : ''}${deadline ? ' deadline' : ''}${compress ? ' compressed' : ''}${h1 ? ' http/1.1' : ' h2'}`;
  return { path, headers, body, h1, label };
}

/** The outcome as a code name (gRPC numbers, Connect names) or an HTTP status. */
interface Outcome {
  readonly http: number;
  readonly code: string;
  readonly detail: string;
}

function classify(
  status: number,
  headers: Record<string, unknown>,
  trailers: Record<string, unknown>,
  body: Buffer,
): Outcome {
  const grpc = (trailers['grpc-status'] ?? headers['grpc-status']) as string | undefined;
  const text = body.toString('latin1');
  if (grpc !== undefined)
    return {
      http: status,
      code: `grpc ${grpc}`,
      detail: String(trailers['grpc-message'] ?? headers['grpc-message'] ?? ''),
    };
  const web = /grpc-status: ?(\d+)/.exec(text);
  if (web)
    return { http: status, code: `grpc ${web[1]}`, detail: /grpc-message: ?([^\r]*)/.exec(text)?.[1] ?? '' };
  const connect = /"code":"([a-z_]+)"/.exec(text);
  if (connect) return { http: status, code: connect[1] as string, detail: text.slice(0, 200) };
  return { http: status, code: status === 200 ? 'ok' : `http ${status}`, detail: text.slice(0, 200) };
}

function send(req: Request): Promise<Outcome> {
  if (req.h1) {
    const u = new URL(test.proxy.url);
    return new Promise((resolve) => {
      const r = http.request(
        { host: u.hostname, port: u.port, path: req.path, method: 'POST', headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve(classify(res.statusCode ?? 0, res.headers, res.trailers, Buffer.concat(chunks))),
          );
        },
      );
      r.on('error', (err) => resolve({ http: 0, code: 'connection error', detail: err.message }));
      r.end(req.body);
    });
  }
  return new Promise((resolve) => {
    const s = h2.request({ ':method': 'POST', ':path': req.path, ...req.headers });
    let status = 0;
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    s.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    s.on('trailers', (t) => {
      trailers = t;
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => resolve(classify(status, headers, trailers, Buffer.concat(chunks))));
    s.end(req.body);
  });
}

const SERVER_FAULT = /^(grpc (2|13)|internal|unknown|http 5\d\d|connection error)$/;

describe('malformed input', () => {
  it('2,000 seeded random and mutated requests: no INTERNAL, UNKNOWN or 5xx, and correct service afterwards', async () => {
    const seed = 20261202;
    const r = rng(seed);
    const faults: string[] = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const req = request(r);
      const out = await send(req);
      seen.set(out.code, (seen.get(out.code) ?? 0) + 1);
      if (SERVER_FAULT.test(out.code))
        faults.push(
          `#${i} ${req.label} ${req.path} body=${req.body.toString('hex').slice(0, 60)} → ${out.code} ${out.detail}`,
        );
    }
    expect({ seed, faults: faults.slice(0, 10), total: faults.length }).toEqual({
      seed,
      faults: [],
      total: 0,
    });
    // Both kinds of answers occurred: real calls ran, and bad ones were refused.
    expect(seen.get('grpc 3') ?? 0).toBeGreaterThan(100);
    expect(seen.get('grpc 0') ?? 0).toBeGreaterThan(10);

    const set = envelope(
      0,
      Buffer.from([0x0a, 7, ...Buffer.from('default'), 0x12, 1, 0x6b, 0x1a, 2, 0x68, 0x69]),
    );
    expect(
      (
        await send({
          path: SET,
          headers: { 'content-type': 'application/grpc', te: 'trailers' },
          body: set,
          h1: false,
          label: '',
        })
      ).code,
    ).toBe('grpc 0');
    const get = await send({
      path: GET,
      headers: { 'content-type': 'application/proto' },
      body: VALID,
      h1: true,
      label: '',
    });
    expect(get.http).toBe(200);
  }, 120_000);

  it('invalid UTF-8 in a string field is INVALID_ARGUMENT in Connect JSON as in binary protobuf', async () => {
    for (const key of [Buffer.from([0x6b, 0xff]), Buffer.from([0x6b, 0xfe])]) {
      const json = Buffer.concat([
        Buffer.from('{"namespace":"default","key":"'),
        key,
        Buffer.from('","value":"aGk="}'),
      ]);
      for (const h1 of [true, false]) {
        const out = await send({
          path: SET,
          headers: { 'content-type': 'application/json' },
          body: json,
          h1,
          label: '',
        });
        expect([out.http, out.code]).toEqual([400, 'invalid_argument']);
      }
      const proto = Buffer.concat([
        Buffer.from([0x0a, 7]),
        Buffer.from('default'),
        Buffer.from([0x12, 2]),
        key,
      ]);
      const out = await send({
        path: SET,
        headers: { 'content-type': 'application/grpc', te: 'trailers' },
        body: envelope(0, proto),
        h1: false,
        label: '',
      });
      expect(out.code).toBe('grpc 3');
    }
  });
});
