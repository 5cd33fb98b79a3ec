import http2 from 'node:http2';
import type net from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { GetResponseSchema } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { makeValue } from '../payload.js';
import { encodeEnvelope, FLAG_GRPC_WEB_TRAILER } from '../wire/envelope.js';

/**
 * The ceiling: a bare `node:http2` server (core stream API, no framework) that reads each request and
 * answers a pre-encoded GetResponse of `valueSize` bytes in whichever protocol the request used. What
 * the proxy adds is measured against this, driven by the same load generator.
 */
export function startEchoServer(
  valueSize: number,
  port = 0,
): Promise<{ port: number; close(): Promise<void> }> {
  const message = toBinary(
    GetResponseSchema,
    create(GetResponseSchema, { found: true, value: makeValue(valueSize) }),
  );
  const enveloped = encodeEnvelope(message);
  const webBody = Buffer.concat([
    enveloped,
    encodeEnvelope(Buffer.from('grpc-status: 0\r\n'), FLAG_GRPC_WEB_TRAILER),
  ]);
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const type = String(headers['content-type'] ?? '');
    stream.on('data', () => {}); // read and drop the request
    stream.on('error', () => {});
    stream.once('end', () => {
      if (type.startsWith('application/grpc-web')) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc-web+proto' });
        stream.end(webBody);
      } else if (type.startsWith('application/grpc')) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc+proto' },
          { waitForTrailers: true },
        );
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(enveloped);
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/proto' });
        stream.end(message);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sessions) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
