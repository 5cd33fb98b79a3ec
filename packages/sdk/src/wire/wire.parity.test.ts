// The unary wire module against connect-node itself: the same pipeline is served once with the fast path
// in front and once by connect-node alone, and every protocol must give a client the same outcome.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import {
  compressionGzip,
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetRequestSchema, KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import type { Call } from '../call.js';
import { codeName } from '../errors.js';
import { defineInterface } from '../interface.js';
import { deadlines } from '../middleware/deadlines.js';
import { Pipeline } from '../pipeline.js';
import { mountPipeline } from './connect-door.js';
import { hookStreams } from './stream-hook.js';
import { createUnaryServer } from './unary-server.js';

const kv = defineInterface('keyvalue_basic', KeyValueBasicInterface, {
  set: 'write',
  get: 'read',
  delete: 'write',
  exists: 'read',
});
const READ_MAX = 2048;
const ERROR_CODES = Object.values(Code).filter((c): c is Code => typeof c === 'number');

/** What each side's implementation saw of aborted calls, by key. */
const aborts: Record<'fast' | 'connect', Map<string, string>> = { fast: new Map(), connect: new Map() };

function pipelineFor(side: 'fast' | 'connect'): Pipeline {
  return new Pipeline([deadlines], (c: Call) => {
    const { key } = c.request as { key: string };
    if (key.startsWith('ok:')) return { found: true, value: new TextEncoder().encode(key.slice(3)) };
    if (key.startsWith('err:')) {
      const code = Number(key.slice(4)) as Code;
      throw new ConnectError(`failed with ${Code[code]}`, code, { 'x-meta': `m-${code}` }, [
        { desc: GetRequestSchema, value: { namespace: 'detail', key: `d-${code}` } },
      ]);
    }
    return new Promise((resolve) =>
      c.onAbort((reason) => {
        aborts[side].set(key, codeName(reason.code));
        resolve({ found: false });
      }),
    );
  });
}

interface Served {
  readonly h2: string;
  readonly h1: string;
  close(): void;
}

async function serve(side: 'fast' | 'connect'): Promise<Served> {
  const pipeline = pipelineFor(side);
  const handler = connectNodeAdapter({
    routes: (router) => mountPipeline(router, [kv], pipeline),
    readMaxBytes: READ_MAX,
  });
  const fast =
    side === 'fast'
      ? createUnaryServer([kv], (c) => pipeline.unary(c), { readMaxBytes: READ_MAX })
      : undefined;
  const both = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    if (!fast?.request(req, res)) handler(req as http.IncomingMessage, res as http.ServerResponse);
  };
  const h2 = http2.createServer(both);
  if (fast) hookStreams(h2, (s, h) => fast.stream(s, h));
  const h1 = http.createServer(both);
  const listen = (srv: http.Server | http2.Http2Server) =>
    new Promise<string>((resolve) =>
      srv.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)),
    );
  const [u2, u1] = await Promise.all([listen(h2), listen(h1)]);
  return {
    h2: u2,
    h1: u1,
    close: () => {
      h2.close();
      h1.close();
      h1.closeAllConnections();
    },
  };
}

const transports = (s: Served): Record<string, Transport> => ({
  grpc: createGrpcTransport({ baseUrl: s.h2 }),
  'grpc-web h2': createGrpcWebTransport({ baseUrl: s.h2, httpVersion: '2' }),
  'grpc-web h1': createGrpcWebTransport({ baseUrl: s.h1, httpVersion: '1.1' }),
  'connect h2': createConnectTransport({ baseUrl: s.h2, httpVersion: '2', useBinaryFormat: true }),
  'connect h1': createConnectTransport({ baseUrl: s.h1, httpVersion: '1.1', useBinaryFormat: true }),
  'connect json h2': createConnectTransport({ baseUrl: s.h2, httpVersion: '2', useBinaryFormat: false }),
  'connect json h1': createConnectTransport({ baseUrl: s.h1, httpVersion: '1.1', useBinaryFormat: false }),
  'grpc gzip': createGrpcTransport({ baseUrl: s.h2, ...gzip }),
  'grpc-web gzip h1': createGrpcWebTransport({ baseUrl: s.h1, httpVersion: '1.1', ...gzip }),
  'connect gzip h2': createConnectTransport({
    baseUrl: s.h2,
    httpVersion: '2',
    useBinaryFormat: true,
    ...gzip,
  }),
  'connect json gzip h1': createConnectTransport({
    baseUrl: s.h1,
    httpVersion: '1.1',
    useBinaryFormat: false,
    ...gzip,
  }),
});
/** Every request compressed, however small. */
const gzip = { sendCompression: compressionGzip, compressMinBytes: 0 };

/** What a client sees of a call, comparable across servers. */
async function outcome(p: Promise<{ found?: boolean; value: Uint8Array }>): Promise<unknown> {
  try {
    const res = await p;
    return { ok: res.found, value: new TextDecoder().decode(res.value) };
  } catch (e) {
    const err = ConnectError.from(e);
    return {
      code: codeName(err.code),
      message: err.rawMessage,
      meta: err.metadata.get('x-meta'),
      details: err.findDetails(GetRequestSchema).map((d) => d.key),
    };
  }
}

let fast: Served;
let plain: Served;
beforeAll(async () => {
  [fast, plain] = await Promise.all([serve('fast'), serve('connect')]);
});
afterAll(() => {
  fast?.close();
  plain?.close();
});

