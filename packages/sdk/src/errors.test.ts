import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, isConnectionError, toConnectError } from './errors.js';

describe('error mapping', () => {
  it('recognises socket failures by code, through causes, and by the text of wrapped errors', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(
      isConnectionError(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) })),
    ).toBe(true);
    expect(isConnectionError(new ConnectError('Error: read ECONNRESET', Code.Internal))).toBe(true);
    expect(isConnectionError(new Error('duplicate key value violates unique constraint'))).toBe(false);
  });

  it('maps network failures to UNAVAILABLE and the rest to INTERNAL, naming where', () => {
    const down = toConnectError(
      Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }),
      'redis',
    );
    expect(down.code).toBe(Code.Unavailable);
    expect(down.rawMessage).toMatch(/^redis is unavailable/);
    expect(toConnectError(new Error('boom'), 'redis').code).toBe(Code.Internal);
    const passthrough = new ConnectError('bad key', Code.InvalidArgument);
    expect(toConnectError(passthrough, 'redis')).toBe(passthrough);
  });
});
