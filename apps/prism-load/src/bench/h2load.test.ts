import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetRequestSchema, GetResponseSchema } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { startEchoServer } from './echo-server.js';
import {
  grpcCall,
  grpcFrame,
  grpcHeaders,
  H2LOAD_INSTALL_HINT,
  h2loadArgs,
  h2loadLabel,
  h2loadVersion,
  parseH2load,
  runH2load,
} from './h2load.js';

// Recorded: h2load nghttp2/1.52.0, -c 1 -m 64 -D 2 --warm-up-time 1 against the bench's echo server.
const SAMPLE = `starting benchmark...
spawning thread #0: 1 total client(s). Timing-based test with 1s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
progress: 100% of clients started
Application protocol: h2c
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 3.00s, 34240.00 req/s, 34.78MB/s
requests: 68480 total, 68480 started, 68480 done, 68480 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 68480 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 69.55MB (72931688) total, 260.36KB (266605) headers (space savings 96.10%), 87.60MB (91852288) data
                     min         max         mean         sd        +/- sd
time for request:     1.16ms     32.89ms      1.84ms      2.28ms    93.93%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :   34239.18    34239.18    34239.18        0.00   100.00%
`;

// Recorded: a server answering 404 to everything (-n 100 -c 1 -m 8).
const NOT_FOUND = `starting benchmark...
spawning thread #0: 1 total client(s). 100 total requests
Application protocol: h2c
progress: 10% done
progress: 20% done
progress: 30% done
progress: 40% done
progress: 50% done
progress: 60% done
progress: 70% done
progress: 80% done
progress: 90% done
progress: 100% done

finished in 77.34ms, 1292.99 req/s, 28.30KB/s
requests: 100 total, 100 started, 100 done, 0 succeeded, 100 failed, 0 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 100 4xx, 0 5xx
traffic: 2.19KB (2241) total, 223B (223) headers (space savings 94.81%), 200B (200) data
                     min         max         mean         sd        +/- sd
time for request:      436us     50.92ms      6.10ms     13.66ms    92.00%
time for connect:      292us       292us       292us         0us   100.00%
time to 1st byte:    51.31ms     51.31ms     51.31ms         0us   100.00%
req/s           :    1296.75     1296.75     1296.75        0.00   100.00%
`;

// Recorded: nothing listening on the port.
const REFUSED = `starting benchmark...
spawning thread #0: 1 total client(s). 10 total requests

finished in 566us, 0.00 req/s, 0B/s
requests: 10 total, 0 started, 0 done, 0 succeeded, 10 failed, 10 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 0B (0) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
time for connect:        0us         0us         0us         0us     0.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :       0.00        0.00        0.00        0.00   100.00%
`;

describe('parseH2load', () => {
  it('reads requests, req/s, status codes and request latency from a recorded run', () => {
    expect(parseH2load(SAMPLE)).toEqual({
      finishedS: 3,
      reqPerS: 34240,
      requests: {
        total: 68480,
        started: 68480,
        done: 68480,
        succeeded: 68480,
        failed: 0,
        errored: 0,
        timeout: 0,
      },
      statusCodes: { '2xx': 68480, '3xx': 0, '4xx': 0, '5xx': 0 },
      latencyMs: { min: 1.16, max: 32.89, mean: 1.84, sd: 2.28 },
    });
  });

  it('converts µs and ms and counts non-2xx answers as failed', () => {
    const s = parseH2load(NOT_FOUND);
    expect(s.finishedS).toBeCloseTo(0.07734, 6);
    expect(s.requests).toMatchObject({ done: 100, succeeded: 0, failed: 100 });
    expect(s.statusCodes['4xx']).toBe(100);
    expect(s.latencyMs?.min).toBeCloseTo(0.436, 6);
    expect(s.latencyMs?.max).toBeCloseTo(50.92, 6);
  });

  it('has no latency when no request finished', () => {
    const s = parseH2load(REFUSED);
    expect(s.requests).toMatchObject({ errored: 10, done: 0 });
    expect(s.latencyMs).toBeUndefined();
  });

  it('rejects output without a summary', () => {
    expect(() => parseH2load('h2load: unrecognized option\n')).toThrow(/cannot parse h2load output/);
  });
});

