import http2 from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { SetRequestSchema } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { grpcFrame, grpcHeaders } from './h2load.js';

const SET_PATH = '/prism.keyvalue.v1.KeyValueBasicInterface/Set';

/** How `count` concurrent Sets of `bytes` each ended: grpc-status → calls. */
export type LargeOutcome = Record<string, number>;

/**
 * Sends `count` Set requests of `bytes`-byte values at once (one HTTP/2 connection each, all to one key),
 * the probe that once took a proxy from 84 to 614 MB: with `max_inflight_request_bytes` the excess gets
 * RESOURCE_EXHAUSTED (grpc-status 8) instead of being held.
 */
export async function largeSets(
  baseUrl: string,
  namespace: string,
  count: number,
  bytes: number,
): Promise<LargeOutcome> {
  const body = grpcFrame(
    toBinary(
      SetRequestSchema,
      create(SetRequestSchema, { namespace, key: 'large', value: new Uint8Array(bytes) }),
    ),
  );
  const one = () =>
    new Promise<string>((resolve) => {
      const session = http2.connect(baseUrl);
      session.on('error', () => resolve('connection error'));
      const s = session.request({ ':method': 'POST', ':path': SET_PATH, ...grpcHeaders() });
      let status: string | undefined;
      s.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      });
      s.on('trailers', (t) => {
        status = String(t['grpc-status']);
      });
      s.on('data', () => {});
      s.on('error', () => {});
      s.on('close', () => {
        session.close();
        resolve(status ?? 'no status');
      });
      s.end(body);
    });
  const out: LargeOutcome = {};
  for (const status of await Promise.all(Array.from({ length: count }, one)))
    out[status] = (out[status] ?? 0) + 1;
  return out;
}
