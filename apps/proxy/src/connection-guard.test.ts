import http2 from 'node:http2';
import net from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { startTestProxy, type TestProxy } from './test-support.js';

// Slowloris and resource caps, with short limits so each case takes well under a second.
let test: TestProxy;
let port: number;
beforeAll(async () => {
  test = await startTestProxy(`proxy:
  read_max_bytes: 4096
  limits: { max_value_bytes: 4096 }
  connections:
    first_bytes_timeout_ms: 300
    headers_timeout_ms: 300
    body_idle_timeout_ms: 300
    keep_alive_timeout_ms: 300
    idle_session_timeout_ms: 400
    max_per_ip: 8
    max_open_streams: 3
    max_inflight_request_bytes: 3000
namespaces:
  - name: kv
    pattern: keyvalue
    backend: { type: memstore }
  - name: ps
    pattern: pubsub
    backend: { type: memstore }
`);
  port = test.proxy.port;
});
afterAll(() => test?.stop());

/** Opens a raw TCP connection, writes `chunks` (one every `everyMs`), and resolves with ms until the server closed it. */
function closedAfter(chunks: string[], everyMs = 100, maxMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length) s.write(chunks[i++] as string);
    }, everyMs);
    s.on('data', () => {});
    s.on('error', () => {});
    s.once('close', () => {
      clearInterval(timer);
      resolve(performance.now() - t0);
    });
    setTimeout(() => {
      s.destroy();
      reject(new Error(`still open after ${maxMs} ms`));
    }, maxMs);
  });
}

const GET = '/prism.keyvalue.v1.KeyValueBasicInterface/Get';
const getFrame = () => {
  const msg = Buffer.from([0x0a, 2, 0x6b, 0x76, 0x12, 1, 0x6b]); // { namespace: "kv", key: "k" }
  const head = Buffer.from([0, 0, 0, 0, msg.length]);
  return Buffer.concat([head, msg]);
};

describe('slow clients are closed', () => {
  it('a connection that sends nothing: after the first-bytes timeout', async () => {
    const ms = await closedAfter([]);
    expect(ms).toBeGreaterThan(250);
    expect(ms).toBeLessThan(1500);
  });

  it('HTTP/1.1 headers dripping a byte at a time: after the headers timeout, not later', async () => {
    const drip = ['POST /x HTTP/1.1\r\n', ...'Host: a\r\nX-Slow: abcdefghijklmnopqrstuvwxyz'.split('')];
    const ms = await closedAfter(drip, 50);
    expect(ms).toBeLessThan(1500);
  });

  it('HTTP/1.1 body that stops arriving: after the body idle timeout', async () => {
    const ms = await closedAfter([
      `POST ${GET} HTTP/1.1\r\nHost: a\r\nContent-Type: application/proto\r\nContent-Length: 100\r\n\r\n`,
      'abc',
    ]);
    expect(ms).toBeGreaterThan(250);
    expect(ms).toBeLessThan(1500);
  });

  it('an idle HTTP/1.1 keep-alive connection: after the keep-alive timeout', async () => {
    const ms = await closedAfter([`GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n`]);
    expect(ms).toBeLessThan(1500);
  });

  it('an HTTP/2 session without open streams gets a GOAWAY after the idle timeout', async () => {
    const session = http2.connect(test.proxy.url);
    const t0 = performance.now();
    const goaway = new Promise<number>((resolve) =>
      session.once('goaway', () => resolve(performance.now() - t0)),
    );
    await new Promise<void>((resolve) => {
      const s = session.request({
        ':method': 'POST',
        ':path': GET,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      s.on('data', () => {});
      s.on('close', () => resolve());
      s.end(getFrame());
    });
    expect(await goaway).toBeGreaterThan(350);
    session.destroy();
  });

  it('an HTTP/2 request body that stops arriving: the stream is cancelled, the session lives', async () => {
    const session = http2.connect(test.proxy.url);
    const s = session.request({
      ':method': 'POST',
      ':path': GET,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    s.on('data', () => {});
    s.on('error', () => {});
    s.write(getFrame().subarray(0, 4));
    const code = await new Promise<number>((resolve) => s.once('close', () => resolve(s.rstCode)));
    expect(code).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(session.destroyed).toBe(false);
    session.destroy();
  });
});

describe('caps', () => {
  it('connections per client IP: one over the limit is closed at once', async () => {
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        open.push(s);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(await closedAfter(['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'])).toBeLessThan(200);
      expect(open.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of open) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('open streams in the proxy: one over the limit gets RESOURCE_EXHAUSTED', async () => {
    const pubsub = createClient(PubSubBasicInterface, createGrpcTransport({ baseUrl: test.proxy.url }));
    const stop = new AbortController();
    const subscribe = () =>
      pubsub.subscribe({ namespace: 'ps', topic: 't' }, { signal: stop.signal })[Symbol.asyncIterator]();
    const held = [subscribe(), subscribe(), subscribe()];
    const firsts = held.map((it) => it.next().catch(() => undefined));
    await new Promise((r) => setTimeout(r, 200));
    const extra = await subscribe()
      .next()
      .then(
        () => 'ok',
        (err: unknown) => ConnectError.from(err),
      );
    stop.abort();
    await Promise.allSettled(firsts);
    expect(extra).toBeInstanceOf(ConnectError);
    expect((extra as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((extra as ConnectError).rawMessage).toMatch(/limit of 3 open streams/);
  });

  it('request bytes in flight: a body that would go over the budget gets RESOURCE_EXHAUSTED', async () => {
    const session = http2.connect(test.proxy.url);
    const headers = { ':method': 'POST', ':path': GET, 'content-type': 'application/grpc', te: 'trailers' };
    // Two uploads of 1,400 bytes held open (2,800 of the 3,000), then a third that does not fit.
    const slow = [session.request(headers), session.request(headers)];
    for (const s of slow) {
      s.on('error', () => {});
      s.write(Buffer.alloc(1400));
    }
    await new Promise((r) => setTimeout(r, 100));
    const third = session.request(headers);
    const status = await new Promise<string | undefined>((resolve) => {
      third.on('response', (h) => {
        if (h['grpc-status']) resolve(String(h['grpc-status']));
      });
      third.on('trailers', (t) => resolve(String(t['grpc-status'])));
      third.on('close', () => resolve(undefined));
      third.end(Buffer.concat([getFrame(), Buffer.alloc(1400)]));
    });
    expect(status).toBe(String(Code.ResourceExhausted));
    for (const s of slow) s.close();
    await new Promise((r) => setTimeout(r, 50));
    // Closed uploads give their bytes back.
    const ok = session.request(headers);
    const after = await new Promise<string | undefined>((resolve) => {
      ok.on('response', (h) => h['grpc-status'] && resolve(String(h['grpc-status'])));
      ok.on('trailers', (t) => resolve(String(t['grpc-status'])));
      ok.on('data', () => {});
      ok.end(getFrame());
    });
    expect(after).toBe('0');
    session.destroy();
  });
});