describe('h2load command line', () => {
  it('posts the body file with the gRPC headers, one connection × 64 streams by default', () => {
    const args = h2loadArgs(
      {
        url: 'http://127.0.0.1:1/prism.keyvalue.v1.KeyValueBasicInterface/Get',
        body: new Uint8Array(),
        headers: grpcHeaders({ timeout: '5S' }),
        durationS: 2.5,
        warmupS: 1,
      },
      '/tmp/body.bin',
    );
    expect(args.join(' ')).toBe(
      '-c 1 -m 64 -t 1 -D 2500ms --warm-up-time 1000ms -d /tmp/body.bin -H content-type: application/grpc -H te: trailers -H grpc-timeout: 5S http://127.0.0.1:1/prism.keyvalue.v1.KeyValueBasicInterface/Get',
    );
    expect(h2loadLabel()).toBe('h2load -c1 -m64');
  });

  it('frames the message with the 5-byte gRPC prefix', () => {
    const msg = toBinary(GetRequestSchema, create(GetRequestSchema, { namespace: 'ns', key: 'k' }));
    const frame = grpcFrame(msg);
    expect([...frame.subarray(0, 5)]).toEqual([0, 0, 0, 0, msg.length]);
    expect(fromBinary(GetRequestSchema, frame.subarray(5))).toMatchObject({ namespace: 'ns', key: 'k' });
  });
});

// h2load comes from the Debian package nghttp2-client, which `npm test` installs (scripts/setup/10-debian-packages.sh).
const version = h2loadVersion();

describe('h2load against the bench echo server', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  const valueSize = 1024;
  const body = grpcFrame(toBinary(GetRequestSchema, create(GetRequestSchema, { namespace: 'x', key: 'k' })));
  const headers = grpcHeaders({ timeout: '5S' });
  let url: string;
  beforeAll(async () => {
    echo = await startEchoServer(valueSize);
    url = `http://127.0.0.1:${echo.port}/prism.keyvalue.v1.KeyValueBasicInterface/Get`;
  });
  afterAll(async () => {
    await echo?.close();
  });

  it('answers the same request h2load sends with grpc-status 0 and a found GetResponse', async () => {
    const r = await grpcCall(url, body, headers);
    expect(r).toMatchObject({ httpStatus: 200, code: undefined });
    const res = fromBinary(GetResponseSchema, r.message ?? new Uint8Array());
    expect(res.found).toBe(true);
    expect(res.value.length).toBe(valueSize);
  });

  it('runs for 1 s with -c1 -m64 and parses the summary', async () => {
    if (!version) throw new Error(H2LOAD_INSTALL_HINT);
    const s = await runH2load({ url, body, headers, durationS: 1, warmupS: 0.2 });
    expect(s.requests.succeeded).toBeGreaterThan(100);
    expect(s.requests.failed).toBe(0);
    // Streams in flight when the warm-up ends can have their status counted before h2load resets its
    // statistics and their completion after: the two counts differ by at most the streams in flight.
    expect(Math.abs(s.statusCodes['2xx'] - s.requests.succeeded)).toBeLessThanOrEqual(64);
    expect(s.reqPerS).toBeGreaterThan(100);
    expect(s.latencyMs?.mean).toBeGreaterThan(0);
  });

  it('rejects a run in which nothing succeeded', async () => {
    if (!version) throw new Error(H2LOAD_INSTALL_HINT);
    await expect(runH2load({ url: 'http://127.0.0.1:1/x', body, durationS: 0.2 })).rejects.toThrow(
      /no request succeeded/,
    );
  });
});