describe('unary wire module vs connect-node', () => {
  const protocols = [
    'grpc',
    'grpc-web h2',
    'grpc-web h1',
    'connect h2',
    'connect h1',
    'connect json h2',
    'connect json h1',
    'grpc gzip',
    'grpc-web gzip h1',
    'connect gzip h2',
    'connect json gzip h1',
  ];

  it.each(protocols)(
    '%s: ok, every error code with details and metadata, and oversized requests',
    async (name) => {
      const f = createClient(KeyValueBasicInterface, transports(fast)[name] as Transport);
      const c = createClient(KeyValueBasicInterface, transports(plain)[name] as Transport);
      const keys = ['ok:hello', ...ERROR_CODES.map((code) => `err:${code}`)];
      for (const key of keys)
        for (const timeoutMs of [undefined, 5000]) {
          const req = { namespace: 'ns', key };
          const [a, b] = await Promise.all([
            outcome(f.get(req, { timeoutMs })),
            outcome(c.get(req, { timeoutMs })),
          ]);
          expect([name, key, timeoutMs, a]).toEqual([name, key, timeoutMs, b]);
        }
      const big = { namespace: 'ns', key: `ok:${'x'.repeat(READ_MAX)}` };
      const [a, b] = await Promise.all([outcome(f.get(big)), outcome(c.get(big))]);
      expect([name, a]).toEqual([name, expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' })]);
      // connect-node 2.2 answers an oversized *compressed* request INTERNAL ("decompression failed"); the
      // fast path, which serves every compressed unary call, says RESOURCE_EXHAUSTED.
      const expected = name.includes('gzip') ? 'INTERNAL' : 'RESOURCE_EXHAUSTED';
      expect([name, b]).toEqual([name, expect.objectContaining({ code: expected })]);
    },
  );

  it.each(protocols)(
    '%s: a deadline ends the call with DEADLINE_EXCEEDED and aborts the implementation',
    async (name) => {
      const key = `hang-deadline-${name}`;
      for (const [side, served] of [
        ['fast', fast],
        ['connect', plain],
      ] as const) {
        const client = createClient(KeyValueBasicInterface, transports(served)[name] as Transport);
        const t0 = Date.now();
        const res = await outcome(client.get({ namespace: 'ns', key }, { timeoutMs: 200 }));
        expect([side, (res as { code: string }).code]).toEqual([side, 'DEADLINE_EXCEEDED']);
        expect(Date.now() - t0).toBeLessThan(1000);
        for (const until = Date.now() + 2000; !aborts[side].has(key) && Date.now() < until; )
          await new Promise((r) => setTimeout(r, 5));
        expect([side, aborts[side].get(key)]).toEqual([side, 'DEADLINE_EXCEEDED']);
      }
    },
  );

  it.each(protocols)('%s: a client that cancels aborts the implementation', async (name) => {
    const key = `hang-cancel-${name}`;
    for (const [side, served] of [
      ['fast', fast],
      ['connect', plain],
    ] as const) {
      const client = createClient(KeyValueBasicInterface, transports(served)[name] as Transport);
      const ac = new AbortController();
      const res = outcome(client.get({ namespace: 'ns', key }, { signal: ac.signal }));
      await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      expect([side, ((await res) as { code: string }).code]).toEqual([side, 'CANCELED']);
      for (const until = Date.now() + 2000; !aborts[side].has(key) && Date.now() < until; )
        await new Promise((r) => setTimeout(r, 5));
      expect([side, aborts[side].get(key)]).toEqual([side, 'CANCELED']);
    }
  });
});

/** Sends raw bytes as one HTTP/2 call and returns the status a client would derive. */
async function rawH2(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<{ http: number; grpc?: string; text: string }> {
  const session = http2.connect(url);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': `/${KeyValueBasicInterface.typeName}/Get`,
        ...headers,
      });
      let status = 0;
      let grpc: string | undefined;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        status = Number(h[':status']);
        if (h['grpc-status'] !== undefined) grpc = String(h['grpc-status']);
      });
      req.on('trailers', (t) => {
        if (t['grpc-status'] !== undefined) grpc = String(t['grpc-status']);
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        resolve({ http: status, ...(grpc ? { grpc } : {}), text: Buffer.concat(chunks).toString('latin1') }),
      );
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}

describe('malformed input', () => {
  const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff]); // field 1, a length that runs past the end
  const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, garbage.length]), garbage]);
  const malformedCode = (r: { http: number; grpc?: string; text: string }) => {
    if (r.grpc !== undefined) return codeName(Number(r.grpc));
    const webStatus = /grpc-status: ?(\d+)/.exec(r.text);
    if (webStatus) return codeName(Number(webStatus[1]));
    return (JSON.parse(r.text) as { code: string }).code.toUpperCase();
  };

  it.each([
    ['grpc', { 'content-type': 'application/grpc', te: 'trailers' }, framed],
    ['grpc-web', { 'content-type': 'application/grpc-web+proto' }, framed],
    ['connect', { 'content-type': 'application/proto', 'connect-protocol-version': '1' }, garbage],
  ] as const)(
    '%s: undecodable bytes are INVALID_ARGUMENT, with and without a deadline',
    async (_name, headers, body) => {
      for (const extra of [{}, { 'grpc-timeout': '5S', 'connect-timeout-ms': '5000' }]) {
        const r = await rawH2(fast.h2, { ...headers, ...extra }, body);
        expect(malformedCode(r)).toBe('INVALID_ARGUMENT');
      }
    },
  );

  it('a malformed timeout header is INVALID_ARGUMENT, as in connect-node', async () => {
    const msg = toBinary(GetRequestSchema, create(GetRequestSchema, { namespace: 'ns', key: 'ok:x' }));
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), Buffer.from(msg)]);
    const headers = { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': 'soon' };
    const [a, b] = await Promise.all([rawH2(fast.h2, headers, body), rawH2(plain.h2, headers, body)]);
    expect(a.grpc).toBe(String(Code.InvalidArgument));
    expect(b.grpc).toBe(a.grpc);
  });
});
