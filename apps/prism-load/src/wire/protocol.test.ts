import { describe, expect, it } from '@jest/globals';
import { EnvelopeReader, encodeEnvelope, FLAG_GRPC_WEB_TRAILER, parseTrailerFrame } from './envelope.js';
import { requestBody, requestHeaders, streamEnvelope, unaryResult } from './protocol.js';

const msg = Buffer.from([8, 1, 18, 3, 97, 98, 99]);

describe('envelopes', () => {
  it('splits envelopes arriving in arbitrary chunks', () => {
    const stream = Buffer.concat([encodeEnvelope(msg), encodeEnvelope(Buffer.from('x'), 2)]);
    const reader = new EnvelopeReader();
    const got = [];
    for (let i = 0; i < stream.length; i += 3) got.push(...reader.push(stream.subarray(i, i + 3)));
    expect(got.map((e) => [e.flags, e.data.toString('hex')])).toEqual([
      [0, msg.toString('hex')],
      [2, '78'],
    ]);
    expect(reader.pending).toBe(0);
  });

  it('parses a gRPC-web trailer frame', () => {
    expect(parseTrailerFrame(Buffer.from('grpc-status: 5\r\nGrpc-Message: missing\r\n'))).toEqual({
      'grpc-status': '5',
      'grpc-message': 'missing',
    });
  });
});

describe('unaryResult', () => {
  const ok = (body: Buffer, extra: object = {}) => ({
    status: 200,
    headers: {},
    body,
    trailers: undefined,
    ...extra,
  });

  it('gRPC: message plus grpc-status trailers; trailers-only errors', () => {
    expect(unaryResult('grpc', ok(encodeEnvelope(msg), { trailers: { 'grpc-status': '0' } }))).toEqual({
      code: undefined,
      message: msg,
    });
    expect(unaryResult('grpc', ok(Buffer.alloc(0), { headers: { 'grpc-status': '5' } })).code).toBe(
      'NOT_FOUND',
    );
    expect(unaryResult('grpc', ok(encodeEnvelope(msg))).code).toBe('MISSING_STATUS');
    expect(unaryResult('grpc', { ...ok(Buffer.alloc(0)), status: 503 }).code).toBe('HTTP_503');
  });

  it('gRPC-web: status in the trailer frame', () => {
    const body = Buffer.concat([
      encodeEnvelope(msg),
      encodeEnvelope(Buffer.from('grpc-status: 14\r\n'), FLAG_GRPC_WEB_TRAILER),
    ]);
    expect(unaryResult('grpcweb', ok(body))).toEqual({ code: 'UNAVAILABLE', message: msg });
  });

  it('Connect: raw body on 200, JSON error code otherwise', () => {
    expect(unaryResult('connect', ok(msg))).toEqual({ code: undefined, message: msg });
    const err = {
      status: 400,
      headers: {},
      body: Buffer.from('{"code":"invalid_argument","message":"bad"}'),
      trailers: undefined,
    };
    expect(unaryResult('connect', err).code).toBe('INVALID_ARGUMENT');
    expect(unaryResult('connect', { ...err, status: 502, body: Buffer.from('<html>') }).code).toBe(
      'HTTP_502',
    );
  });
});

describe('requests and streams', () => {
  it('envelopes the body except for Connect unary', () => {
    expect(requestBody('connect', msg, false)).toBe(msg);
    expect(Buffer.from(requestBody('grpc', msg, false))).toEqual(encodeEnvelope(msg));
    expect(Buffer.from(requestBody('connect', msg, true))).toEqual(encodeEnvelope(msg));
    expect(requestHeaders('grpc', false)).toMatchObject({
      'content-type': 'application/grpc+proto',
      te: 'trailers',
    });
    expect(requestHeaders('connect', true)['content-type']).toBe('application/connect+proto');
  });

  it('recognises the end of Connect and gRPC-web streams', () => {
    expect(streamEnvelope('connect', { flags: 2, data: Buffer.from('{}') })).toEqual({
      kind: 'end',
      code: undefined,
    });
    expect(
      streamEnvelope('connect', { flags: 2, data: Buffer.from('{"error":{"code":"unavailable"}}') }),
    ).toEqual({
      kind: 'end',
      code: 'UNAVAILABLE',
    });
    expect(streamEnvelope('grpcweb', { flags: 0x80, data: Buffer.from('grpc-status: 0\r\n') })).toEqual({
      kind: 'end',
      code: undefined,
    });
    expect(streamEnvelope('grpc', { flags: 0, data: msg }).kind).toBe('data');
  });
});
